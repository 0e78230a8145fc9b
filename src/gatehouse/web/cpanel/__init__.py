"""The cPanel pages: an account holder's home page, Manage API Tokens and the Zone Editor,
on the cPanel ports (2082/2083) under `/cpsessNNNNNNNNNN/`.

A thin face over the same core as `/execute/`: every list and change is the UAPI function run
as the session's account (`Site.uapi`), so validation, auditing and the wording of errors are
exactly the API's. The pages add what a browser needs: the session (entered only through a
`create_user_session` URL of service `cpaneld`), CSRF protection, forms, and the one-time
display of a new token. The cPanel face (`cpanel/app.py`) hands this application every
non-API path under a /cpsess prefix (and `/static/`), the prefix taken off
(`scope["gatehouse.cpsess"]`); the program composes the two (`program/apps.py`).
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatehouse.core import Gatehouse
from gatehouse.http import asgi
from gatehouse.web.cpanel import routes
from gatehouse.web.cpanel.routes import Page
from gatehouse.web.cpanel.site import Site
from gatehouse.web.pages import SECURITY_HEADERS


class CpanelPages:
    def __init__(self, gatehouse: Gatehouse) -> None:
        site = Site(gatehouse)

        def route(path: str, page: Page, methods: list[str]) -> Route:
            async def endpoint(request: Request) -> Response:
                return await page(site, request)

            return Route(path, endpoint, methods=methods)

        self.app = Starlette(
            routes=[
                route(d.path, d.page, list(d.methods))  # type: ignore[arg-type]
                for d in routes.declared()
            ]
        )

    async def __call__(self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        async def secured(message: asgi.Message) -> None:
            # The WHM pages' headers: CSP without inline script, no framing, no referrer.
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                if not any(k == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, secured)
