"""The WHM face: WHM API 1 on the WHM ports (2086, 2087).

* `registry`   — where functions are declared (`@REGISTRY.function`).
* `functions`  — the function modules, one per area, each loaded by `install()`.
* `app`        — `WhmApp`, the raw ASGI application for `/json-api/`, `/openapi.json` and
                 `/healthz`; every other path goes to the pages it is given.
* `openapi`, `catalogue` — the OpenAPI document and the README's table, from the registry.

`install()` loads the functions and offers them to the other faces through
`gatehouse.api.bridge` (the pages, `gatehouse whmapi1`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gatehouse.api import bridge, dispatch
from gatehouse.whm.registry import REGISTRY, load

if TYPE_CHECKING:
    from gatehouse.api.params import Params
    from gatehouse.auth.authenticator import Principal
    from gatehouse.core import Gatehouse


class WhmFunctions:
    """WHM API 1 as other faces run it (`gatehouse.api.bridge.ServerApi`)."""

    def execute(
        self,
        gatehouse: Gatehouse,
        principal: Principal,
        name: str,
        params: Params,
        *,
        peer: str | None = None,
        host: str | None = None,
    ) -> dispatch.Outcome:
        return dispatch.execute(gatehouse, REGISTRY, principal, name, params, peer=peer, host=host)


def install() -> None:
    load()
    bridge.install_server_api(WhmFunctions())
