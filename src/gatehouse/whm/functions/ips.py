"""listips, setsiteip and get_shared_ip: the server's IP addresses and an account's
(gatehouse.domain.ips).

WHM API 1 shapes follow cPanel's WHM API 1 reference (Ips-listips); the WHM API 0 forms (a
call without `api.version`) follow the answers lumberg recorded from a real server
(/tmp/api0-spec.md §2.13, §2.22): listips `{"result":[…]}` without `public_ip`, setsiteip
`{"result":[{"status":1,"statusmsg":"OK"}]}`.

gatehouse reads no network interfaces: the addresses are the GATEHOUSE_IPS setting (default:
the address accounts get), each `active`, on no named interface (`if` is empty).

get_shared_ip (Whostmgr/API/1/Ips.pm) answers `data.ip`, the shared address new accounts of a
creator get (Whostmgr::Ips::Shared::get_shared_ip_address_for_creator): a reseller's main
address (setresellermainip), else the server's main address. Root may ask for another `user`
(who must exist: `You do not have a user named “X”.`, Cpanel::Exception::UserNotFound); anyone
else is answered for themselves. WHMCS asks it when a server is added.

listips counts a reseller's main address as shared, never dedicated (Cpanel::DIp::IsDedicated).

Privileges: listips and setsiteip are root's (`all`), as in cPanel; get_shared_ip any WHM
user's.
"""

from __future__ import annotations

from typing import Any

from gatehouse import acls
from gatehouse.api.api0 import Answer, bare, result_list
from gatehouse.api.call import Call
from gatehouse.api.registry import Param, Reply
from gatehouse.domain import access, ips, reseller_ips, users
from gatehouse.errors import NotFound
from gatehouse.whm.registry import REGISTRY

ROOT_ONLY = (acls.ALL,)


def server_addresses(call: Call) -> list[ips.ServerAddress]:
    return ips.of_server(call.gatehouse.config)


def _entry(use: ips.AddressUse) -> dict[str, Any]:
    address = use.address
    return {
        "active": 1,
        "dedicated": int(use.dedicated),
        "if": "",
        "ip": address.ip,
        "mainaddr": int(address.main),
        "netmask": address.netmask,
        "network": address.network,
        "public_ip": address.ip,  # gatehouse knows of no NAT
        # cPanel never removes the main address, nor one an account is on.
        "removable": int(not address.main and not use.used),
        "used": int(use.used),
    }


def _listips0(answer: Answer) -> list[dict[str, Any]]:
    # The recorded API 0 answer has no public_ip.
    return [
        {k: v for k, v in entry.items() if k != "public_ip"}
        for entry in (answer.data or {}).get("ip", [])
    ]


@REGISTRY.function(
    "listips",
    "The server's IP addresses (the GATEHOUSE_IPS setting), the main one first.",
    privileges=ROOT_ONLY,
    api0=bare("result", _listips0),
    readonly=True,
)
def listips(call: Call) -> dict[str, Any]:
    addresses = server_addresses(call)
    shared = reseller_ips.shared_ips(call.conn, addresses)
    uses = ips.address_uses(call.conn, addresses, shared)
    return {"ip": [_entry(u) for u in uses]}


@REGISTRY.function(
    "setsiteip",
    "Move an account (by `user` or main `domain`) to another of the server's IP addresses; "
    "its DNS zones' address records for the old one follow.",
    params=(
        Param("ip", "One of the server's addresses (listips).", required=True),
        Param("user", "The account."),
        Param("domain", "The account's main domain (instead of `user`)."),
    ),
    privileges=ROOT_ONLY,
    api0=result_list(message=lambda _answer: "OK"),
)
def setsiteip(call: Call) -> Reply:
    account = ips.find_account(
        call.conn,
        access.actor_of(call.principal),
        username=call.params.get("user"),
        domain=call.params.get("domain"),
    )
    moved = ips.set_site_ip(call, account, call.require("ip"), server_addresses(call))
    lines = [f"{account.username}: {moved.old_ip} -> {moved.new_ip}"]
    lines.extend(f"{zone}: {n} record(s) moved" for zone, n in sorted(moved.records.items()))
    return Reply(has_data=False, metadata={"output": {"raw": "\n".join(lines) + "\n"}})


@REGISTRY.function(
    "get_shared_ip",
    "The shared IP address new accounts of a creator get (a reseller's main address, else the "
    "server's).",
    params=(Param("user", "Root only: the creator to ask for (default: the caller)."),),
    readonly=True,
)
def get_shared_ip(call: Call) -> dict[str, str]:
    caller = call.principal.user
    username = (call.params.get("user") if acls.ALL in call.principal.privileges else None) or ""
    creator = caller
    if username and username != caller.username:
        found = users.get(call.conn, username)
        if found is None:
            raise NotFound(f"You do not have a user named “{username}”.")
        creator = found
    return {"ip": reseller_ips.main_ip_of(call.conn, creator, server_addresses(call))}
