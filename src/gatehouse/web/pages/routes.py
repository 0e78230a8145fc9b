"""Where pages declare their URLs: `@route("/path", "GET", "POST")` above a page function in
any module of this package. `Pages` loads every module, so a new page is one new module (plus
its template): no list elsewhere to keep in step."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass

from gatehouse.web.pages.session import Page


@dataclass(frozen=True, slots=True)
class Declared:
    path: str
    page: Page
    methods: tuple[str, ...]


_DECLARED: list[Declared] = []


def route(path: str, *methods: str) -> Callable[[Page], Page]:
    """Serve `page` at `path` for `methods` (default GET)."""

    def declare(page: Page) -> Page:
        _DECLARED.append(Declared(path, page, methods or ("GET",)))
        return page

    return declare


def declared() -> list[Declared]:
    """Every page of every module of this package, in a stable order."""
    package = importlib.import_module(__package__ or "gatehouse.web.pages")
    for module in sorted(m.name for m in pkgutil.iter_modules(package.__path__)):
        importlib.import_module(f"{package.__name__}.{module}")
    return sorted(_DECLARED, key=lambda d: (d.path, d.methods))
