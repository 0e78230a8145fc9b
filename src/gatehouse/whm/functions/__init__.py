"""WHM API 1 functions, one module per area. Importing a module registers its functions;
every module in this package is loaded, so a new area needs no list to be kept in step."""

from __future__ import annotations

import importlib
import pkgutil


def load_all() -> None:
    for module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
        importlib.import_module(f"{__name__}.{module}")
