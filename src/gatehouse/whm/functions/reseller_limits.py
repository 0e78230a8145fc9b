"""setresellerlimits, getresellerlimits and setresellerpackagelimit (root only).

setresellerlimits takes cPanel's parameters (Whostmgr/API/1/Resellers.pm): only those given
change, the others keep their stored value; success is a metadata-only "OK", and a user that is
not a reseller is refused with cPanel's "Specified user is not a reseller.".

cPanel has no getresellerlimits (it shows limits through acctcounts and resellerstats); the
gatehouse function answers in setresellerlimits' own parameter names, so that what one returns
can be sent back to the other, plus what the reseller has handed out (`usage`) and its
per-package limits (`packages`).

setresellerpackagelimit takes cPanel's `user`, `no_limit`, `package`, `allowed` and `number`
(Whostmgr::Resellers::set_reseller_package_limit): `no_limit=1` removes every package limit of
the reseller; else the package must exist (`Selected package does not exist.  Limits can not
be set.`, two spaces) and `allowed` (0/1) and `number` (accounts) are set when given. What they
do: gatehouse.domain.reseller_packages.
"""

from __future__ import annotations

from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param, Reply
from gatehouse.domain import audit, packages, reseller_limits, reseller_packages, users
from gatehouse.errors import InvalidParameter
from gatehouse.numerals import digits
from gatehouse.whm import api0
from gatehouse.whm.registry import REGISTRY

ROOT_ONLY = (acls.ALL,)
MAX_NUMBER = 10**15


def _reseller(call: Call) -> users.User:
    username = call.require("user").strip()
    user = users.get(call.conn, username)
    if user is None or user.is_root or not user.is_reseller:
        raise InvalidParameter("Specified user is not a reseller.")
    return user


def _number(call: Call, name: str) -> int | None:
    raw = call.params.get(name)
    assert raw is not None
    value = raw.strip()
    if value == "":
        # Choice: an empty value clears the number (no cap), where cPanel's `abs int` made it 0.
        return None
    if not digits(value) or int(value) > MAX_NUMBER:
        raise InvalidParameter(
            f"The “{name}” parameter must be a nonnegative integer, not “{raw}”."
        )
    return int(value)


_FLAG_PARAMS = ("enable_overselling", *reseller_limits.FLAGS)


@REGISTRY.function(
    "setresellerlimits",
    "Set a reseller's account, disk and bandwidth limits (checked when it creates or "
    "re-packages accounts).",
    params=(
        Param("user", "The reseller.", required=True),
        Param("enable_account_limit", "1: limit the number of accounts.", type="boolean"),
        Param("account_limit", "Most accounts the reseller may own.", type="integer"),
        Param("enable_resource_limits", "1: limit disk and bandwidth.", type="boolean"),
        Param("diskspace_limit", "Disk space (MB) the reseller may hand out.", type="integer"),
        Param("bandwidth_limit", "Bandwidth (MB) the reseller may hand out.", type="integer"),
        Param("enable_overselling", "1: oversell both disk and bandwidth.", type="boolean"),
        Param("enable_overselling_bandwidth", "1: bandwidth may be oversold.", type="boolean"),
        Param("enable_overselling_diskspace", "1: disk space may be oversold.", type="boolean"),
        Param(
            "enable_package_limits",
            "1: only the packages allowed with setresellerpackagelimit may be used.",
            type="boolean",
        ),
        Param(
            "enable_package_limit_numbers",
            "1: at most setresellerpackagelimit's `number` accounts per package.",
            type="boolean",
        ),
    ),
    privileges=ROOT_ONLY,
    api0=api0.setresellerlimits,
)
def setresellerlimits(call: Call) -> Reply:
    reseller = _reseller(call)
    flags = {name: call.flag(name) for name in _FLAG_PARAMS if call.params.get(name) is not None}
    numbers = {
        name: _number(call, name)
        for name in reseller_limits.NUMBERS
        if call.params.get(name) is not None
    }
    current = reseller_limits.get(call.conn, reseller)
    updated = reseller_limits.apply_parameters(current, flags, numbers)
    reseller_limits.store(call.conn, reseller, updated)
    shown = reseller_limits.as_parameters(updated)
    call.audit(
        audit.RESELLER_LIMITS,
        reseller.username,
        ", ".join(f"{k}={v}" for k, v in sorted(shown.items())),
    )
    return Reply(has_data=False)


@REGISTRY.function(
    "getresellerlimits",
    "A reseller's limits, in setresellerlimits' parameter names, what it has handed out and "
    "its per-package limits.",
    params=(Param("user", "The reseller.", required=True),),
    privileges=ROOT_ONLY,
    readonly=True,
)
def getresellerlimits(call: Call) -> dict[str, Any]:
    reseller = _reseller(call)
    limits = reseller_limits.get(call.conn, reseller)
    return {
        "user": reseller.username,
        "limits": reseller_limits.as_parameters(limits),
        "usage": reseller_limits.usage(call.conn, reseller),
        "packages": [
            {
                "package": p.package,
                "allowed": None if p.allowed is None else int(p.allowed),
                "number": p.number,
            }
            for p in reseller_packages.of(call.conn, reseller)
        ],
    }


@REGISTRY.function(
    "setresellerpackagelimit",
    "Which packages a reseller may put accounts on (`allowed`) and how many (`number`), "
    "checked by createacct, changepackage and listpkgs (see setresellerlimits' switches).",
    params=(
        Param("user", "The reseller.", required=True),
        Param("no_limit", "1: remove every package limit of the reseller.", type="boolean"),
        Param("package", "The package (required unless no_limit=1)."),
        Param("allowed", "1: the reseller may use the package; 0: it may not.", type="boolean"),
        Param("number", "Most accounts the reseller may have on the package.", type="integer"),
    ),
    privileges=ROOT_ONLY,
    api0=api0.setresellerpackagelimit,
)
def setresellerpackagelimit(call: Call) -> Reply:
    reseller = _reseller(call)
    if call.flag("no_limit"):
        reseller_packages.clear(call.conn, reseller)
        call.audit(audit.RESELLER_PACKAGE_LIMIT, reseller.username, "no_limit=1")
        return Reply(has_data=False, api0_reason=reseller_packages.SET)
    allowed = call.flag("allowed") if call.params.get("allowed") not in (None, "") else None
    number = _number(call, "number") if call.params.get("number") is not None else None
    name = (call.params.get("package") or "").strip()
    package = packages.get(call.conn, name) if name else None
    if package is None:
        raise InvalidParameter(reseller_packages.NO_SUCH_PACKAGE)
    reseller_packages.set_limit(call.conn, reseller, package, allowed=allowed, number=number)
    call.audit(
        audit.RESELLER_PACKAGE_LIMIT,
        reseller.username,
        f"{package.name}: allowed={allowed if allowed is None else int(allowed)}, number={number}",
    )
    return Reply(has_data=False, api0_reason=reseller_packages.SET)
