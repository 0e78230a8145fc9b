"""Where the cPanel pages declare their URLs: `@route("/path", "GET", "POST")` above a page
function in any module of this package, as the WHM pages do (`web/pages/routes.py`)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from gatehouse.web.pages.routes import Declared

if TYPE_CHECKING:
    from gatehouse.web.cpanel.site import Site

Page = Callable[["Site", Request], Awaitable[Response]]

_DECLARED: list[Declared] = []


def route(path: str, *methods: str) -> Callable[[Page], Page]:
    """Serve `page` at `path` (under the session's /cpsessN/ prefix) for `methods`."""

    def declare(page: Page) -> Page:
        _DECLARED.append(Declared(path, page, methods or ("GET",)))  # type: ignore[arg-type]
        return page

    return declare


def declared() -> list[Declared]:
    """Every page of every module of this package, in a stable order."""
    package = importlib.import_module(__package__ or "gatehouse.web.cpanel")
    for module in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):
        importlib.import_module(f"{package.__name__}.{module}")
    return sorted(_DECLARED, key=lambda d: (d.path, d.methods))
