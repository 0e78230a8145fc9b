"""accesshash (the legacy Remote Access Key), get_tweaksetting, set_tweaksetting."""

from __future__ import annotations

from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param, Reply
from gatehouse.domain import access, accesshash, audit, settings
from gatehouse.errors import InvalidParameter
from gatehouse.whm.registry import REGISTRY

DISABLED = (
    "Remote Access Key (access hash) authentication is disabled on this server. Use an API "
    "token (api_token_create), or have root enable the “allow_deprecated_accesshash” tweak "
    "setting."
)


@REGISTRY.function(
    "accesshash",
    "Show (generate=0) or regenerate (generate=1) the deprecated Remote Access Key.",
    params=(
        Param("user", "Whose key (default: yours); root or a reseller."),
        Param("generate", "1: make a new key; the old one stops working at once.", type="boolean"),
    ),
)
def accesshash_fn(call: Call) -> dict[str, Any]:
    if not settings.enabled(call.conn, settings.ALLOW_DEPRECATED_ACCESSHASH):
        raise InvalidParameter(DISABLED)
    username = call.params.get("user") or call.principal.user.username
    target = access.require_account(
        call.conn,
        access.actor_of(call.principal),
        username,
        purpose=access.Purpose.CREDENTIALS,
        told=access.Told.NOBODY,
    )
    if not (target.is_root or target.is_reseller):
        raise InvalidParameter(
            f"Only root and resellers have a Remote Access Key; “{username}” is neither."
        )
    generate = call.flag("generate")
    key = None if generate else accesshash.reveal(call.conn, call.gatehouse.keyring, target)
    if key is None:
        key = accesshash.generate()
        accesshash.store(call.conn, call.gatehouse.keyring, target, key, call.now)
        call.audit(audit.ACCESSHASH_GENERATE, target.username)
    return {"accesshash": accesshash.flatten(key), "signature": accesshash.signature(key)}


@REGISTRY.function(
    "get_tweaksetting",
    "Read a Tweak Settings value.",
    params=(
        Param("key", "The setting, e.g. allow_deprecated_accesshash.", required=True),
        Param("module", "Ignored (cPanel's settings module name)."),
    ),
    privileges=(acls.ALL,),
    readonly=True,
)
def get_tweaksetting(call: Call) -> dict[str, Any]:
    key = call.require("key")
    return {"tweaksetting": {"key": key, "value": settings.get(call.conn, key)}}


@REGISTRY.function(
    "set_tweaksetting",
    "Change a Tweak Settings value.",
    params=(
        Param("key", "The setting.", required=True),
        Param("value", "The new value.", required=True, handler_refuses=True),
        Param("module", "Ignored (cPanel's settings module name)."),
    ),
    privileges=(acls.ALL,),
)
def set_tweaksetting(call: Call) -> Reply:
    key = call.require("key")
    value = settings.set_value(call.conn, key, call.params.get("value") or "")
    call.audit(audit.TWEAK_SET, detail=f"{key}={value}")
    return Reply(has_data=False)
