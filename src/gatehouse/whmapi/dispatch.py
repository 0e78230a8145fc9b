"""Run one WHM API function for an authenticated principal and shape the answer.

Shared by the HTTP server and the `gatehouse whmapi1` command, so both print the same
envelope for the same call.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from gatehouse.auth.authenticator import Principal
from gatehouse.domain import audit
from gatehouse.errors import GatehouseError
from gatehouse.whmapi import envelope
from gatehouse.whmapi.call import Call, Transaction
from gatehouse.whmapi.params import Params
from gatehouse.whmapi.registry import Function, Reply

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


def missing_privilege_reason(fn: Function) -> str:
    wanted = " or ".join(f"“{p}”" for p in fn.privileges)
    noun = "privilege" if len(fn.privileges) == 1 else "privileges"
    return f"Access denied: calling “{fn.name}” requires the {wanted} {noun}."


def execute(
    gatehouse: Gatehouse,
    principal: Principal,
    name: str,
    params: Params,
    *,
    peer: str | None = None,
    host: str | None = None,
    fn: Function | None = None,
) -> Outcome:
    """`fn`: the registry's function of that name, when the caller has already looked it up."""
    api_version = params.get("api.version")
    if fn is None:
        fn = gatehouse.registry.get(name)
    if api_version not in (None, "1", "0"):
        return _fail(name, envelope.unknown_function_reason(name, api_version))
    if fn is None:
        # No api.version means WHM API 0, as cPanel's own API 0 refusal says.
        return _fail(name, envelope.unknown_function_reason(name, api_version or "0"))
    if not fn.allowed(principal.privileges):
        with gatehouse.engine.begin() as conn:
            audit.record(
                conn,
                now=gatehouse.now(),
                action=audit.ACCESS_DENIED,
                reason="missing_privilege",
                actor=principal.user.username,
                source_ip=peer,
                token_name=principal.token_name,
                detail=f"{name} needs {' or '.join(fn.privileges)}",
            )
        return _fail(name, missing_privilege_reason(fn), status=403)
    api0 = api_version in (None, "0") and fn.api0 is not None
    try:
        with Transaction(gatehouse.engine) as transaction:
            call = Call(
                name, principal, params, transaction, gatehouse.now(), peer, gatehouse, host
            )
            if api0:
                assert fn.api0 is not None
                return Outcome(200, fn.api0(call), True)
            result = fn.handler(call)
    except GatehouseError as exc:
        return _fail(name, exc.reason, data=exc.data)
    except Exception:
        log.exception("function %s failed", name)
        return _fail(name, "Internal error: the call failed; see the server log.", status=500)
    call.finish(changed=not fn.readonly)
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
