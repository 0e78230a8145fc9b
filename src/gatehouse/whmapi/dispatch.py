"""Run one WHM API function for an authenticated principal and shape the answer.

Shared by the HTTP server and the `gatehouse whmapi1` command, so both print the same
envelope for the same call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class Outcome:
    status: int
    payload: dict[str, Any]
    ok: bool

    @property
    def body(self) -> bytes:
        return envelope.dumps(self.payload)


def _fail(name: str, reason: str, status: int = 200, data: Any = None) -> Outcome:
    extra = {} if data is None else {"data": data}
    return Outcome(status, envelope.whm1_dict(name, ok=False, reason=reason, **extra), False)


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
) -> Outcome:
    api_version = params.get("api.version")
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
    reply = result if isinstance(result, Reply) else Reply(data=result)
    if reply.has_data:
        payload = envelope.whm1_dict(
            name, ok=True, reason=reply.reason, data=reply.data, metadata=reply.metadata
        )
    else:
        payload = envelope.whm1_dict(name, ok=True, reason=reply.reason, metadata=reply.metadata)
    return Outcome(200, payload, True)
