"""UAPI `Tokens`: an account's own API tokens — create_full_access, list, rename, revoke
(whm-reference §1.8; cPanel's Cpanel/API/Tokens.pm for the semantics).

The tokens are stored exactly as WHM tokens are (domain/tokens.py: SHA-512 digest only,
unique name per owner and service), with service `cpanel`, and are accepted only on the
cPanel face's API paths (docs/cpanel.md). The plaintext exists once, in create's answer.
"""

from __future__ import annotations

from typing import Any

from gatehouse.api.call import Call
from gatehouse.cpanel import args
from gatehouse.cpanel.registry import uapi
from gatehouse.domain import (
    access,
    audit,
    token_policy,
    token_rate,
    token_rotation,
    token_scope,
)
from gatehouse.domain import tokens as store
from gatehouse.domain import tokens as tokens_domain
from gatehouse.domain.tokens import Token
from gatehouse.errors import InvalidParameter, NotFound

MODULE = "Tokens"


def _audit(call: Call, action: str, token_name: str, detail: str | None = None) -> None:
    """Who did it (the WHM user behind a `cpanel` call, else the account), to which account,
    through which credential. Never the secret."""
    principal = call.principal
    if principal.via is not None:
        how = f"via WHM user {principal.via}"
    elif principal.token_name:
        how = f"via token {principal.token_name}"
    else:
        how = f"via {principal.method}"
    note = f"cpanel token; {how}"
    audit.record(
        call.conn,
        now=call.now,
        action=action,
        actor=principal.via or principal.user.username,
        subject=principal.user.username,
        source_ip=call.peer,
        token_name=token_name,
        detail=f"{note}; {detail}" if detail else note,
    )


def _listed(token: Token) -> dict[str, Any]:
    # Cpanel::Security::Authn::APITokens::Object::cpanel export(): full access or a feature
    # list, never both; gatehouse makes full-access tokens only.
    out: dict[str, Any] = {
        "create_time": token.create_time,
        "expires_at": token.expires_at,
        "features": [],
        "has_full_access": 1,
        "name": token.name,
    }
    # gatehouse's addition (docs/governance.md), only when set: a client that never sets a
    # description sees exactly cPanel's shape. The last use is in gatehouse_get_details.
    if token.description is not None:
        out["description"] = token.description
    if token.rate_limit is not None:
        out["rate_limit"] = token.rate_limit
    if token.scope is not None:
        out["scope"] = token.scope.as_json()
    return out


@uapi(MODULE, "create_full_access", "Create a full-access API token for the account.")
def create_full_access(call: Call) -> dict[str, Any]:
    name = args.length_required(call, "name")
    # Validate.pm's validators run by part name: expires_at before name.
    expires_at = token_policy.capped_expiry(
        tokens_domain.parse_expiry(call.params.get("expires_at"), call.now),
        call.now,
        call.gatehouse.config.token_max_lifetime_days,
    )
    store.validate_name(name)
    if args.boolean(call, "readonly"):
        # Choice: newer cPanel versions offer read-only tokens; gatehouse does not model
        # them, and silently making a full-access token instead would be worse than saying so.
        raise InvalidParameter("This server does not support read-only API tokens.")
    token, plaintext = store.create(
        call.conn,
        owner=call.principal.user,
        service=store.CPANEL,
        name=name,
        token_acls=None,
        whitelist_ips=None,
        expires_at=expires_at,
        now=call.now,
        description=call.params.get("description"),
        rate_limit=token_rate.parse_limit(call.params.get("rate_limit")),
    )
    _audit(call, audit.TOKEN_CREATE, name)
    # cPanel drops name, features, has_full_access and expires_at from this answer.
    return {"create_time": token.create_time, "token": plaintext}


@uapi(MODULE, "list", "List the account's API tokens.", readonly=True)
def list_tokens(call: Call) -> list[dict[str, Any]]:
    found = store.list_for(call.conn, call.principal.user.id, store.CPANEL)
    ends = token_rotation.grace_ends(call.conn, [t.id for t in found], call.now)
    listed = []
    for token in found:
        item = _listed(token)
        if token.id in ends:  # gatehouse's addition: a rotated token's previous secret
            item["previous_token_expires_at"] = ends[token.id]
        listed.append(item)
    return listed


@uapi(MODULE, "rename", "Rename one of the account's API tokens.")
def rename(call: Call) -> None:
    name = args.length_required(call, "name")
    new_name = args.length_required(call, "new_name")
    if new_name == name:
        raise InvalidParameter("“new_name” must be a different value from “name”.")
    # Cpanel/API/Tokens.pm `_update`: an unknown token is refused before the new name is
    # validated.
    if store.get_by_name(call.conn, call.principal.user.id, store.CPANEL, name) is None:
        raise NotFound(f"The API token “{name}” does not exist.")
    store.validate_name(new_name)
    store.update(
        call.conn,
        user_id=call.principal.user.id,
        service=store.CPANEL,
        name=name,
        new_name=new_name,
    )
    _audit(call, audit.TOKEN_UPDATE, new_name, f"renamed from {name}")


@uapi(
    MODULE,
    "gatehouse_set_description",
    "**gatehouse extension**: set (or, empty, clear) where one of the account's tokens is used.",
)
def gatehouse_set_description(call: Call) -> dict[str, Any]:
    name = args.length_required(call, "name")
    token = store.update(
        call.conn,
        user_id=call.principal.user.id,
        service=store.CPANEL,
        name=name,
        description=call.params.get("description") or "",
    )
    _audit(call, audit.TOKEN_UPDATE, name, "description set" if token.description else
           "description cleared")  # fmt: skip
    return _listed(token)


@uapi(
    MODULE,
    "gatehouse_set_rate_limit",
    "**gatehouse extension**: limit one of the account's tokens to `rate_limit` requests per "
    "minute (0: no limit); beyond it the answer is HTTP 429 with Retry-After.",
)
def gatehouse_set_rate_limit(call: Call) -> dict[str, Any]:
    name = args.length_required(call, "name")
    limit = token_rate.parse_limit(args.length_required(call, "rate_limit"))
    token = store.update(
        call.conn,
        user_id=call.principal.user.id,
        service=store.CPANEL,
        name=name,
        rate_limit=limit,
    )
    _audit(call, audit.TOKEN_UPDATE, name, f"rate limit {limit or 'none'} per minute")
    return _listed(token)


@uapi(
    MODULE,
    "gatehouse_set_scope",
    "**gatehouse extension**: limit one of the account's tokens to some of its DNS zones "
    "(`scope_zone`, repeatable or `scope_zone-N`) and, within them, to changing only records "
    "of some names (`scope_record`) and types (`scope_record_type`); `clear=1` removes it.",
)
def gatehouse_set_scope(call: Call) -> dict[str, Any]:
    name = args.length_required(call, "name")
    actor = access.actor_of(call.principal)
    mine = call.principal.token.scope if call.principal.token is not None else None
    if call.params.get("clear") in ("1", "true"):
        scope = None
    else:

        def zone(conn: Any, raw: str) -> str:
            return access.own_zone(conn, actor, raw, access.UAPI_ZONE).name

        def no_accounts(conn: Any, raw: str) -> str:
            raise InvalidParameter(
                "A cPanel token reaches its own account only: no “scope_account”."
            )

        scope = token_scope.build(
            call.conn,
            accounts=[v for v in call.params.getlist("scope_account") if v.strip()],
            zones=[v for v in call.params.getlist("scope_zone") if v.strip()],
            records=[v for v in call.params.getlist("scope_record") if v.strip()],
            record_types=[v for v in call.params.getlist("scope_record_type") if v.strip()],
            may_reach_account=no_accounts,
            may_reach_zone=zone,
        )
        if scope is None:
            raise InvalidParameter("Give “scope_zone” (and “scope_record”), or “clear=1”.")
    token_scope.check_given(mine, scope)
    token = store.update(
        call.conn, user_id=call.principal.user.id, service=store.CPANEL, name=name, scope=scope
    )
    _audit(call, audit.TOKEN_UPDATE, name, "scope cleared" if scope is None else "scope set")
    return _listed(token)


@uapi(
    MODULE,
    "gatehouse_get_details",
    "**gatehouse extension**: one of the account's tokens as `list` shows it, with its last "
    "use (time, address, user agent).",
    readonly=True,
)
def gatehouse_get_details(call: Call) -> dict[str, Any]:
    name = args.length_required(call, "name")
    token = store.get_by_name(call.conn, call.principal.user.id, store.CPANEL, name)
    if token is None:
        raise NotFound(f"The API token “{name}” does not exist.")
    return {
        **_listed(token),
        "last_used": token.last_used_time,
        "last_used_ip": token.last_used_ip,
        "last_used_agent": token.last_used_agent,
    }


@uapi(MODULE, "revoke", "Revoke one of the account's API tokens by name.")
def revoke(call: Call) -> int:
    name = args.length_required(call, "name")
    revoked = store.revoke(call.conn, call.principal.user.id, store.CPANEL, [name])
    for gone in revoked:
        _audit(call, audit.TOKEN_REVOKE, gone)
    # cPanel 11.120: Cpanel/Security/Authn/APITokens/Write.pm revoke_token answers 1 when it
    # removed a token and 0 when no token had the name, and Cpanel/API/Tokens.pm `revoke`
    # returns that as `data` (cPanel's docs say 1 for both; the code is what a server does).
    return 1 if revoked else 0


@uapi(
    MODULE,
    "gatehouse_rotate",
    "**gatehouse extension**: give one of the account's tokens a new secret (returned once) "
    "under the same name; the previous one keeps working `grace_period` seconds (default "
    "86400; 0: it stops now).",
)
def gatehouse_rotate(call: Call) -> dict[str, Any]:
    name = args.length_required(call, "name")
    grace = token_rotation.parse_grace(call.params.get("grace_period"))
    rotated = token_rotation.rotate(
        call.conn,
        user_id=call.principal.user.id,
        service=store.CPANEL,
        name=name,
        now=call.now,
        grace=grace,
    )
    _audit(call, audit.TOKEN_ROTATE, name, f"previous secret works {grace} s more")
    return {
        **_listed(rotated.token),
        "token": rotated.plaintext,
        "previous_token_expires_at": rotated.previous_expires_at,
    }


@uapi(
    MODULE,
    "gatehouse_end_grace",
    "**gatehouse extension**: stop the previous secret of a rotated token now.",
)
def gatehouse_end_grace(call: Call) -> dict[str, Any]:
    name = args.length_required(call, "name")
    ended = token_rotation.end_grace(
        call.conn, user_id=call.principal.user.id, service=store.CPANEL, name=name
    )
    if ended:
        _audit(call, audit.TOKEN_GRACE_END, name)
    return {"ended": int(ended)}


@uapi(
    MODULE,
    "gatehouse_get_usage",
    "**gatehouse extension**: what one of the account's tokens has called — per function the "
    "calls, first and last use and the last result — with its last use.",
    readonly=True,
)
def gatehouse_get_usage(call: Call) -> dict[str, Any]:
    name = args.length_required(call, "name")
    token = store.get_by_name(call.conn, call.principal.user.id, store.CPANEL, name)
    if token is None:
        raise NotFound(f"The API token “{name}” does not exist.")
    used = call.gatehouse.usage.recorded(call.gatehouse.engine, token.id, token.create_time)
    ends = token_rotation.grace_ends(call.conn, [token.id], call.now)
    return {
        **_listed(token),
        "last_used": token.last_used_time,
        "last_used_ip": token.last_used_ip,
        "last_used_agent": token.last_used_agent,
        "previous_token_expires_at": ends.get(token.id),
        "functions": [
            {
                "function": u.function,
                "calls": u.calls,
                "first_used": u.first_time,
                "last_used": u.last_time,
                "last_result": u.last_result,
            }
            for u in used
        ],
    }
