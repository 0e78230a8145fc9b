"""Run one UAPI or cPanel API 2 function for a cPanel account and shape the answer.

One path for every face: the cPanel HTTP face (`CpanelApp`), WHM's `cpanel` function
(`run_within`, inside the WHM call's own transaction) and `gatehouse uapi`, so all three
answer the same call with the same bytes.

* `execute(...)` looks the function up, runs it in one Transaction (all or nothing) and, after
  a successful call, does the post-commit work WHM API calls do (`finish`).
* `run_within(...)` runs it inside a caller's Call (WHM's `cpanel` function): the WHM
  dispatcher owns the transaction and the post-commit work; a failure raises
  `CpanelCallFailed` (a refusal: `PermissionDenied`, which the dispatcher audits), whose
  `.data` is the failure envelope, so the WHM transaction rolls back and the face can still
  answer in the cPanel flavour.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from gatehouse.api.call import Call, Transaction
from gatehouse.api.dispatch import Outcome, audit_denial, note_use
from gatehouse.api.params import Params
from gatehouse.api.registry import Envelope
from gatehouse.auth.authenticator import Principal
from gatehouse.cpanel import envelope
from gatehouse.cpanel.registry import (
    API2,
    UAPI,
    Api,
    Api2Reported,
    CpanelFunction,
    UapiResult,
    registry_for,
)
from gatehouse.domain import token_scope
from gatehouse.domain.tokens import Token
from gatehouse.domain.users import User
from gatehouse.errors import GatehouseError, PermissionDenied

if TYPE_CHECKING:
    from gatehouse.core import Gatehouse

log = logging.getLogger("gatehouse.cpanel")

INTERNAL_ERROR = "Internal error: the call failed; see the server log."


class CpanelCallFailed(GatehouseError):
    """A cPanel function failed inside another call (WHM's `cpanel`): `.data` is an
    `Envelope` holding the failure envelope of the function's own flavour."""

    def __init__(self, reason: str, *, payload: dict[str, Any]) -> None:
        super().__init__(reason, data=Envelope(payload))
        self.payload = payload


def principal_for(
    account: User,
    method: str,
    *,
    token: Token | None = None,
    via: str | None = None,
) -> Principal:
    """The principal a cPanel function runs as. cPanel features are not modelled, so an
    account holds no WHM privileges here: it may call every registered function on itself."""
    return Principal(user=account, method=method, privileges=frozenset(), token=token, via=via)


def lookup(api: Api, module: str, func: str) -> CpanelFunction | None:
    return registry_for(api).get(module, func)


def unknown_payload(api: Api, module: str, func: str) -> dict[str, Any]:
    """The envelope for a module or function that does not exist, in that API's own shape."""
    if api == UAPI:
        registry = registry_for(UAPI)
        reason = (
            envelope.unknown_uapi_function_reason(module, func)
            if registry.has_module(module)
            else envelope.unknown_uapi_module_reason(module)
        )
        return envelope.uapi_dict(module, func, ok=False, errors=[reason])
    return envelope.api2_dict(module, func, error=envelope.unknown_api2_reason(module, func))


def failure_payload(
    api: Api, module: str, func: str, reason: str, data: Any = None
) -> dict[str, Any]:
    """A failed call. UAPI carries the error's payload in `result.data` (cPanel's
    Cpanel::APICommon::Error payloads, e.g. `{"type":"Stale","detail":null}` from
    DNS::mass_edit_zone); API 2 has no place for one (`data` stays `[]`), except a failure
    the function reports as its data (`Api2Reported`: cPanel's api2_* functions)."""
    if isinstance(data, Api2Reported):
        if api == API2:
            return envelope.api2_dict(module, func, data=data.items, error=reason, ran=True)
        data = None
    if api == UAPI:
        return envelope.uapi_dict(module, func, ok=False, data=data, errors=[reason])
    return envelope.api2_dict(module, func, error=reason)


def success_payload(fn: CpanelFunction, result: Any) -> dict[str, Any]:
    if fn.api == UAPI:
        reply = result if isinstance(result, UapiResult) else UapiResult(data=result)
        metadata = dict(reply.metadata or {})
        if isinstance(reply.data, list):
            # cPanel's post-execution transform (filter/sort/paginate) runs on every list
            # result and marks it so (Cpanel::API::_post_execute_transform).
            metadata.setdefault("transformed", 1)
        return envelope.uapi_dict(
            fn.module,
            fn.name,
            ok=True,
            data=reply.data,
            messages=reply.messages,
            warnings=reply.warnings,
            metadata=metadata,
        )
    if result is None:
        data: list[Any] = []
    elif isinstance(result, list):
        data = result
    else:
        data = [result]
    return envelope.api2_dict(fn.module, fn.name, data=data)


def execute(
    gatehouse: Gatehouse,
    principal: Principal,
    api: Api,
    module: str,
    func: str,
    params: Params,
    *,
    peer: str | None = None,
    host: str | None = None,
) -> Outcome:
    """Run `module::func` of `api` as `principal` (a cPanel account) in its own transaction.

    HTTP status: 200 for every answer of a function, successful or not (cPanel's UAPI and
    API 2 report failure in the body); 500 only when the handler broke."""
    fn = lookup(api, module, func)
    if fn is None:
        return Outcome(200, unknown_payload(api, module, func), False)
    outcome = _run(gatehouse, principal, api, module, func, fn, params, peer, host)
    if principal.token is not None:
        # The account's privileges are not WHM's: only the scope can refuse before the call.
        note_use(gatehouse, principal, fn.qualified, fn.readonly, True, outcome)
    return outcome


def _run(
    gatehouse: Gatehouse,
    principal: Principal,
    api: Api,
    module: str,
    func: str,
    fn: CpanelFunction,
    params: Params,
    peer: str | None,
    host: str | None,
) -> Outcome:
    scope = principal.token.scope if principal.token is not None else None
    if scope is not None and not scope.allows_function(fn.qualified, fn.readonly):
        reason = token_scope.function_refusal(fn.qualified)
        audit_denial(gatehouse, principal, code=token_scope.OUT_OF_SCOPE, detail=reason, peer=peer)
        return Outcome(200, failure_payload(api, module, func, reason), False)
    try:
        with Transaction(gatehouse.engine, writes=not fn.readonly) as transaction:
            call = Call(
                fn.qualified, principal, params, transaction, gatehouse.now(), peer, gatehouse, host
            )
            result = fn.handler(call)
    except GatehouseError as exc:
        if isinstance(exc, PermissionDenied):
            # As the WHM dispatcher: every refusal reaches the audit trail with its reason code.
            audit_denial(gatehouse, principal, code=exc.code, detail=exc.reason, peer=peer)
        return Outcome(200, failure_payload(api, module, func, exc.reason, exc.data), False)
    except Exception:
        log.exception("%s function %s failed", api, fn.qualified)
        return Outcome(500, failure_payload(api, module, func, INTERNAL_ERROR), False)
    call.finish(changed=not fn.readonly)
    return Outcome(200, success_payload(fn, result), True)


def run_within(
    outer: Call, principal: Principal, api: Api, module: str, func: str
) -> dict[str, Any]:
    """Run `module::func` as `principal` inside `outer`'s transaction, with `outer`'s
    parameters; returns the success envelope or raises `CpanelCallFailed` (`PermissionDenied`
    for a refusal). The function's after-commit work joins `outer`'s, so it runs only when the
    outer call commits."""
    fn = lookup(api, module, func)
    if fn is None:
        payload = unknown_payload(api, module, func)
        raise CpanelCallFailed(_reason_of(payload), payload=payload)
    inner = Call(
        fn.qualified,
        principal,
        outer.params,
        outer.transaction,
        outer.now,
        outer.peer,
        outer.gatehouse,
        outer.host,
        after_commit=outer.after_commit,
    )
    try:
        result = fn.handler(inner)
    except GatehouseError as exc:
        payload = failure_payload(api, module, func, exc.reason, exc.data)
        if isinstance(exc, PermissionDenied):
            # Still a refusal (the outer dispatcher audits it with its reason code), answered
            # in the function's own envelope.
            raise PermissionDenied(exc.reason, code=exc.code, data=Envelope(payload)) from exc
        raise CpanelCallFailed(exc.reason, payload=payload) from exc
    return success_payload(fn, result)


def json_api_target(params: Params) -> tuple[Api, str, str]:
    """What a `/json-api/cpanel` request calls (the cPanel face and WHM's `cpanel` function):
    API 2 unless `cpanel_jsonapi_apiversion=3` (UAPI), `cpanel_jsonapi_module`,
    `cpanel_jsonapi_func`. Raises `CpanelCallFailed` (with the payload) when unusable."""
    version = params.get("cpanel_jsonapi_apiversion")
    module = params.get("cpanel_jsonapi_module") or ""
    func = params.get("cpanel_jsonapi_func") or ""
    if version in (None, "", "2"):
        api: Api = API2
    elif version == "3":
        api = UAPI
    else:
        # Choice: cPanel API 1 (and anything else) is not offered; API 2's shape says so.
        reason = f"“{version}” is not a supported “cpanel_jsonapi_apiversion”: use 2 or 3."
        raise CpanelCallFailed(reason, payload=failure_payload(API2, module, func, reason))
    for name, value in (("cpanel_jsonapi_module", module), ("cpanel_jsonapi_func", func)):
        if not value:
            reason = f"Provide the “{name}” argument."
            raise CpanelCallFailed(reason, payload=failure_payload(api, module, func, reason))
    return api, module, func


def _reason_of(payload: dict[str, Any]) -> str:
    if "result" in payload:
        errors = payload["result"].get("errors") or ["The call failed."]
        return str(errors[0])
    return str(payload["cpanelresult"].get("error", "The call failed."))


def _api(name: str) -> Api:
    return UAPI if name == UAPI else API2


def refusal(params: Params, reason: str) -> dict[str, Any]:
    """A refusal made before a `/json-api/cpanel`-style call's function ran (a missing
    privilege, an internal error), in the flavour its parameters ask for."""
    module = params.get("cpanel_jsonapi_module") or ""
    func = params.get("cpanel_jsonapi_func") or ""
    if params.get("cpanel_jsonapi_apiversion") == "3":
        return envelope.uapi_dict(module, func, ok=False, errors=[reason])
    # cpsrvd's refusal shape for API 2 URLs (whm-reference §2.5).
    return envelope.api2_refusal_dict(reason)


class AccountFunctions:
    """This face's functions as other faces run them (`gatehouse.api.bridge.AccountApi`)."""

    def principal_for(self, account: User, method: str, *, via: str | None = None) -> Principal:
        return principal_for(account, method, via=via)

    def uapi(
        self,
        gatehouse: Gatehouse,
        principal: Principal,
        module: str,
        func: str,
        params: Params,
        *,
        peer: str | None = None,
        host: str | None = None,
    ) -> Outcome:
        return execute(gatehouse, principal, UAPI, module, func, params, peer=peer, host=host)

    def api2(
        self,
        gatehouse: Gatehouse,
        principal: Principal,
        module: str,
        func: str,
        params: Params,
    ) -> Outcome:
        return execute(gatehouse, principal, API2, module, func, params)

    def target(self, params: Params) -> tuple[str, str, str]:
        return json_api_target(params)

    def uapi_target(self, module: str, func: str) -> tuple[str, str, str]:
        return UAPI, module, func

    def failure(self, target: tuple[str, str, str], reason: str) -> dict[str, Any]:
        api, module, func = target
        return failure_payload(_api(api), module, func, reason)

    def within(
        self, outer: Call, principal: Principal, target: tuple[str, str, str]
    ) -> dict[str, Any]:
        api, module, func = target
        return run_within(outer, principal, _api(api), module, func)

    def refusal(self, params: Params, reason: str) -> dict[str, Any]:
        return refusal(params, reason)


__all__ = [
    "API2",
    "UAPI",
    "CpanelCallFailed",
    "Outcome",
    "execute",
    "failure_payload",
    "json_api_target",
    "lookup",
    "principal_for",
    "run_within",
]
