"""What every page works with: the core, the renderer, and the way to run a WHM API 1
function as the signed-in user."""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio.to_thread
from starlette.requests import Request

from gatehouse.api import bridge, dispatch
from gatehouse.api.params import Params
from gatehouse.auth.authenticator import Principal
from gatehouse.core import Gatehouse
from gatehouse.http import asgi
from gatehouse.web.pages.form import Pairs
from gatehouse.web.pages.render import Renderer


@dataclass(frozen=True)
class Site:
    gatehouse: Gatehouse
    render: Renderer = field(default_factory=Renderer)

    async def call(
        self, request: Request, principal: Principal, function: str, pairs: Pairs
    ) -> dispatch.Outcome:
        """WHM API 1 `function` as `principal`, exactly as `/json-api/` runs it: the same
        privileges, validation, auditing and wording."""
        params = Params([("api.version", "1"), *pairs])
        peer = asgi.peer(request.scope)
        host = request.headers.get("host")
        return await anyio.to_thread.run_sync(
            lambda: bridge.server_api().execute(
                self.gatehouse, principal, function, params, peer=peer, host=host
            )
        )
