"""Least privilege from real use (issue 17 §2, docs/governance.md): what a token has called,
the smallest ACL that covers it, and tightening the token to it — gatehouse extensions."""

from __future__ import annotations

from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param
from gatehouse.domain import audit, privileges, token_usage
from gatehouse.domain import tokens as store
from gatehouse.domain.tokens import Token
from gatehouse.errors import InvalidParameter, NotFound
from gatehouse.whm.functions.tokens import MANAGE, describe, refused_as
from gatehouse.whm.registry import REGISTRY

_NAME = Param("token_name", "One of the caller's WHM API tokens.", required=True)


def _guards(function: str) -> tuple[str, ...] | None:
    fn = REGISTRY.get(function)
    return None if fn is None else fn.privileges


def _token(call: Call, name: str) -> Token:
    token = store.get_by_name(call.conn, call.principal.user.id, store.WHOSTMGR, name)
    if token is None:
        raise NotFound(f"The API token “{name}” does not exist.")
    return token


def _held(call: Call, token: Token) -> frozenset[str]:
    return privileges.effective(call.principal.user.privileges, token.acls)


def usage_report(call: Call, token: Token) -> dict[str, Any]:
    used = call.gatehouse.usage.recorded(call.gatehouse.engine, token.id, token.create_time)
    held = _held(call, token)
    advice = token_usage.suggest(used, _guards, held)
    return {
        "token_name": token.name,
        "full_access": token.acls is None or acls.ALL in held,
        "acls": acls.ordered(held),
        "functions": [
            {
                "function": u.function,
                "calls": u.calls,
                "first_used": u.first_time,
                "last_used": u.last_time,
                "last_result": u.last_result,
                "privileges": list(_guards(u.function) or ()),
            }
            for u in used
        ],
        "suggested_acls": list(advice.acls),
        "unused_acls": list(advice.unused),
        "missing_acls": list(advice.missing),
        "root_only_functions": list(advice.root_only),
    }


@REGISTRY.function(
    "gatehouse_get_api_token_usage",
    "**gatehouse extension**: what one of the caller's tokens has called — per function the "
    "calls, first and last use and the last result (`ok`, `failed`, `missing_privilege`, "
    "`out_of_scope`, `error`) — and the smallest ACL that covers it (`suggested_acls`), what "
    "it holds but never needed (`unused_acls`) and what its refused calls lacked "
    "(`missing_acls`).",
    params=(_NAME,),
    privileges=MANAGE,
    readonly=True,
)
def gatehouse_get_api_token_usage(call: Call) -> dict[str, Any]:
    return usage_report(call, _token(call, call.require("token_name")))


@REGISTRY.function(
    "gatehouse_tighten_api_token",
    "**gatehouse extension**: set one of the caller's tokens' ACL to the suggestion of "
    "`gatehouse_get_api_token_usage` — what its recorded calls needed, nothing more.",
    params=(_NAME,),
    privileges=MANAGE,
)
def gatehouse_tighten_api_token(call: Call) -> dict[str, Any]:
    name = call.require("token_name")
    with refused_as("update"):
        token = _token(call, name)
        report = usage_report(call, token)
        if not report["functions"]:
            raise InvalidParameter(
                f"The API token “{name}” has no recorded use: there is nothing to suggest yet."
            )
        if report["root_only_functions"]:
            raise InvalidParameter(
                f"The API token “{name}” called functions that need full access ("
                + ", ".join(report["root_only_functions"])
                + "): it cannot be narrowed."
            )
        suggested = report["suggested_acls"]
        if not suggested:
            raise InvalidParameter(
                f"The API token “{name}” called only functions that need no privilege: give it "
                "an ACL yourself (api_token_update)."
            )
        updated = store.update(
            call.conn,
            user_id=call.principal.user.id,
            service=store.WHOSTMGR,
            name=name,
            token_acls=suggested,
        )
    removed = [p for p in report["acls"] if p not in suggested]
    audit.record(
        call.conn,
        now=call.now,
        action=audit.TOKEN_UPDATE,
        actor=call.principal.user.username,
        subject=call.principal.user.username,
        source_ip=call.peer,
        token_name=name,
        detail="tightened to its recorded use: " + ", ".join(suggested),
    )
    return {**describe(updated), "removed_acls": removed}
