"""The registries of the cPanel face's two APIs: UAPI and cPanel API 2.

Declaring a function (in a module of `gatehouse.cpanel.functions`, loaded on start)::

    from gatehouse.cpanel.registry import UapiResult, api2, uapi
    from gatehouse.api.call import Call

    @uapi("DomainInfo", "list_domains", "The account's domains.", readonly=True)
    def list_domains(call: Call) -> dict[str, Any]:
        ...

    @api2("ZoneEdit", "add_zone_record", "Add a record to a zone.", readonly=False)
    def add_zone_record(call: Call) -> list[dict[str, Any]]:
        ...

What a handler gets — a `gatehouse.api.call.Call`, as WHM functions do:

* `call.principal.user` is the cPanel ACCOUNT the call acts as: the token's or password's
  owner on the cPanel face, the `cpanel_jsonapi_user` account (never the reseller or root who
  called) through WHM's `cpanel` function, the `--user` account for `gatehouse uapi`.
  `call.principal.method` says how (`token`, `password`, `local`, `whm`); `call.principal.via`
  names the WHM user behind a `whm` call. `call.principal.privileges` is empty: cPanel
  features are not modelled, every account may call every registered function on itself.
* `call.params` the request parameters (query and body merged, `key-N` lists), `call.conn`
  the call's one transaction (committed only if the handler returns), `call.now`,
  `call.peer`, `call.audit(action, subject, detail)`, `call.after_commit` (work to run once
  committed; never run when the call fails).

What a handler returns:

* UAPI: the value of `result.data` (any JSON value, None for `null`), or a `UapiResult` to
  also set `metadata`, `messages` or `warnings`. A list result gets `metadata.transformed: 1`,
  as cPanel's post-execution transform adds it to every list.
* API 2: the LIST that becomes `cpanelresult.data` (a dict is wrapped in a one-item list).
  Functions that report per-item success (ZoneEdit's `result.status` / `statusmsg`) put that
  inside the items, as cPanel does; the call itself then succeeded (`event.result` 1).

Failure: raise `gatehouse.errors.GatehouseError` (or a subclass); its `.reason` becomes
UAPI's `result.status 0, errors [reason]` (and its `.data`, if any, `result.data`: cPanel's
error payloads such as `{"type":"Stale","detail":null}`), or API 2's `cpanelresult.error` with
`event.result 0`. An API 2 function whose cPanel original returns its failure as data (most
`api2_*` functions: `{"result":0,"reason":R}`, with the error in CPERROR) sets the error's
`.data` to `Api2Reported(items)`: the call then answers `data` = the items, `error` = R and
`event.result` 1, as cPanel does (`reported_as_api2_items` does it for a handler).
`gatehouse.cpanel.args` raises cPanel's own argument refusals
(`Provide the “name” argument.`, `The “name” argument cannot be empty.`). Everything the
handler wrote is rolled back. Any other exception is an internal error: logged, rolled back,
and answered with a generic message (HTTP 500).

`readonly=True` promises the function writes nothing that could change a token check, so a
successful call need not flush this process's token cache; when in doubt leave it False.
`slow=True` (hashes a password, ...) runs the call off the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from gatehouse.errors import GatehouseError

if TYPE_CHECKING:
    from gatehouse.api.call import Call

Api = Literal["uapi", "api2"]
UAPI: Api = "uapi"
API2: Api = "api2"

Handler = Callable[["Call"], Any]


@dataclass(frozen=True, slots=True)
class UapiResult:
    """A UAPI handler's answer when it needs more than `result.data`."""

    data: Any = None
    metadata: dict[str, Any] | None = None
    messages: list[str] | None = None
    warnings: list[str] | None = None


@dataclass(frozen=True, slots=True)
class Api2Reported:
    """The `.data` of a failure an API 2 function reports as its data (cPanel's
    Cpanel::Api2::Exec: the function ran, so `event.result` is 1; its error is `error`)."""

    items: list[dict[str, Any]]


def reported_as_api2_items(handler: Handler) -> Handler:
    """An API 2 handler whose failures are answered as cPanel's api2_* functions answer
    theirs: `data` `[{"reason":R,"result":0}]`, `error` R, `event.result` 1."""

    def run(call: Call) -> Any:
        try:
            return handler(call)
        except GatehouseError as exc:
            exc.data = Api2Reported([{"reason": exc.reason, "result": 0}])
            raise

    run.__name__ = getattr(handler, "__name__", "handler")
    run.__doc__ = handler.__doc__
    return run


@dataclass(frozen=True, slots=True)
class CpanelFunction:
    api: Api
    module: str
    name: str
    summary: str
    handler: Handler
    readonly: bool = False
    slow: bool = False

    @property
    def qualified(self) -> str:
        """`Module::func`, as cPanel writes it (audit trail, logs)."""
        return f"{self.module}::{self.name}"


@dataclass
class CpanelRegistry:
    api: Api
    functions: dict[tuple[str, str], CpanelFunction] = field(default_factory=dict)
    modules: set[str] = field(default_factory=set)

    def register(
        self, module: str, name: str, summary: str, *, readonly: bool = False, slow: bool = False
    ) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            key = (module, name)
            if key in self.functions:
                raise ValueError(f"{self.api} function {module}::{name} registered twice")
            self.functions[key] = CpanelFunction(
                self.api, module, name, summary, handler, readonly, slow
            )
            self.modules.add(module)
            return handler

        return decorate

    def get(self, module: str, name: str) -> CpanelFunction | None:
        # Names are case-sensitive, as cPanel's (Perl package and sub names) are.
        return self.functions.get((module, name))

    def has_module(self, module: str) -> bool:
        return module in self.modules

    def names(self) -> list[str]:
        return sorted(f"{m}::{f}" for m, f in self.functions)


UAPI_REGISTRY = CpanelRegistry(UAPI)
API2_REGISTRY = CpanelRegistry(API2)


def registry_for(api: Api) -> CpanelRegistry:
    return UAPI_REGISTRY if api == UAPI else API2_REGISTRY


def uapi(
    module: str, name: str, summary: str, *, readonly: bool = False, slow: bool = False
) -> Callable[[Handler], Handler]:
    """Declare a UAPI function (`/execute/MODULE/NAME`)."""
    return UAPI_REGISTRY.register(module, name, summary, readonly=readonly, slow=slow)


def api2(
    module: str, name: str, summary: str, *, readonly: bool = False, slow: bool = False
) -> Callable[[Handler], Handler]:
    """Declare a cPanel API 2 function (`/json-api/cpanel?cpanel_jsonapi_module=MODULE&...`)."""
    return API2_REGISTRY.register(module, name, summary, readonly=readonly, slow=slow)


def load_all() -> None:
    """Import every function module (importing is idempotent, so calling twice is free)."""
    from gatehouse.cpanel.functions import load_all as load_functions

    load_functions()
