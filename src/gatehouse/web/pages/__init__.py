"""The WHM pages: log in, Manage API Tokens, Remote Access Key.

A thin face over the same core as `/json-api/`: every change (and every list) is the WHM API 1
function run as the session's user (`Site.call`), so validation, privileges, auditing and the
wording of errors are exactly the API's. The pages add only what a browser needs: sessions,
CSRF protection, forms, and the one-time display of a new token.

`web/app.py` answers the one-time `/login/` URLs itself and hands every other request here,
with the `/cpsessNNNNNNNNNN` prefix stripped (its digits in `scope["gatehouse.cpsess"]`).
Here: the application over every page a module of this package declares (`routes.route`),
and the security headers every page carries.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatehouse.core import Gatehouse
from gatehouse.http import asgi
from gatehouse.web.pages import routes
from gatehouse.web.pages.session import Page
from gatehouse.web.pages.site import Site

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),  # the cpsess prefix must not leak to other sites
]


class Pages:
    def __init__(self, gatehouse: Gatehouse) -> None:
        site = Site(gatehouse)

        def route(path: str, page: Page, methods: list[str]) -> Route:
            async def endpoint(request: Request) -> Response:
                return await page(site, request)

            return Route(path, endpoint, methods=methods)

        self.app = Starlette(
            routes=[route(d.path, d.page, list(d.methods)) for d in routes.declared()]
        )

    async def __call__(self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        async def secured(message: asgi.Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                if not any(k == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, secured)
