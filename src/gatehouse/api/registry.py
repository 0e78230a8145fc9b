"""A function registry: each function declares its parameters, the privilege it needs and its
handler. The WHM face keeps one (`gatehouse.whm.registry`); `applist`, the OpenAPI document
and the dispatcher's privilege check read it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from gatehouse import acls

if TYPE_CHECKING:
    from gatehouse.api.api0 import Api0
    from gatehouse.api.call import Call
    from gatehouse.api.params import Params


class Runnable(Protocol):
    @property
    def slow(self) -> bool: ...

    @property
    def readonly(self) -> bool: ...


def runs_off_loop(fn: Runnable | None, store_is_remote: bool) -> bool:
    """Whether a face runs a call of `fn` on a worker thread rather than on the event loop:
    when it is slow, and on a PostgreSQL store when it may write — its transaction's round
    trips take milliseconds, and a change to authentication then waits for every node's
    listeners (`Call.finish`); on the loop, every other request of the process would wait
    too. An unknown function is refused at once, on the loop."""
    if fn is None:
        return False
    return fn.slow or (store_is_remote and not fn.readonly)


@dataclass(frozen=True, slots=True)
class Param:
    """One declared parameter. `required`: the call is refused without it (a parameter that
    has an alternative, such as `domain` or `zone`, is not). The dispatcher refuses a missing
    required parameter before the handler runs, with `Missing parameter: NAME`, in the declared
    order (`enforce_required`) — unless `handler_refuses`: the handler refuses its absence itself,
    in cPanel's own words or after checking other parameters first, which clients see and the
    tests pin. `secret`: a credential; never in a log line or an audit detail, and `format:
    password`, `writeOnly` in the OpenAPI document."""

    name: str
    description: str
    required: bool = False
    multi: bool = False  # accepts `name`, `name-N` and repetitions
    type: str = "string"  # string | integer | boolean (0/1)
    secret: bool = False
    handler_refuses: bool = False


@dataclass(frozen=True, slots=True)
class Reply:
    """A handler's answer when it needs more than `data`."""

    data: Any = None
    reason: str = "OK"
    has_data: bool = True
    metadata: dict[str, Any] | None = None
    # WHM API 0's message where it is not API 1's reason: cPanel's API 1 says `OK` for some
    # functions whose API 0 form passes the underlying call's own words on (changepackage).
    api0_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Envelope:
    """A handler's whole answer, already shaped by the API it ran (WHM's `cpanel` function
    answers in the called UAPI or API 2 function's own envelope, not WHM API 1's)."""

    payload: dict[str, Any]


Handler = Callable[["Call"], Any]
# For a function that answers in another API's envelope: the shape of a refusal made before or
# around its handler (a missing privilege, an internal error), given the call's parameters.
Refusal = Callable[["Params", str], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    summary: str
    handler: Handler
    params: tuple[Param, ...] = ()
    # The caller needs ANY of these; empty = any WHM user; ("all",) = root's privilege.
    privileges: tuple[str, ...] = ()
    # Answers without `api.version` (WHM API 0), for the few functions old clients call so.
    api0: Callable[[Call], dict[str, Any]] | Api0 | None = None
    # Long or blocking work (Argon2 ~155 ms, large zones, zone-file writes): run off the event
    # loop, so token checks and DNS answers go on meanwhile.
    slow: bool = False
    # Changes nothing: a successful call need not flush this process's token cache.
    readonly: bool = False
    # Set when the handler answers with an `Envelope` of another API (see `Refusal`).
    refusal: Refusal | None = None
    # For an `api0` given as a callable (its own answer, not an `Api0` family): the API 0
    # shape of a refusal made before or around it (a missing privilege, an internal error).
    api0_refusal: Refusal | None = None
    # A function of WHM API 0 only (cPanel's Whostmgr/XMLUI/Meta.pm, with no API 1 function of
    # that name, such as `loadavg`): answered without `api.version` or with `api.version=0`;
    # with `api.version=1` it is unknown, as to cPanel, and API 1's lists (applist, the
    # OpenAPI document, batch) leave it out.
    api0_only: bool = False
    # The privileges WHM API 0 requires where they are not API 1's (Meta.pm's `check`: cPanel's
    # API 0 `generatessl` and `fetchsslinfo` need `ssl`); None: API 1's.
    api0_privileges: tuple[str, ...] | None = None
    # The required parameters the dispatcher checks for, in declared order: made once here,
    # not on every call (it was a tuple built per request on the token path).
    enforced: tuple[Param, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        required = tuple(p for p in self.params if p.required and not p.handler_refuses)
        object.__setattr__(self, "enforced", required)

    def needs(self, api0: bool = False) -> tuple[str, ...]:
        """The privileges a call needs (any of them), in WHM API 0 when `api0`."""
        if api0 and self.api0_privileges is not None:
            return self.api0_privileges
        return self.privileges

    def allowed(self, held: frozenset[str], api0: bool = False) -> bool:
        needs = self.needs(api0)
        if not needs or acls.ALL in held:
            return True
        return any(p in held for p in needs)


@dataclass
class Registry:
    functions: dict[str, Function] = field(default_factory=dict)

    def function(
        self,
        name: str,
        summary: str,
        *,
        params: tuple[Param, ...] = (),
        privileges: tuple[str, ...] = (),
        api0: Callable[[Call], dict[str, Any]] | Api0 | None = None,
        slow: bool = False,
        readonly: bool = False,
        refusal: Refusal | None = None,
        api0_refusal: Refusal | None = None,
        api0_only: bool = False,
        api0_privileges: tuple[str, ...] | None = None,
    ) -> Callable[[Handler], Handler]:
        for p in (*privileges, *(api0_privileges or ())):
            if acls.canonical(p) != p:
                raise ValueError(f"{name}: unknown privilege {p!r}")
        if (api0_only or api0_privileges is not None) and api0 is None:
            raise ValueError(f"{name}: an API 0 notion without an API 0 form")

        def register(handler: Handler) -> Handler:
            if name in self.functions:
                raise ValueError(f"function {name} registered twice")
            self.functions[name] = Function(
                name,
                summary,
                handler,
                params,
                privileges,
                api0,
                slow,
                readonly,
                refusal,
                api0_refusal,
                api0_only,
                api0_privileges,
            )
            return handler

        return register

    def get(self, name: str) -> Function | None:
        return self.functions.get(name)

    def names(self) -> list[str]:
        return sorted(self.functions)

    def api1_names(self) -> list[str]:
        """The functions of WHM API 1 (not those of API 0 only)."""
        return [n for n in self.names() if not self.functions[n].api0_only]
