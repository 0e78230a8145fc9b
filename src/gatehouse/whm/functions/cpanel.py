"""WHM's `cpanel` function: root or a reseller calls a UAPI or cPanel API 2 function as one of
its accounts (api.docs.cpanel.net, "Use WHM API to call cPanel API 2 and UAPI").

    /json-api/cpanel?cpanel_jsonapi_user=U&cpanel_jsonapi_apiversion=2|3
        &cpanel_jsonapi_module=M&cpanel_jsonapi_func=F&ARG=...

The answer is the function's own envelope, NOT WHM API 1's: API 2 gives `{"cpanelresult":
{...}}`, UAPI gives `{"apiversion":3,"func":...,"module":...,"result":{...}}`, and callers
read `cpanelresult.data` / `result.errors` directly (compatibility.md §Responses 5–6). The
WHM dispatcher still runs the call — privilege check, one transaction, post-commit work — and
its envelope is unwrapped by `unwrap` on the way out (web/app.py, `gatehouse whmapi1`).

Who may act as whom: root, or a reseller holding `all`, any cPanel account; any other reseller
(with `cpanel-api`) only the accounts it owns, its own included (access.Purpose.REACH). A
reseller is never told whether an account it does not own exists; its refusal is audited.

A suspended account can be reached: suspension stops the account's own credentials (its
password, its cPanel tokens), not its administrators — who may well need to list or revoke
its tokens before lifting the suspension.
"""

from __future__ import annotations

from typing import Any

from gatehouse.api import bridge
from gatehouse.api.call import Call
from gatehouse.api.params import Params
from gatehouse.api.registry import Envelope, Param
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

    def fail(reason: str) -> GatehouseError:
        return GatehouseError(reason, data=Envelope(accounts.failure(target, reason)))

    username = call.params.get("cpanel_jsonapi_user") or call.params.get("user") or ""
    if not username:
        raise fail("User parameter is invalid or was not supplied")
    caller = call.principal.user
    account = users.get(call.conn, username)
    decision = access.to_account(access.actor_of(call.principal), account, username)
    if not decision.allowed:
        if decision.told_missing:
            raise fail(decision.message)
        # A refusal, audited with its reason code, answered in the function's own envelope.
        raise PermissionDenied(
            decision.message,
            code=decision.code or access.NOT_OWNER,
            data=Envelope(accounts.failure(target, decision.message)),
        )
    assert account is not None
    if not account.has_cpanel_account:
        raise fail(f"The user “{username}” does not have a cPanel account.")
    principal = accounts.principal_for(account, "whm", via=caller.username)
    return Envelope(accounts.within(call, principal, target))
