"""setresellerlimits and getresellerlimits (root only).

setresellerlimits takes cPanel's parameters (Whostmgr/API/1/Resellers.pm): only those given
change, the others keep their stored value; success is a metadata-only "OK", and a user that is
not a reseller is refused with cPanel's "Specified user is not a reseller.".

cPanel has no getresellerlimits (it shows limits through acctcounts and resellerstats); the
gatehouse function answers in setresellerlimits' own parameter names, so that what one returns
can be sent back to the other, plus what the reseller has handed out (`usage`).
"""

from __future__ import annotations

from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param, Reply
from gatehouse.domain import audit, reseller_limits, users
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
            "Stored; per-package limits are not enforced yet.",
            type="boolean",
        ),
        Param("enable_package_limit_numbers", "Stored; not enforced yet.", type="boolean"),
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
    "A reseller's limits, in setresellerlimits' parameter names, and what it has handed out.",
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
    }
