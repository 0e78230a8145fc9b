"""WHM's `cpanel` and `uapi_cpanel` functions: root or a reseller calls a UAPI or cPanel API 2
function as one of its accounts (api.docs.cpanel.net, "Use WHM API to call cPanel API 2 and
UAPI"; cPanel's Whostmgr/API/1/Cpanel.pm).

    /json-api/cpanel?cpanel_jsonapi_user=U&cpanel_jsonapi_apiversion=2|3
        &cpanel_jsonapi_module=M&cpanel_jsonapi_func=F&ARG=...
    /json-api/uapi_cpanel?cpanel.user=U&cpanel.module=M&cpanel.function=F&ARG=...

`cpanel` answers in the function's own envelope, NOT WHM API 1's: API 2 gives `{"cpanelresult":
{...}}`, UAPI gives `{"apiversion":3,"func":...,"module":...,"result":{...}}`, and callers
read `cpanelresult.data` / `result.errors` directly (compatibility.md §Responses 5–6). The
WHM dispatcher still runs the call — privilege check, one transaction, post-commit work — and
its envelope is unwrapped by `unwrap` on the way out (web/app.py, `gatehouse whmapi1`).
`uapi_cpanel` (cPanel's recommended way) answers in WHM API 1's envelope, always `result: 1`
once the account is reached, with the UAPI function's flat result in `data.uapi`
(`{"data","errors","messages","metadata","status","warnings"}`); a function that failed is
`data.uapi.status: 0`, and what it wrote is rolled back.

Who may act as whom: root, or a reseller holding `all`, any cPanel account; any other reseller
(with `cpanel-api`) only the accounts it owns, its own included (access.Purpose.REACH). A
reseller is never told whether an account it does not own exists; its refusal is audited.

A suspended account can be reached: suspension stops the account's own credentials (its
password, its cPanel tokens), not its administrators — who may well need to list or revoke
its tokens before lifting the suspension.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gatehouse.api import bridge, envelope
from gatehouse.api.call import Call
from gatehouse.api.params import Params
from gatehouse.api.registry import Envelope, Param
from gatehouse.auth.authenticator import Principal
from gatehouse.domain import access, users
from gatehouse.errors import GatehouseError, PermissionDenied
from gatehouse.whm.registry import REGISTRY

NAME = "cpanel"


def _refusal(params: Params, reason: str) -> dict[str, Any]:
    """A refusal made before the function ran (a missing privilege, an internal error): the
    flavour asked for, in cpsrvd's refusal shape for API 2."""
    return bridge.account_api().refusal(params, reason)


@REGISTRY.function(
    NAME,
    "Call a UAPI (`cpanel_jsonapi_apiversion=3`) or cPanel API 2 function as an account "
    "(`cpanel_jsonapi_user`); answers in that API's own envelope.",
    params=(
        Param("cpanel_jsonapi_user", "The account to act as.", required=True, handler_refuses=True),
        Param("cpanel_jsonapi_apiversion", "3 for UAPI, 2 (the default) for cPanel API 2."),
        Param(
            "cpanel_jsonapi_module",
            "The module, e.g. `DomainInfo`, `ZoneEdit`.",
            required=True,
            handler_refuses=True,
        ),
        Param(
            "cpanel_jsonapi_func",
            "The function, e.g. `list_domains`.",
            required=True,
            handler_refuses=True,
        ),
    ),
    privileges=("cpanel-api",),
    slow=True,  # it runs any cPanel function, large zone edits included
    refusal=_refusal,
)
def cpanel(call: Call) -> Envelope:
    accounts = bridge.account_api()
    target = accounts.target(call.params)
    version = call.params.get("cpanel_jsonapi_apiversion")

    def fail(reason: str) -> GatehouseError:
        return GatehouseError(reason, data=Envelope(exec_error(version, reason)))

    username = call.params.get("cpanel_jsonapi_user") or call.params.get("user") or ""
    principal = _acting_as(
        call,
        username,
        fail,
        lambda reason: exec_error(version, reason),
        _CPANEL_EXEC,
        root_refusal=ROOT_REFUSAL,
    )
    return Envelope(accounts.within(call, principal, target))


def exec_error(version: str | None, reason: str) -> dict[str, Any]:
    """Whostmgr/XMLUI/cPanel.pm `_format_error`: how `cpanel` refuses to act as an account,
    before any function runs — `{"data":{"reason":R,"result":"0"},"type":"text","error":R}`,
    wrapped in `cpanelresult` only when `cpanel_jsonapi_apiversion` is exactly "2" (not when
    it is left to default), the reason HTML-escaped as safe_html_encode_str does."""
    escaped = "".join(_HTML.get(c, c) for c in reason)
    error = {"data": {"reason": escaped, "result": "0"}, "error": escaped, "type": "text"}
    return {"cpanelresult": error} if version == "2" else error


_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}


UAPI_CPANEL = "uapi_cpanel"


@REGISTRY.function(
    UAPI_CPANEL,
    "Call a UAPI function as an account (`cpanel.user`, `cpanel.module`, `cpanel.function`); "
    "its result in `data.uapi`.",
    params=(
        Param("cpanel.user", "The account to act as.", required=True),
        Param("cpanel.module", "The UAPI module, e.g. `DomainInfo`.", required=True),
        Param("cpanel.function", "The UAPI function, e.g. `list_domains`.", required=True),
    ),
    privileges=("cpanel-api",),
    slow=True,  # it runs any UAPI function, large zone edits included
)
def uapi_cpanel(call: Call) -> dict[str, Any]:
    accounts = bridge.account_api()
    module, func = call.require("cpanel.module"), call.require("cpanel.function")
    target = accounts.uapi_target(module, func)

    def answer(uapi: dict[str, Any]) -> dict[str, Any]:
        return envelope.whm1_dict(UAPI_CPANEL, ok=True, reason="OK", data={"uapi": uapi})

    # A refusal to act as the account is WHM API 1's own (result 0 with its reason).
    principal = _acting_as(call, call.require("cpanel.user"), GatehouseError, None)
    try:
        wrapped = accounts.within(call, principal, target)
    except GatehouseError as exc:
        if not isinstance(exc.data, Envelope):
            raise
        # The function refused: WHM's call still succeeded (cPanel sets its metadata ok
        # whatever UAPI answered); raised, so that what the function wrote is rolled back.
        answered = Envelope(answer(exc.data.payload["result"]))
        if isinstance(exc, PermissionDenied):
            raise PermissionDenied(exc.reason, code=exc.code, data=answered) from exc
        raise GatehouseError(exc.reason, data=answered) from exc
    return {"uapi": wrapped["result"]}


NO_USER = "User parameter is invalid or was not supplied"
ROOT_REFUSAL = (
    "The user “{name}” is not associated with a cPanel account and cannot call cPanel API 2"
)
# Whostmgr/XMLUI/cPanel.pm cpanel_exec: a user getpwnam does not know is NO_USER, whoever
# asks; an account the caller may not reach, "Access Denied to USER". Choice: a reseller is
# still told nothing of an account that does not exist (it gets the refusal), as everywhere
# in gatehouse.
_CPANEL_EXEC = access.Wording("Access Denied to {name}", NO_USER)


def _acting_as(
    call: Call,
    username: str,
    fail: Callable[[str], GatehouseError],
    refused: Callable[[str], dict[str, Any]] | None,
    wording: access.Wording = access.ACCOUNT,
    root_refusal: str | None = None,
) -> Principal:
    """The principal a call runs as when the caller acts as the account `username` (the one
    access rule; a refusal audited with its reason code, answered as `refused` shapes it, or
    as any WHM API 1 refusal without it)."""
    if not username:
        raise fail(NO_USER)
    caller = call.principal.user
    account = users.get(call.conn, username)
    if account is not None and account.is_root and root_refusal is not None:
        # Whostmgr/XMLUI/cPanel.pm cpanel_exec lines 48-51: root (uid 0) is refused with its
        # own sentence before the caller's right to the account is looked at (line 56), so a
        # reseller naming root gets that sentence too, not "Access Denied to root".
        raise fail(root_refusal.format(name=account.username))
    decision = access.to_account(
        access.actor_of(call.principal), account, username, wording=wording
    )
    if not decision.allowed:
        if decision.told_missing:
            raise fail(decision.message)
        raise PermissionDenied(
            decision.message,
            code=decision.code or access.NOT_OWNER,
            data=None if refused is None else Envelope(refused(decision.message)),
        )
    assert account is not None
    if not account.has_cpanel_account:
        raise fail(f"The user “{username}” does not have a cPanel account.")
    return bridge.account_api().principal_for(account, "whm", via=caller.username)
