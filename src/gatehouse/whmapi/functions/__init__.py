"""WHM API 1 functions, one module per area. Importing a module registers its functions."""

from __future__ import annotations

import importlib

MODULES = ("meta", "tokens", "resellers", "accounts", "sessions", "accesshash")


def load_all() -> None:
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")
