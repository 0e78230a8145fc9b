"""getresellerips, setresellerips and setresellermainip: a reseller's pool of addresses and
its main shared address (gatehouse.domain.reseller_ips).

Arguments, answers and refusals follow cPanel 11.120's Whostmgr/API/1/Resellers.pm, the
functions it calls in Whostmgr/Resellers/Ips.pm, and Whostmgr/XMLUI/Resellers.pm for WHM API 0
(gatehouse.whm.api0). Privileges: root's (`all`), as the other reseller functions (cPanel's
ACL table for them is compiled into its xml-api binary, not in the source we have).

Checks in cPanel's order, each in its words:
* getresellerips: the account must exist (verify_account_access: `You do not have a user
  named “X”.`), then be a reseller (`Specified user is not a reseller.`).
* setresellerips: `set_reseller_ips requires a user to set the ips for.` without `user`;
  `The specified user (X) is not a reseller.`; `delegate` (default 1) 0 removes the
  delegation; else every address of `ips` must be one of the server's (`The list of supplied
  IP addresses contains inappropriate values.`). The answer is getresellerips' for the user.
* setresellermainip: `Account does not exist.`, `Not a reseller.`, then `Supplied IP address
  is invalid.` for an address that is not one of the server's (IPv4) addresses.
"""

from __future__ import annotations

from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param, Reply
from gatehouse.domain import access, audit, reseller_ips, users
from gatehouse.errors import InvalidParameter, NotFound
from gatehouse.whm import api0
from gatehouse.whm.functions.ips import server_addresses
from gatehouse.whm.registry import REGISTRY

ROOT_ONLY = (acls.ALL,)


def _pool(call: Call, user: users.User) -> dict[str, Any]:
    """getresellerips' data: `ip`, and `all` 1 when the reseller may use every address."""
    addresses = server_addresses(call)
    if user.is_root:  # isreseller() is true of root, which has every address
        found = reseller_ips.Pool([a.ip for a in addresses], True)
    else:
        found = reseller_ips.pool(call.conn, user, addresses)
    return {"ip": found.ips, **({"all": 1} if found.all else {})}


@REGISTRY.function(
    "getresellerips",
    "A reseller's IP addresses: those delegated to it, or every address of the server (`all` 1).",
    params=(Param("user", "The reseller.", required=True),),
    privileges=ROOT_ONLY,
    readonly=True,
    api0=api0.getresellerips,
)
def getresellerips(call: Call) -> dict[str, Any]:
    username = call.require("user").strip()
    target = access.require_account(call.conn, access.actor_of(call.principal), username)
    if not (target.is_root or target.is_reseller):
        raise InvalidParameter(reseller_ips.NOT_A_RESELLER)
    return _pool(call, target)


def _delegate(call: Call) -> bool:
    # cPanel: `exists delegate ? delegate : 1`, read as Perl truth ("" and "0" are false).
    raw = call.params.get("delegate")
    if raw is None:
        return True
    return call.flag("delegate")


@REGISTRY.function(
    "setresellerips",
    "Delegate IP addresses to a reseller (`ips`, comma-separated; `delegate=0`: every "
    "address of the server again): those createacct ip=y may dedicate. Answers as "
    "getresellerips.",
    params=(
        Param("user", "The reseller.", required=True, handler_refuses=True),
        Param("delegate", "1 (default): only `ips`; 0: every address.", type="boolean"),
        Param("ips", "The addresses, comma-separated, each one of the server's (listips)."),
    ),
    privileges=ROOT_ONLY,
    api0=api0.setresellerips,
)
def setresellerips(call: Call) -> Reply:
    username = (call.params.get("user") or "").strip()
    if not username:
        raise InvalidParameter("set_reseller_ips requires a user to set the ips for.")
    reseller = users.get(call.conn, username)
    if reseller is None or reseller.is_root or not reseller.is_reseller:
        raise InvalidParameter(reseller_ips.not_a_reseller_named(username))
    addresses = server_addresses(call)
    delegate = _delegate(call)
    chosen: list[str] | None = None
    if delegate:
        chosen = reseller_ips.parse_ips(call.params.get("ips"), addresses)
        if chosen is None:
            raise InvalidParameter(reseller_ips.INAPPROPRIATE_IPS)
    reseller_ips.set_delegation(call.conn, reseller, chosen)
    call.audit(
        audit.RESELLER_IPS,
        reseller.username,
        "every address" if chosen is None else ", ".join(chosen) or "no address",
    )
    return Reply(data=_pool(call, reseller), api0_reason=reseller_ips.DELEGATED)


@REGISTRY.function(
    "setresellermainip",
    "Set a reseller's main shared IP address: the one its new accounts get (the server's "
    "main address: back to it).",
    params=(
        Param("user", "The reseller.", required=True, handler_refuses=True),
        Param(
            "ip",
            "One of the server's IPv4 addresses (listips).",
            required=True,
            handler_refuses=True,
        ),
    ),
    privileges=ROOT_ONLY,
    api0=api0.setresellermainip,
)
def setresellermainip(call: Call) -> Reply:
    username = (call.params.get("user") or "").strip()
    reseller = users.get(call.conn, username) if username else None
    if reseller is None or reseller.is_root:
        raise NotFound("Account does not exist.")
    if not reseller.is_reseller:
        raise InvalidParameter("Not a reseller.")
    addresses = server_addresses(call)
    ip = reseller_ips.check_main_ip(call.params.get("ip"), addresses)
    if ip is None:
        raise InvalidParameter(reseller_ips.INVALID_MAIN_IP)
    reseller_ips.set_main_ip(call.conn, reseller, ip, addresses)
    call.audit(audit.RESELLER_MAIN_IP, reseller.username, ip)
    return Reply(has_data=False, api0_reason=reseller_ips.MAIN_IP_SET)
