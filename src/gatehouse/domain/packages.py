"""Hosting plans (cPanel "packages"): names, settings and their validation.

Settings are kept as cPanel keeps them in /var/cpanel/packages/NAME: upper-case keys, string
values, `unlimited` for no limit, `y`/`n` for switches. addpkg/editpkg take the lower-case
parameter names below (cPanel also accepts them upper-cased, and `LANG` for `language`).

Sources: cPanel's WHM API 1 reference for addpkg/editpkg/getpkginfo/listpkgs/killpkg
(api-evangelist/cpanel openapi/cpanel-packages-api-openapi.yml, 11.137) and, where the
reference is silent or contradicts itself, cPanel 11.120's Whostmgr/Packages/*.pm (read for
facts only). Every choice made between them is marked "Choice:" below.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gatehouse import acls
from gatehouse.errors import Conflict, InvalidParameter, NotFound, PermissionDenied
from gatehouse.numerals import digits
from gatehouse.store.schema import packages, users

DEFAULT_PACKAGE = "default"
UNLIMITED = "unlimited"
MAX_LIMIT = 999_999_999  # quota and bandwidth, in MB
MAX_COUNT = 999_999  # the reference's maximum for counts (FTP, email, databases...)
MAX_NAME = 64  # packages.name is String(64)


@dataclass(frozen=True, slots=True)
class Field:
    param: str  # addpkg/editpkg/createacct parameter
    key: str  # stored key, as in cPanel's package files and listpkgs output
    kind: str  # limit (whole number or "unlimited") | flag (y/n) | text
    default: str  # for a caller that may choose any value (root)
    help: str
    maximum: int = MAX_COUNT
    minimum: int = 0
    # `unlimited` needs this privilege (Whostmgr::Packages::Info `unlimited_acl`).
    unlimited_acl: str | None = None
    # Any value but the default needs this privilege (Info `allow_acl`).
    allow_acl: str | None = None
    # The default for a caller without `unlimited_acl` (Info `limited_default`).
    limited_default: str | None = None
    # 0 is another spelling of unlimited (the reference says so for these fields only).
    zero_is_unlimited: bool = False
    may_be_unlimited: bool = True
    pattern: re.Pattern[str] | None = None  # text fields


_FEATURELIST_RE = re.compile(r"^[A-Za-z0-9 ._-]{1,64}\Z")
_THEME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")
_LOCALE_RE = re.compile(r"^[a-z]{2,3}(?:[_-][A-Za-z0-9]{1,8}){0,3}\Z")

FIELDS: tuple[Field, ...] = (
    # Choice: the reference gives quota/bwlimit/max_emailacct_quota defaults of 10240 MB,
    # 1048576 MB and 1024 MB; cPanel's code defaults to unlimited for a caller allowed
    # unlimited values and to a limited default otherwise. gatehouse does both: unlimited for
    # root (and resellers with the privilege), the reference's numbers for the others.
    # Choice: the reference's maximum of 999999 MB for quota/bwlimit contradicts its own
    # bwlimit default (1048576), so these two take up to 999999999 MB.
    Field("quota", "QUOTA", "limit", UNLIMITED, "Disk quota in MB (0 or unlimited: none).",
          maximum=MAX_LIMIT, unlimited_acl="allow-unlimited-disk-pkgs",
          limited_default="10240", zero_is_unlimited=True),
    Field("bwlimit", "BWLIMIT", "limit", UNLIMITED,
          "Monthly bandwidth in MB (0 or unlimited: none).",
          maximum=MAX_LIMIT, unlimited_acl="allow-unlimited-bw-pkgs",
          limited_default="1048576", zero_is_unlimited=True),
    Field("maxftp", "MAXFTP", "limit", UNLIMITED, "FTP accounts.",
          unlimited_acl="allow-unlimited-pkgs", limited_default="0"),
    Field("maxpop", "MAXPOP", "limit", UNLIMITED, "Email accounts.",
          unlimited_acl="allow-unlimited-pkgs", limited_default="0"),
    Field("maxlst", "MAXLST", "limit", UNLIMITED, "Mailing lists.",
          unlimited_acl="allow-unlimited-pkgs", limited_default="0"),
    Field("maxsql", "MAXSQL", "limit", UNLIMITED, "Databases of each type.",
          unlimited_acl="allow-unlimited-pkgs", limited_default="0"),
    Field("maxsub", "MAXSUB", "limit", UNLIMITED, "Subdomains.",
          unlimited_acl="allow-unlimited-pkgs", limited_default="0"),
    Field("maxpark", "MAXPARK", "limit", "0", "Parked domains (aliases).",
          unlimited_acl="allow-unlimited-pkgs", allow_acl="allow-parkedcreate"),
    Field("maxaddon", "MAXADDON", "limit", "0", "Addon domains.",
          unlimited_acl="allow-unlimited-pkgs", allow_acl="allow-addoncreate"),
    Field("max_emailacct_quota", "MAX_EMAILACCT_QUOTA", "limit", UNLIMITED,
          "Largest quota of one email account, in MB (0 or unlimited: none).",
          maximum=4_294_967_296, unlimited_acl="allow-unlimited-pkgs",
          limited_default="1024", zero_is_unlimited=True),
    Field("max_email_per_hour", "MAX_EMAIL_PER_HOUR", "limit", UNLIMITED,
          "Outgoing messages per hour (0 or unlimited: none).",
          allow_acl="allow-emaillimits-pkgs", zero_is_unlimited=True),
    Field("max_defer_fail_percentage", "MAX_DEFER_FAIL_PERCENTAGE", "limit", UNLIMITED,
          "Deferred or failed messages per hour, in percent (1-100; 0 or unlimited: none).",
          maximum=100, allow_acl="allow-emaillimits-pkgs", zero_is_unlimited=True),
    Field("max_team_users", "MAX_TEAM_USERS", "limit", "7", "Team users (0-7).",
          maximum=7, may_be_unlimited=False),
    Field("hasshell", "HASSHELL", "flag", "n", "Shell access (1 or 0).",
          allow_acl="add-pkg-shell"),
    Field("cgi", "CGI", "flag", "y", "CGI access (1 or 0)."),
    Field("digestauth", "DIGESTAUTH", "flag", "n", "Digest authentication for Web Disk."),
    Field("ip", "IP", "flag", "n", "A dedicated IP address (y or n).", allow_acl="add-pkg-ip"),
    Field("featurelist", "FEATURELIST", "text", "default", "The feature list.",
          pattern=_FEATURELIST_RE),
    Field("cpmod", "CPMOD", "text", "jupiter", "The cPanel theme.", pattern=_THEME_RE),
    Field("language", "LANG", "text", "en", "The locale (for example en, de, pt_br).",
          pattern=_LOCALE_RE),
)  # fmt: skip
BY_PARAM: dict[str, Field] = {f.param: f for f in FIELDS}
BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
# Other spellings cPanel's _modpkg accepts (it lower-cases every key and maps LANG).
PARAM_ALIASES: dict[str, str] = {"lang": "language"}


def default_settings() -> dict[str, str]:
    return {f.key: f.default for f in FIELDS}


# -- names ---------------------------------------------------------------------------------

_NAME_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ._-")
RESERVED_NAMES = frozenset({"undefined", "extensions"})


def validate_name(name: str) -> None:
    """cPanel's Cpanel::Validate::PackageName: letters, digits, spaces, `.`, `_`, `-` and
    multi-byte characters; not `.`/`..`, not only spaces, not a reserved name."""
    if not name or not name.strip():
        raise InvalidParameter("No package supplied: “pkgname” or “name” is a required argument.")
    if name in RESERVED_NAMES:
        raise InvalidParameter(f"“{name}” is a reserved package name.")
    bad = [c for c in name if c not in _NAME_ALLOWED and (c.isascii() or not c.isprintable())]
    if bad or name in (".", "..") or name.endswith(".cache"):
        raise InvalidParameter(
            f"“{name}” is invalid. A package name may only contain multi-byte UTF-8 characters, "
            "spaces, and the following: a-z, A-Z, 0-9, ., _, -"
        )
    if len(name) > MAX_NAME:
        raise InvalidParameter(
            f"The package name “{name}” is too long: it may contain at most {MAX_NAME} characters."
        )


def name_for(caller: str, name: str, *, is_root: bool) -> str:
    """The name a package gets when `caller` creates or edits `name`: cPanel prefixes a
    reseller's package names with `RESELLER_` (removing a prefix already given), so reseller
    packages never collide with root's or with each other's (Whostmgr::Packages::Mod)."""
    if is_root:
        return name
    prefix = f"{caller}_"
    return prefix + (name[len(prefix) :] if name.startswith(prefix) else name)


# -- values --------------------------------------------------------------------------------


def _invalid(raw: str, field: Field) -> InvalidParameter:
    return InvalidParameter(f"Invalid value “{raw}” for the “{field.param}” setting.")


def _normalise(field: Field, raw: str) -> str:
    value = raw.strip()
    if field.kind == "limit":
        lowered = value.lower()
        if lowered in ("", UNLIMITED, "null") and field.may_be_unlimited:
            return UNLIMITED
        if not digits(value):
            raise InvalidParameter(
                f"Invalid numeric value “{raw}” for the “{field.param}” setting."
            )
        number = int(value)
        if number == 0 and field.zero_is_unlimited:
            return UNLIMITED
        if number < field.minimum or number > field.maximum:
            raise _invalid(raw, field)
        return str(number)
    if field.kind == "flag":
        lowered = value.lower()
        if lowered in ("1", "y", "yes", "on"):
            return "y"
        if lowered in ("0", "n", "no", "off", ""):
            return "n"
        raise _invalid(raw, field)
    if field.pattern is not None and not field.pattern.match(value):
        raise _invalid(raw, field)
    return value


def parse_settings(
    params: Mapping[str, str | None], base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Settings from request parameters, on top of `base` (default: cPanel's defaults).
    No privilege checks: for callers that already decided the caller may set anything."""
    settings = with_defaults(base) if base is not None else default_settings()
    for field in FIELDS:
        raw = params.get(field.param)
        if raw is not None:
            settings[field.key] = _normalise(field, raw)
    return settings


def build_settings(
    params: Mapping[str, str | None],
    held: Iterable[str],
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """addpkg (`base` None) and editpkg (`base` = the current settings) with cPanel's package
    privileges applied for a caller holding `held`.

    Choice: cPanel silently replaces what a reseller may not set (shell and dedicated IP
    become "n", unlimited counts become 0, parked/addon domains 0). gatehouse refuses the call
    instead, naming the privilege, so a billing system never believes it sold what it did not
    — and nothing is written. Values the caller may not choose still default as cPanel's do.
    A value that is already unlimited in the package being edited may stay unlimited (as in
    cPanel's _determine_actual_value / _enforce_limits)."""
    held = frozenset(held)
    current = with_defaults(base) if base is not None else None
    settings: dict[str, str] = {}
    for field in FIELDS:
        raw = params.get(field.param)
        if raw is None or raw.strip() == "":
            # Absent (or empty, as cPanel treats it): keep what is there, else the default
            # this caller gets.
            settings[field.key] = (
                current[field.key] if current is not None else _default_for(field, held)
            )
            continue
        value = _normalise(field, raw)
        before = current[field.key] if current is not None else _default_for(field, held)
        if value != before:
            if field.allow_acl and not acls.holds(held, field.allow_acl):
                raise PermissionDenied(
                    f"Setting “{field.param}” to “{raw}” requires the “{field.allow_acl}” "
                    "privilege."
                )
            if (
                value == UNLIMITED
                and field.unlimited_acl
                and not acls.holds(held, field.unlimited_acl)
            ):
                spelled = "" if raw.strip().lower() == UNLIMITED else " (unlimited)"
                raise PermissionDenied(
                    f"Setting “{field.param}” to “{raw}”{spelled} requires the "
                    f"“{field.unlimited_acl}” privilege."
                )
        settings[field.key] = value
    return settings


def _default_for(field: Field, held: frozenset[str]) -> str:
    if (
        field.default == UNLIMITED
        and field.unlimited_acl
        and not acls.holds(held, field.unlimited_acl)
    ):
        return field.limited_default or "0"
    return field.default


def with_defaults(settings: Mapping[str, Any] | None) -> dict[str, str]:
    """Stored settings with any key a newer gatehouse added filled in (as cPanel's
    load_package fills IP, FEATURELIST, LANG...). Unknown keys are kept."""
    merged = default_settings()
    if settings:
        merged.update({str(k): str(v) for k, v in settings.items()})
    return merged


def is_unlimited(value: str | None) -> bool:
    return value is None or value == UNLIMITED


MIB = 1024 * 1024


def limit_bytes(limits: Mapping[str, Any], key: str) -> int:
    """A limit kept in MB (QUOTA, BWLIMIT) in bytes, as cPanel's cpuser data and StatsBar
    count it; 0 when unlimited (or not a number)."""
    value = str(limits.get(key, UNLIMITED))
    return int(value) * MIB if digits(value) else 0


# -- store ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Package:
    id: int
    name: str
    owner: str
    settings: dict[str, str]
    created_time: int


def _from_row(row: Any) -> Package:
    return Package(row.id, row.name, row.owner, with_defaults(row.settings), int(row.created_time))


_BY_NAME = sa.select(packages).where(packages.c.name == sa.bindparam("name"))
# PostgreSQL: hold the row until commit, so that killpkg/editpkg and a concurrent
# createacct/changepackage (which should lock it FOR SHARE) serialise.
_BY_NAME_FOR_UPDATE = _BY_NAME.with_for_update()
_EVERY = sa.select(packages)
_OWNED_BY = _EVERY.where(packages.c.owner == sa.bindparam("owner"))


def get(conn: sa.Connection, name: str, *, for_update: bool = False) -> Package | None:
    query = _BY_NAME_FOR_UPDATE if for_update else _BY_NAME
    row = conn.execute(query, {"name": name}).first()
    return _from_row(row) if row else None


def lock_for_use(conn: sa.Connection, name: str) -> Package | None:
    """For createacct/changepackage: read the package and keep killpkg from removing it
    before this transaction commits (FOR SHARE on PostgreSQL; SQLite has one writer)."""
    row = conn.execute(
        sa.select(packages).where(packages.c.name == name).with_for_update(read=True)
    ).first()
    return _from_row(row) if row else None


def require(conn: sa.Connection, name: str) -> Package:
    package = get(conn, name)
    if package is None:
        raise NotFound(f"The package “{name}” does not exist.")
    return package


def list_all(conn: sa.Connection, owner: str | None = None) -> list[Package]:
    found = conn.execute(_EVERY) if owner is None else conn.execute(_OWNED_BY, {"owner": owner})
    # Sorted here, by code point, so both backends agree whatever PostgreSQL's collation.
    return sorted((_from_row(r) for r in found), key=lambda p: p.name)


def create(
    conn: sa.Connection, name: str, owner: str, settings: dict[str, str], now: int
) -> Package:
    validate_name(name)
    if get(conn, name) is not None:
        raise Conflict(
            f"The package “{name}” already exists. If you wish to make changes, please edit "
            "the package."
        )
    try:
        conn.execute(
            sa.insert(packages).values(name=name, owner=owner, settings=settings, created_time=now)
        )
    except sa.exc.IntegrityError as exc:  # a concurrent addpkg won the race
        raise Conflict(
            f"The package “{name}” already exists. If you wish to make changes, please edit "
            "the package."
        ) from exc
    return require(conn, name)


def update(conn: sa.Connection, name: str, settings: dict[str, str]) -> Package:
    require(conn, name)
    conn.execute(sa.update(packages).where(packages.c.name == name).values(settings=settings))
    return require(conn, name)


def accounts_using(conn: sa.Connection, name: str) -> int:
    query = sa.select(sa.func.count()).select_from(users).where(users.c.plan == name)
    return int(conn.execute(query).scalar_one())


def in_use_reason(name: str) -> str:
    # cPanel's own wording (Whostmgr::Packages::__killpkg).
    return (
        f"You must move all accounts using the package “{name}” to another package before "
        "removing it."
    )


def delete(conn: sa.Connection, name: str) -> None:
    if get(conn, name, for_update=True) is None:
        raise NotFound(f"The package “{name}” does not exist.")
    if accounts_using(conn, name):
        raise Conflict(in_use_reason(name))
    conn.execute(sa.delete(packages).where(packages.c.name == name))


def apply_to_accounts(
    conn: sa.Connection,
    name: str,
    before: Mapping[str, str],
    after: Mapping[str, str],
    owner: str | None = None,
) -> list[str]:
    """editpkg: copy the settings that changed into users.limits of the accounts on the
    package (only those `owner` owns, when given). Returns the account names changed.

    Choice: only the changed keys are written, so an account's own values (set with
    modifyacct) for settings the edit did not touch survive."""
    changed = {k: v for k, v in after.items() if before.get(k) != v}
    query = sa.select(users.c.id, users.c.username, users.c.limits).where(users.c.plan == name)
    if owner is not None:
        query = query.where(sa.or_(users.c.owner == owner, users.c.username == owner))
    touched = []
    for row in conn.execute(query).all():
        if not changed:
            break
        limits = dict(row.limits) if isinstance(row.limits, dict) else dict(before)
        limits.update(changed)
        conn.execute(sa.update(users).where(users.c.id == row.id).values(limits=limits))
        touched.append(row.username)
    return sorted(touched)


def transfer_owned(conn: sa.Connection, from_owner: str, to_owner: str) -> int:
    """Packages of a reseller that goes away pass to whoever takes its accounts (never left
    owned by a name that no longer exists or is no longer a reseller)."""
    result = conn.execute(
        sa.update(packages).where(packages.c.owner == from_owner).values(owner=to_owner)
    )
    return int(result.rowcount or 0)
