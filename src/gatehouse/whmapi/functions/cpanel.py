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
(with `cpanel-api`) only the accounts it owns, its own included (User.owns). A reseller is
never told whether an account it does not own exists.

A suspended account can be reached: suspension stops the account's own credentials (its
password, its cPanel tokens), not its administrators — who may well need to list or revoke
its tokens before lifting the suspension.
"""

from __future__ import annotations

from typing import Any

from gatehouse.cpanel import envelope as cp_envelope
from gatehouse.cpanel import execute as cp_execute
from gatehouse.cpanel.registry import API2, UAPI, Api
from gatehouse.cpanel.registry import load_all as load_cpanel_functions
from gatehouse.domain import lifecycle, users
from gatehouse.errors import no_access_to_account
from gatehouse.whmapi.call import Call
from gatehouse.whmapi.dispatch import Outcome
from gatehouse.whmapi.params import Params
from gatehouse.whmapi.registry import REGISTRY, Param

NAME = "cpanel"

# The cPanel functions this one reaches are registered on import, whichever face starts first.
load_cpanel_functions()


def _flavour(params: Params) -> Api:
    return UAPI if params.get("cpanel_jsonapi_apiversion") == "3" else API2


def _fail(api: Api, module: str, func: str, reason: str) -> cp_execute.CpanelCallFailed:
    payload = cp_execute.failure_payload(api, module, func, reason)
    return cp_execute.CpanelCallFailed(reason, data=payload)


@REGISTRY.function(
    NAME,
    "Call a UAPI (`cpanel_jsonapi_apiversion=3`) or cPanel API 2 function as an account "
    "(`cpanel_jsonapi_user`); answers in that API's own envelope.",
    params=(
        Param("cpanel_jsonapi_user", "The account to act as.", required=True),
        Param("cpanel_jsonapi_apiversion", "3 for UAPI, 2 (the default) for cPanel API 2."),
        Param("cpanel_jsonapi_module", "The module, e.g. `DomainInfo`, `ZoneEdit`.", required=True),
        Param("cpanel_jsonapi_func", "The function, e.g. `list_domains`.", required=True),
    ),
    privileges=("cpanel-api",),
    slow=True,  # it runs any cPanel function, large zone edits included
)
def cpanel(call: Call) -> dict[str, Any]:
    params = call.params
    api, module, func = cp_execute.json_api_target(params)
    username = params.get("cpanel_jsonapi_user") or params.get("user") or ""
    if not username:
        raise _fail(api, module, func, "User parameter is invalid or was not supplied")
    caller = call.principal.user
    sees_all = lifecycle.has_root(caller, call.principal.privileges)
    account = users.get(call.conn, username)
    if account is None or not (sees_all or caller.owns(account)):
        if sees_all:
            raise _fail(api, module, func, f"The user “{username}” does not exist.")
        raise _fail(api, module, func, no_access_to_account(username).reason)
    if not account.has_cpanel_account:
        raise _fail(api, module, func, f"The user “{username}” does not have a cPanel account.")
    principal = cp_execute.principal_for(account, "whm", via=caller.username)
    return cp_execute.run_within(call, principal, api, module, func)


def unwrap(outcome: Outcome, params: Params) -> Outcome:
    """The dispatcher's WHM API 1 envelope around a `cpanel` call → the cPanel envelope the
    caller expects. A refusal made before the function ran (a missing privilege, an internal
    error) has no cPanel payload: it is re-shaped in the flavour asked for."""
    payload = outcome.payload
    data = payload.get("data")
    if isinstance(data, dict) and ("cpanelresult" in data or data.get("apiversion") == 3):
        return Outcome(outcome.status, data, outcome.ok)
    reason = str(payload.get("metadata", {}).get("reason", "The call failed."))
    module = params.get("cpanel_jsonapi_module") or ""
    func = params.get("cpanel_jsonapi_func") or ""
    if _flavour(params) == UAPI:
        body = cp_envelope.uapi_dict(module, func, ok=False, errors=[reason])
    else:
        # cpsrvd's refusal shape for API 2 URLs (whm-reference §2.5).
        body = cp_envelope.api2_refusal_dict(reason)
    return Outcome(outcome.status, body, False)
