"""The Manage API Tokens list: a row per token, the sort orders, and the notice after a
change."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request

from gatehouse import acls

EXPIRING_SOON = 7 * 86400


def row(token: dict[str, Any], now: int) -> dict[str, Any]:
    """A token as `api_token_list` lists it, as the list shows it at `now`."""
    acl_map: dict[str, int] = token["acls"]
    granted = [k for k, v in acl_map.items() if v]
    everything = bool(acl_map.get(acls.ALL)) or (
        acls.ALL not in acl_map and len(granted) == len(acl_map)
    )
    expires = token["expires_at"]
    state = ""
    if expires:
        if expires < now:
            state = "expired"
        elif expires - now <= EXPIRING_SOON:
            state = "expiring"
    ips = token["whitelist_ips"] or []
    return {
        "name": token["name"],
        "created": token["create_time"],
        "expires": expires,
        "state": state,
        "ips": ips[:5],
        "more_ips": max(0, len(ips) - 5),
        "privileges": "Everything"
        if everything
        else f"{len(granted)} privilege{'s' if len(granted) != 1 else ''}",
        "last_used": token["last_used"],
        "last_used_ip": token["last_used_ip"],
        "last_used_agent": token.get("last_used_agent"),
        "description": token.get("description"),
    }


SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "name": lambda r: r["name"].lower(),
    "created": lambda r: r["created"],
    "expires": lambda r: r["expires"] or 2**62,
    "last_used": lambda r: r["last_used"] or 0,
}


def done_notice(request: Request) -> str:
    """What the list says after a change redirected to it (`?done=…`)."""
    done = request.query_params.get("done")
    name = request.query_params.get("name", "")
    if done == "created":
        return f"The API token “{name}” was created."
    if done == "updated":
        return f"The API token “{name}” was saved."
    if done == "revoked":
        count = request.query_params.get("count", "1")
        return "The API token was revoked." if count == "1" else f"{count} API tokens were revoked."
    if done == "none":
        return "Select the tokens to revoke first."
    return ""
