"""UAPI `DynamicDNS`: list, create and delete (cPanel's Cpanel/API/DynamicDNS.pm); the webcall
itself, `/cpanelwebcall/<id>`, is gatehouse.cpanel.webcall. The use cases are
gatehouse.domain.dynamicdns.

Where gatehouse differs from cPanel, because the webcall id is a secret stored only as a digest:
`create` answers the id (and, beyond cPanel's keys, the `webcall_url` to give the device) once;
`list` answers `"id": null`; `delete` takes the `id` or, gatehouse's addition, the `domain`.
"""

from __future__ import annotations

import re
from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel.registry import uapi
from gatehouse.domain import dynamicdns
from gatehouse.errors import missing_parameter

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


@uapi(MODULE, "list", "The account's Dynamic DNS domains (their ids are not kept).", readonly=True)
def list_domains(call: Call) -> list[dict[str, Any]]:
    return [
        {
            "created_time": d.created_time,
            "description": d.description,
            "domain": d.domain,
            "id": None,
            "last_run_times": [] if d.last_run_time is None else [d.last_run_time],
            "last_update_time": d.last_update_time or 0,
        }
        for d in dynamicdns.list_of(call.conn, call.principal.user.id)
    ]


@uapi(MODULE, "create", "Create a Dynamic DNS domain; its id (a secret) is shown once.")
def create(call: Call) -> dict[str, Any]:
    created = dynamicdns.create(
        call,
        call.principal.user,
        call.params.get("domain") or "",
        call.params.get("description") or "",
    )
    return {
        "created_time": created.created_time,
        "id": created.webcall_id,
        "webcall_url": webcall_url(call, created.webcall_id),
    }


@uapi(MODULE, "delete", "Delete a Dynamic DNS domain (by `id`, or by `domain`).")
def delete(call: Call) -> None:
    webcall_id = call.params.get("id")
    domain = call.params.get("domain")
    if not webcall_id and not domain:
        raise missing_parameter("id")
    dynamicdns.delete(call, call.principal.user, webcall_id=webcall_id, domain=domain)
    return None
