"""listpkgs, getpkginfo, addpkg, editpkg, killpkg: hosting plans (cPanel "packages").

Matches cPanel's WHM API 1 reference (openapi/cpanel-packages-api-openapi.yml) and, where it is
silent, cPanel 11.120's Whostmgr/API/1/Packages.pm and Whostmgr/Packages/*.pm. Choices:

* Ownership. cPanel knows a reseller's packages only by their `RESELLER_` name prefix, and a
  root package is "global" when its name has no underscore. gatehouse keeps cPanel's naming (a
  reseller's addpkg/editpkg `name=gold` is `RESELLER_gold`) but decides ownership by the
  stored owner: a reseller sees and changes only packages it created, and "global" means
  root-owned, whatever the name.
* listpkgs `want=all` shows a reseller every package on the server in cPanel; gatehouse
  confines it like `viewable`. Without `want`, cPanel's code lists `creatable` (the reference
  says `all`); gatehouse follows the code.
* An unknown package and one the caller may not see answer alike, in cPanel's words for
  killpkg (`The package “X” does not exist.` for root, `You do not have access to a package
  named “X”.` for a reseller), so a reseller cannot probe for other resellers' packages.
* editpkg of a package that does not exist creates it (as the reference says), but only for a
  caller that also holds `add-pkg`; otherwise it is refused as unknown.
* The `default` package cannot be removed (cPanel re-creates it; accounts fall back to it).
* Package extensions are not supported: a non-empty `_PACKAGE_EXTENSIONS` is refused.
"""

from __future__ import annotations

from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param, Reply
from gatehouse.domain import access, audit, packages, reseller_limits, reseller_packages
from gatehouse.domain.packages import Package
from gatehouse.errors import GatehouseError, InvalidParameter, NotFound
from gatehouse.whm import api0
from gatehouse.whm.registry import REGISTRY

WANTS = ("all", "creatable", "editable", "viewable")
# getpkginfo answers these as null when unlimited, and these switches as 1/0 (Packages.pm).
_NULL_WHEN_UNLIMITED = (
    "BWLIMIT", "MAXFTP", "MAXADDON", "MAXLST", "MAXPARK", "MAXPOP", "MAXSQL", "MAXSUB", "QUOTA",
)  # fmt: skip
_NUMERIC_SWITCHES = ("CGI", "HASSHELL", "IP")

_SETTING_PARAMS = tuple(
    Param(f.param, f.help, type="boolean" if f.kind == "flag" else "string")
    for f in packages.FIELDS
)
_NAME_PARAMS = (
    Param("name", "The package's name (or `pkgname`). A reseller's is prefixed `RESELLER_`."),
    Param("pkgname", "Another spelling of `name`."),
)


# -- who may see what ----------------------------------------------------------------------


def _is_root(call: Call) -> bool:
    """Root, or a reseller holding `all` (cPanel's hasroot). Choice kept from before the
    access rule: here the reseller's own privileges count, not its token's (access.Actor)."""
    user = call.principal.user
    return access.Actor(user, user.privileges).sees_all


def _visible_owners(call: Call, want: str) -> list[str] | None:
    """Whose packages the caller sees (None: everyone's)."""
    if _is_root(call):
        return None
    owners = [call.principal.user.username]
    if want != "editable" and acls.holds(call.principal.privileges, "viewglobalpackages"):
        owners.append("root")
    return owners


def _unknown(call: Call, name: str) -> NotFound:
    if _is_root(call):
        return NotFound(f"The package “{name}” does not exist.")
    return NotFound(f"You do not have access to a package named “{name}”.")


def _may_see(call: Call, package: Package, want: str) -> bool:
    owners = _visible_owners(call, want)
    if owners is None or package.owner in owners:
        return True
    # Every account may be put on `default` (createacct without a plan does so; the life-cycle
    # functions' lifecycle.package_visible agrees), so every reseller sees it, never edits it.
    # cPanel hides it from a reseller without viewglobalpackages.
    return package.name == packages.DEFAULT_PACKAGE and want != "editable"


def _find(call: Call, name: str, want: str, *, for_update: bool = False) -> Package:
    package = packages.get(call.conn, name, for_update=for_update)
    if package is None or not _may_see(call, package, want):
        raise _unknown(call, name)
    return package


# -- parameters ----------------------------------------------------------------------------


def _setting_params(call: Call) -> dict[str, str | None]:
    """The package settings given, by lower-case parameter name. cPanel lower-cases every
    key (so `QUOTA`, `MAX_EMAIL_PER_HOUR` work) and reads `LANG` as `language`; the exact
    lower-case spelling wins over another."""
    found: dict[str, str | None] = {}
    for key in call.params:
        lowered = key.lower()
        lowered = packages.PARAM_ALIASES.get(lowered, lowered)
        if lowered in packages.BY_PARAM and (lowered not in found or key == lowered):
            found[lowered] = call.params.get(key)
    return found


def _requested_name(call: Call) -> str:
    name = call.params.get("name")
    if name is None or not name.strip():
        name = call.params.get("pkgname")
    if name is None or not name.strip():
        raise InvalidParameter("No package supplied: “pkgname” or “name” is a required argument.")
    packages.validate_name(name)
    resolved = packages.name_for(call.principal.user.username, name, is_root=_is_root(call))
    packages.validate_name(resolved)
    return resolved


def _refuse_extensions(call: Call) -> None:
    for key in call.params:
        if key.startswith("_PACKAGE_EXTENSIONS") and (call.params.get(key) or "").strip():
            raise InvalidParameter("This server does not support package extensions.")


def _describe(settings: dict[str, str]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(settings.items()))


# -- output --------------------------------------------------------------------------------


def _listed(package: Package) -> dict[str, Any]:
    # Choice: values are strings, as cPanel's package files give them ("100", "unlimited",
    # "y"); the reference's schema says integer, cPanel's code never converts them.
    return {"name": package.name, **package.settings, "_PACKAGE_EXTENSIONS": ""}


def _info(package: Package) -> dict[str, Any]:
    info: dict[str, Any] = dict(package.settings)
    for key in _NULL_WHEN_UNLIMITED:
        if info.get(key) == packages.UNLIMITED:
            info[key] = None
    for key in _NUMERIC_SWITCHES:
        info[key] = 1 if info.get(key) == "y" else 0
    info["FRONTPAGE"] = 0
    info["_PACKAGE_EXTENSIONS"] = ""
    return info


# -- functions -----------------------------------------------------------------------------


@REGISTRY.function(
    "listpkgs",
    "The hosting plans the caller may use (`want`: creatable, viewable, editable or all).",
    params=(Param("want", "creatable (default), viewable, editable or all."),),
    privileges=("list-pkgs",),
    readonly=True,
    api0=api0.listpkgs,
)
def listpkgs(call: Call) -> dict[str, Any]:
    want = (call.params.get("want") or "creatable").strip().lower()
    if want not in WANTS:
        raise InvalidParameter(
            f"Invalid value “{want}” for “want”: use “all”, “creatable”, “editable” or “viewable”."
        )
    user = call.principal.user
    creatable = want == "creatable" and user.is_reseller and not _is_root(call)
    found = [
        p
        for p in packages.list_all(call.conn)
        if _may_see(call, p, want)
        # Packages root allowed the reseller (setresellerpackagelimit) are creatable too.
        or (creatable and reseller_packages.granted(call.conn, user, p))
    ]
    if creatable:
        # Only the packages the reseller's limits let it create an account on (cPanel's
        # Whostmgr::Packages::Fetch does the same for `creatable`).
        usable = []
        for package in found:
            try:
                reseller_limits.check_can_create(call.conn, user, package.settings, package)
            except GatehouseError:
                continue
            usable.append(package)
        found = usable
    return {"pkg": [_listed(p) for p in found]}


@REGISTRY.function(
    "getpkginfo",
    "One hosting plan's settings (unlimited limits as null, CGI/HASSHELL/IP as 1/0).",
    params=(Param("pkg", "The package's name.", required=True),),
    privileges=("list-pkgs",),
    readonly=True,
)
def getpkginfo(call: Call) -> dict[str, Any]:
    name = call.require("pkg")
    return {"pkg": _info(_find(call, name, "viewable"))}


@REGISTRY.function(
    "addpkg",
    "Create a hosting plan. Unlimited values, shell, a dedicated IP, parked/addon domains and "
    "email limits each need their package privilege.",
    params=(*_NAME_PARAMS, *_SETTING_PARAMS),
    privileges=("add-pkg",),
    api0=api0.addpkg,
)
def addpkg(call: Call) -> dict[str, Any]:
    return _create(call, _requested_name(call))


def _create(call: Call, name: str) -> dict[str, Any]:
    _refuse_extensions(call)
    settings = packages.build_settings(_setting_params(call), call.principal.privileges)
    user = call.principal.user
    created = packages.create(call.conn, name, user.username, settings, call.now)
    if not _is_root(call):
        reseller_packages.allow_new_package(
            call.conn, user, created, reseller_limits.get(call.conn, user)
        )
    call.audit(audit.PACKAGE_CREATE, name, _describe(settings))
    return {"pkg": name}


@REGISTRY.function(
    "editpkg",
    "Change a hosting plan and every account on it (settings not given are kept).",
    params=(*_NAME_PARAMS, *_SETTING_PARAMS),
    privileges=("edit-pkg",),
    api0=api0.editpkg,
)
def editpkg(call: Call) -> dict[str, Any]:
    name = _requested_name(call)
    _refuse_extensions(call)
    try:
        package = _find(call, name, "editable", for_update=True)
    except NotFound:
        exists = packages.get(call.conn, name) is not None
        if exists or not acls.holds(call.principal.privileges, "add-pkg"):
            raise
        # The reference: "If the hosting plan does not exist, the system will create it."
        return _create(call, name)
    before = package.settings
    after = packages.build_settings(_setting_params(call), call.principal.privileges, before)
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    if changed:
        packages.update(call.conn, name, after)
        # cPanel applies the change to the accounts on the package that the caller owns
        # (all of them for root): a reseller never changes another's account this way.
        owner = None if _is_root(call) else call.principal.user.username
        touched = packages.apply_to_accounts(call.conn, name, before, after, owner)
        detail = " ".join(f"{k}={before.get(k)}→{v}" for k, v in sorted(changed.items()))
        call.audit(audit.PACKAGE_EDIT, name, f"{detail}; accounts: {len(touched)}")
    return {"pkg": name}


@REGISTRY.function(
    "killpkg",
    "Remove a hosting plan; refused while any account uses it.",
    params=(Param("pkgname", "The package's full name.", required=True, handler_refuses=True),),
    privileges=("add-pkg",),
    api0=api0.killpkg,
)
def killpkg(call: Call) -> Reply:
    name = call.params.get("pkgname")
    if name is None or name == "":
        raise InvalidParameter("You must specify a package.")
    package = _find(call, name, "editable", for_update=True)
    if package.name == packages.DEFAULT_PACKAGE:
        raise InvalidParameter(
            "The “default” package cannot be removed: accounts created without a package use it."
        )
    packages.delete(call.conn, package.name)
    call.audit(audit.PACKAGE_DELETE, package.name)
    return Reply(has_data=False)
