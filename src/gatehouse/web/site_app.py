"""What both sets of pages (WHM's in `web/pages/`, cPanel's in `web/cpanel/`) are built from:
pages that declare their own URLs in the module that holds them (`Routes.route`), and one
Starlette application over them that adds the security headers every page carries, answers
a refusal to read a body (a form too large: 413) with a page of the face's own, and a page's
failure with an HTML 500 (logged by the face's `serve_logged`)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gatehouse.http import asgi

SiteT = TypeVar("SiteT")

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
# Over HTTPS only (a header sent over plain HTTP is ignored by browsers, and would tell nothing
# true). A year, without includeSubDomains: the host's other names may serve other things.
HSTS = (b"strict-transport-security", b"max-age=31536000")


@dataclass(frozen=True, slots=True)
class Declared(Generic[SiteT]):
    path: str
    page: Callable[[SiteT, Request], Awaitable[Response]]
    methods: tuple[str, ...]


class Routes(Generic[SiteT]):
    """The pages of one package: `@ROUTES.route("/path", "GET", "POST")` above a page function
    in any of its modules. Every module is loaded when the application is made, so a new page
    is one new module (plus its template): no list elsewhere to keep in step."""

    def __init__(self, package: str) -> None:
        self.package = package
        self._declared: list[Declared[SiteT]] = []

    def route(
        self, path: str, *methods: str
    ) -> Callable[
        [Callable[[SiteT, Request], Awaitable[Response]]],
        Callable[[SiteT, Request], Awaitable[Response]],
    ]:
        """Serve the page at `path` for `methods` (default GET)."""

        def declare(
            page: Callable[[SiteT, Request], Awaitable[Response]],
        ) -> Callable[[SiteT, Request], Awaitable[Response]]:
            self._declared.append(Declared(path, page, methods or ("GET",)))
            return page

        return declare

    def declared(self) -> list[Declared[SiteT]]:
        """Every page of every module of the package, in a stable order."""
        package = importlib.import_module(self.package)
        for module in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):
            importlib.import_module(f"{self.package}.{module}")
        return sorted(self._declared, key=lambda d: (d.path, d.methods))


def _closing(page: Callable[[Request], Response]) -> Callable[[Request, Exception], Response]:
    def refuse(request: Request, _exc: Exception) -> Response:
        response = page(request)
        # The rest of the body is never read: the connection cannot carry another request.
        response.headers["connection"] = "close"
        return response

    return refuse


INTERNAL_ERROR = "The request failed; see the server log."


def _internal_error(_request: Request, _exc: Exception) -> Response:
    # No template: the fault may be in rendering one.
    return Response(asgi.page("Internal error", INTERNAL_ERROR), 500, media_type="text/html")


class SiteApp(Generic[SiteT]):
    """The ASGI application over a package's pages, each called with `site`. `unread` is the
    face's own page for each exception a page raises when it refuses a body without reading it
    (`form.FormTooLarge`): no page need catch it, and the connection is closed after it."""

    def __init__(
        self,
        site: SiteT,
        routes: Routes[SiteT],
        unread: dict[type[Exception], Callable[[Request], Response]],
    ) -> None:
        def endpoint_of(
            pages: dict[str, Callable[[SiteT, Request], Awaitable[Response]]],
        ) -> Callable[[Request], Awaitable[Response]]:
            async def endpoint(request: Request) -> Response:
                if request.method == "HEAD":
                    # Starlette routes HEAD wherever GET is; the page must see a GET, or one
                    # that serves GET and POST takes it for a POST (and refuses its CSRF).
                    request = Request({**request.scope, "method": "GET"}, request.receive)
                return await pages[request.method](site, request)

            return endpoint

        # One route per path, whichever modules declare its methods: with one per declaration,
        # Starlette's 405 for a path named only the first route's methods (PUT /login/ was
        # told `allow: GET, HEAD`, though POST is served).
        by_path: dict[str, dict[str, Callable[[SiteT, Request], Awaitable[Response]]]] = {}
        for d in routes.declared():
            by_path.setdefault(d.path, {}).update(dict.fromkeys(d.methods, d.page))

        self.app = Starlette(
            routes=[
                Route(path, endpoint_of(pages), methods=list(pages))
                for path, pages in by_path.items()
            ],
            exception_handlers={
                **{kind: _closing(page) for kind, page in unread.items()},
                # Starlette answers whatever a page raises itself (before the face's
                # `serve_logged` sees it, which then logs it): in plain text unless told.
                500: _internal_error,
            },
        )

    async def __call__(self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        async def secured(message: asgi.Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                if scope.get("scheme") == "https":
                    headers.append(HSTS)
                if not any(k == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, secured)
