"""Run one function of a registry for an authenticated principal and shape the answer: the
dispatch skeleton every WHM API 1 caller shares (the HTTP face, the pages, `gatehouse
whmapi1`), so all of them answer the same call with the same envelope.

Lookup → privilege check (a refusal is audited) → the declared required parameters
(`enforce_required`) → the handler in ONE transaction → the
post-commit work → WHM API 1's envelope (or the function's own, for a function that answers in
another API's: `Envelope`, `Function.refusal`). A `PermissionDenied` raised inside a handler is
audited with its reason code, as the dispatcher's own refusals are.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gatehouse.api import envelope, listing
from gatehouse.api.api0 import Answer, Api0
from gatehouse.api.call import Call, Transaction
from gatehouse.api.params import Params
from gatehouse.api.registry import Envelope, Function, Registry, Reply
from gatehouse.auth.authenticator import Principal
from gatehouse.domain import audit, token_scope, token_usage
from gatehouse.errors import GatehouseError, PermissionDenied, missing_parameter

if TYPE_CHECKING:
    from gatehouse.core import Gatehouse

log = logging.getLogger("gatehouse.whmapi")


class Outcome:
    """A call's HTTP status, success, and answer. A WHM API 1 answer is kept as its parts and
    shaped on demand: the server wants bytes (built straight from the parts), the pages and
    the CLI want the payload dict."""

    __slots__ = ("_parts", "_payload", "ok", "status")

    def __init__(self, status: int, payload: dict[str, Any], ok: bool) -> None:
        self.status = status
        self.ok = ok
        self._payload: dict[str, Any] | None = payload
        self._parts: tuple[str, str, Any, dict[str, Any] | None] | None = None

    @classmethod
    def whm1(
        cls,
        status: int,
        name: str,
        *,
        ok: bool,
        reason: str,
        data: Any = envelope.MISSING,
        metadata: dict[str, Any] | None = None,
    ) -> Outcome:
        outcome = cls.__new__(cls)
        outcome.status = status
        outcome.ok = ok
        outcome._payload = None
        outcome._parts = (name, reason, data, metadata)
        return outcome

    @property
    def payload(self) -> dict[str, Any]:
        if self._payload is None:
            assert self._parts is not None
            name, reason, data, metadata = self._parts
            self._payload = envelope.whm1_dict(
                name, ok=self.ok, reason=reason, data=data, metadata=metadata
            )
        return self._payload

    @property
    def body(self) -> bytes:
        if self._parts is not None:
            name, reason, data, metadata = self._parts
            return envelope.whm1(name, ok=self.ok, reason=reason, data=data, metadata=metadata)
        return envelope.dumps(self._payload)


def _fail(name: str, reason: str, status: int = 200, data: Any = None) -> Outcome:
    if data is None:
        return Outcome.whm1(status, name, ok=False, reason=reason)
    return Outcome.whm1(status, name, ok=False, reason=reason, data=data)


def missing_privilege_reason(fn: Function, api0: bool = False) -> str:
    needs = fn.needs(api0)
    wanted = " or ".join(f"“{p}”" for p in needs)
    noun = "privilege" if len(needs) == 1 else "privileges"
    return f"Access denied: calling “{fn.name}” requires the {wanted} {noun}."


def _refused(fn: Function, params: Params, status: int, reason: str) -> Outcome:
    """A refusal made before or around the handler, in the envelope the function answers in."""
    if fn.refusal is not None:
        return Outcome(status, fn.refusal(params, reason), False)
    return _fail(fn.name, reason, status=status)


def enforce_required(fn: Function, params: Params) -> None:
    """Refuse a call without one of the function's declared required parameters, exactly as
    the handler's own `call.require` would have (same rule for "missing", same message)."""
    for param in fn.enforced:
        value = params.get(param.name)
        if value is None or value == "":
            raise missing_parameter(param.name)


def audit_denial(
    gatehouse: Gatehouse,
    principal: Principal,
    *,
    code: str,
    detail: str,
    peer: str | None,
) -> None:
    """Record a refused call (its own transaction: the call's, if any, is rolled back)."""
    with gatehouse.engine.begin() as conn:
        audit.record(
            conn,
            now=gatehouse.now(),
            action=audit.ACCESS_DENIED,
            reason=code,
            actor=principal.user.username,
            source_ip=peer,
            token_name=principal.token_name,
            detail=detail,
        )


def execute(
    gatehouse: Gatehouse,
    registry: Registry,
    principal: Principal,
    name: str,
    params: Params,
    *,
    peer: str | None = None,
    host: str | None = None,
    fn: Function | None = None,
) -> Outcome:
    """`fn`: the registry's function of that name, when the caller has already looked it up.
    A token's call is noted for its usage record (domain/token_usage.py), in memory."""
    if fn is None:
        fn = registry.get(name)
    outcome = _execute(gatehouse, registry, principal, name, params, peer, host, fn)
    if principal.token is not None and fn is not None:
        # Whether the token held the privilege matters only to a call that failed.
        allowed = outcome.ok or fn.allowed(principal.privileges, _is_api0(fn, params))
        note_use(gatehouse, principal, name, fn.readonly, allowed, outcome)
    return outcome


def note_use(
    gatehouse: Gatehouse,
    principal: Principal,
    name: str,
    readonly: bool,
    allowed: bool,
    outcome: Outcome,
) -> None:
    """Note a token's call and how it ended: `ok`, `missing_privilege`, `out_of_scope`,
    `failed` (the function refused), `error` (it broke)."""
    token = principal.token
    assert token is not None
    if outcome.ok:
        result = token_usage.OK
    elif not allowed:
        result = "missing_privilege"
    elif token.scope is not None and not token.scope.allows_function(name, readonly):
        result = token_scope.OUT_OF_SCOPE
    elif outcome.status >= 500:
        result = "error"
    else:
        result = token_usage.FAILED
    gatehouse.usage.note(token.id, token.create_time, name, gatehouse.now(), result)


MISSING_PRIVILEGE = "missing_privilege"


def _is_api0(fn: Function, params: Params) -> bool:
    """Whether the call answers as WHM API 0: no `api.version` (or 0), and an API 0 form."""
    return fn.api0 is not None and params.get("api.version") != "1"


def denial_of(
    principal: Principal, fn: Function, api0: bool = False
) -> tuple[str, str, str] | None:
    """Why `principal` may not call `fn` at all — (reason code, audit detail, the caller's
    reason) — or None: the privilege (API 0's when `api0`), then the token's scope. The one
    check before any call runs (a batch asks it of every command before it runs the first)."""
    if not fn.allowed(principal.privileges, api0):
        detail = f"{fn.name} needs {' or '.join(fn.needs(api0))}"
        return MISSING_PRIVILEGE, detail, missing_privilege_reason(fn, api0)
    scope = principal.token.scope if principal.token is not None else None
    if scope is not None and not scope.allows_function(fn.name, fn.readonly):
        reason = token_scope.function_refusal(fn.name)
        return token_scope.OUT_OF_SCOPE, reason, reason
    return None


def _execute(
    gatehouse: Gatehouse,
    registry: Registry,
    principal: Principal,
    name: str,
    params: Params,
    peer: str | None,
    host: str | None,
    fn: Function | None,
) -> Outcome:
    api_version = params.get("api.version")
    if api_version not in (None, "1", "0"):
        return _fail(name, envelope.unknown_function_reason(name, api_version))
    if fn is None:
        # No api.version means WHM API 0, as cPanel's own API 0 refusal says.
        return _fail(name, envelope.unknown_function_reason(name, api_version or "0"))
    if fn.api0_only and api_version == "1":
        # cPanel's API 1 has no function of that name (Meta.pm's API 0 table has).
        return _fail(name, envelope.unknown_function_reason(name, api_version))
    denial = denial_of(principal, fn, _is_api0(fn, params))
    if denial is not None:
        code, detail, reason = denial
        audit_denial(gatehouse, principal, code=code, detail=detail, peer=peer)
        if api_version != "1" and code == MISSING_PRIVILEGE:
            api0_body = _api0_refusal(fn, params, reason)
            if api0_body is not None:
                return Outcome(403, api0_body, False)
        return _refused(fn, params, 403, reason)
    if api_version != "1" and fn.api0 is not None:
        return _execute_api0(gatehouse, fn, fn.api0, principal, name, params, peer, host)
    options = listing.wanted(params)
    if options:
        try:
            listing.check(params)
        except GatehouseError as exc:
            return _fail(name, exc.reason)
    try:
        with Transaction(gatehouse.engine, writes=not fn.readonly) as transaction:
            call = Call(
                name, principal, params, transaction, gatehouse.now(), peer, gatehouse, host
            )
            enforce_required(fn, params)
            result = fn.handler(call)
    except GatehouseError as exc:
        if isinstance(exc, PermissionDenied):
            audit_denial(gatehouse, principal, code=exc.code, detail=exc.reason, peer=peer)
        if isinstance(exc.data, Envelope):
            return Outcome(200, exc.data.payload, False)
        if fn.refusal is not None:
            return Outcome(200, fn.refusal(params, exc.reason), False)
        return _fail(name, exc.reason, data=exc.data)
    except Exception:
        log.exception("function %s failed", name)
        return _refused(fn, params, 500, "Internal error: the call failed; see the server log.")
    call.finish(changed=not fn.readonly)
    if isinstance(result, Envelope):
        return Outcome(200, result.payload, True)
    if options:
        return _listed(name, result, params)
    if not isinstance(result, Reply):
        return Outcome.whm1(200, name, ok=True, reason="OK", data=result)
    return Outcome.whm1(
        200,
        name,
        ok=True,
        reason=result.reason,
        data=result.data if result.has_data else envelope.MISSING,
        metadata=result.metadata,
    )


INTERNAL_ERROR = "Internal error: the call failed; see the server log."


def _api0_refusal(fn: Function, params: Params, reason: str) -> dict[str, Any] | None:
    """A refusal in the function's WHM API 0 shape, when it has one."""
    if isinstance(fn.api0, Api0):
        return fn.api0.refused(params, reason)
    if fn.api0 is not None and fn.api0_refusal is not None:
        return fn.api0_refusal(params, reason)
    return None


def _execute_api0(
    gatehouse: Gatehouse,
    fn: Function,
    form: Api0 | Callable[[Call], dict[str, Any]],
    principal: Principal,
    name: str,
    params: Params,
    peer: str | None,
    host: str | None,
) -> Outcome:
    """A WHM API 0 call (no `api.version`, or 0): the same handler in one transaction, its
    answer in the function's API 0 form (api/api0.py); a refusal in that form too."""
    if isinstance(form, Api0):
        params = form.params(params)
    try:
        with Transaction(gatehouse.engine, writes=not fn.readonly) as transaction:
            call = Call(
                name, principal, params, transaction, gatehouse.now(), peer, gatehouse, host
            )
            refused = form.refusal(call) if isinstance(form, Api0) else None
            if refused is not None:
                body = refused
            elif isinstance(form, Api0):
                enforce_required(fn, params)
                body = form.success(Answer.of(fn.handler(call)))
            else:
                body = form(call)
    except GatehouseError as exc:
        if isinstance(exc, PermissionDenied):
            audit_denial(gatehouse, principal, code=exc.code, detail=exc.reason, peer=peer)
        if isinstance(exc.data, Envelope):
            return Outcome(200, exc.data.payload, False)
        if isinstance(form, Api0):
            return Outcome(200, form.refused(params, exc.reason), False)
        return _fail(name, exc.reason, data=exc.data)
    except Exception:
        log.exception("function %s failed", name)
        api0_body = _api0_refusal(fn, params, INTERNAL_ERROR)
        if api0_body is not None:
            return Outcome(500, api0_body, False)
        return _refused(fn, params, 500, INTERNAL_ERROR)
    if refused is not None:
        return Outcome(200, body, False)  # nothing was written: nothing to finish
    call.finish(changed=not fn.readonly)
    return Outcome(200, body, True)


def _listed(name: str, result: Any, params: Params) -> Outcome:
    """A successful WHM API 1 answer with the list options asked for (api/listing.py)."""
    reply = result if isinstance(result, Reply) else Reply(data=result)
    data, extra = listing.apply(reply.data, params)  # the options were checked before
    # A function that left out records itself (listing.exact_filter) tells its own count.
    metadata = {**extra, **(reply.metadata or {})} or None
    return Outcome.whm1(
        200,
        name,
        ok=True,
        reason=reply.reason,
        data=data if reply.has_data else envelope.MISSING,
        metadata=metadata,
    )
