"""UAPI `DynamicDNS`: list, create, recreate, set_description and delete (cPanel's
Cpanel/API/DynamicDNS.pm); the webcall itself, `/cpanelwebcall/<id>`, is
gatehouse.cpanel.webcall. The use cases are gatehouse.domain.dynamicdns.

The answers are cPanel's; gatehouse adds `webcall_url` (the URL to give the device) to
`create` and `recreate`, and `recreate` and `delete` also take the `domain`, for a domain
whose id was made before ids were kept (`list` shows such an id as null).
"""

from __future__ import annotations

import re
from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel import args
from gatehouse.cpanel.registry import uapi
from gatehouse.domain import dynamicdns

MODULE = "DynamicDNS"
_HOST = re.compile(r"^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\])\Z")


def webcall_url(call: Call, webcall_id: str) -> str:
    """The URL a device calls: the host the client used, on the cPanel face's TLS port (its
    plain port when TLS is off)."""
    config = call.gatehouse.config
    raw = (call.host or "").strip()
    host = raw.split("]", 1)[0] + "]" if raw.startswith("[") else raw.split(":", 1)[0]
    if not _HOST.match(host):
        host = "127.0.0.1"
    if config.cpanel_https_port:
        return f"https://{host}:{config.cpanel_https_port}/cpanelwebcall/{webcall_id}"
    return f"http://{host}:{config.cpanel_http_port}/cpanelwebcall/{webcall_id}"


@uapi(MODULE, "list", "The account's Dynamic DNS domains, their ids and addresses.", readonly=True)
def list_domains(call: Call) -> list[dict[str, Any]]:
    return [
        {
            "created_time": d.created_time,
            "description": d.description,
            "domain": d.domain,
            "id": d.webcall_id,
            "ipv4": list(d.ipv4),
            "ipv6": list(d.ipv6),
            "last_run_times": [] if d.last_run_time is None else [d.last_run_time],
            "last_update_time": d.last_update_time or 0,
        }
        for d in dynamicdns.list_of(call.conn, call.gatehouse.keyring, call.principal.user.id)
    ]


@uapi(MODULE, "create", "Create a Dynamic DNS domain and its webcall id.")
def create(call: Call) -> dict[str, Any]:
    created = dynamicdns.create(
        call,
        call.gatehouse.keyring,
        call.principal.user,
        call.params.get("domain") or "",
        call.params.get("description") or "",
    )
    return {
        "created_time": created.created_time,
        "id": created.webcall_id,
        "webcall_url": webcall_url(call, created.webcall_id),
    }


def _id_or_domain(call: Call) -> tuple[str | None, str | None]:
    """cPanel's required `id`, or gatehouse's `domain` in its place."""
    webcall_id = call.params.get("id")
    domain = call.params.get("domain")
    if not webcall_id and not domain:
        raise args.missing("id")
    return webcall_id, domain


@uapi(MODULE, "recreate", "A new webcall id for a domain (by `id`, or by `domain`).")
def recreate(call: Call) -> dict[str, Any]:
    webcall_id, domain = _id_or_domain(call)
    keyring, account = call.gatehouse.keyring, call.principal.user
    fresh = dynamicdns.recreate(call, keyring, account, webcall_id=webcall_id, domain=domain)
    return {"id": fresh, "webcall_url": webcall_url(call, fresh)}


@uapi(MODULE, "set_description", "Change a Dynamic DNS domain's description.")
def set_description(call: Call) -> None:
    webcall_id = args.length_required(call, "id")
    description = args.length_required(call, "description")
    dynamicdns.set_description(call, call.principal.user, webcall_id, description)
    return None


@uapi(MODULE, "delete", "Delete a Dynamic DNS domain (by `id`, or by `domain`).")
def delete(call: Call) -> dict[str, int]:
    webcall_id, domain = _id_or_domain(call)
    deleted = dynamicdns.delete(call, call.principal.user, webcall_id=webcall_id, domain=domain)
    return {"deleted": int(deleted)}
