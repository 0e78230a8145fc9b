"""accesshash (the legacy Remote Access Key), get_remote_access_hash (another server's),
get_tweaksetting, set_tweaksetting."""

from __future__ import annotations

from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param, Reply
from gatehouse.domain import access, accesshash, audit, remote_accesshash, settings
from gatehouse.errors import GatehouseError, InvalidParameter
from gatehouse.numerals import digits
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


def _perl_false(value: str) -> bool:
    return value in ("", "0")


@REGISTRY.function(
    "get_remote_access_hash",
    "Deprecated: another WHM server's Remote Access Key, asked for there with its user's "
    "password (`host`, `username`, `password`, `generate`). Nothing is stored.",
    params=(
        Param(
            "host",
            "The remote WHM server's host name or address.",
            required=True,
            handler_refuses=True,
        ),
        Param("username", "The remote user.", required=True, handler_refuses=True),
        Param(
            "password",
            "The remote user's password.",
            required=True,
            secret=True,
            handler_refuses=True,
        ),
        Param("generate", "1: the remote makes a new key (its old one stops working)."),
        Param("port", "**gatehouse addition**: the remote's WHM TLS port (default 2087)."),
    ),
    # Choice: root only. cPanel's ACL for it is not in the source we have; the call makes this
    # server connect where the caller says, with a password the caller gives.
    privileges=(acls.ALL,),
    readonly=True,  # nothing is written here; the remote may write (generate=1)
    slow=True,  # an outbound HTTPS call
)
def get_remote_access_hash(call: Call) -> Any:
    # Whostmgr/API/1/Resellers.pm lines 480-494: each argument must exist, in this order,
    # else the function answers no data.
    for name in ("username", "password", "host"):
        if name not in call.params:
            raise InvalidParameter(f'get_remote_access_hash requires that "{name}" is defined.')
    username = call.params.get("username") or ""
    password = call.params.get("password") or ""
    host = call.params.get("host") or ""
    # Whostmgr/AccessHash.pm lines 72-80: and be true in Perl's sense; from here on the
    # answer carries `{"accesshash": null}` when it fails (Resellers.pm line 498).
    for value, word in ((username, "user"), (password, "password"), (host, "host")):
        if _perl_false(value):
            raise GatehouseError(
                f"Whostmgr::AccessHash::get_remote_access_hash requires that a {word} is defined",
                data={"accesshash": None},
            )
    raw_port = (call.params.get("port") or "").strip() or str(remote_accesshash.DEFAULT_PORT)
    if not digits(raw_port) or not 1 <= int(raw_port) <= 65535:
        raise InvalidParameter(f"“{raw_port[:20]}” is not a port.")
    generate = call.params.get("generate")
    try:
        key = remote_accesshash.fetch(
            host,
            int(raw_port),
            username,
            password,
            # `$generate = 0 if !defined $generate`, then sent as given.
            "0" if generate is None else generate,
        )
    except remote_accesshash.RemoteFailure as exc:
        raise GatehouseError(exc.message, data={"accesshash": None}) from None
    return {"accesshash": key}


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
