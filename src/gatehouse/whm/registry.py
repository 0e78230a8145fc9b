"""WHM API 1's functions: every module of `gatehouse.whm.functions` declares its functions
here (`@REGISTRY.function(...)`); `load()` imports them all."""

from __future__ import annotations

from gatehouse.api.registry import Registry

REGISTRY = Registry()


def load() -> Registry:
    """The registry with every function module imported (idempotent)."""
    from gatehouse.whm.functions import load_all

    load_all()
    return REGISTRY
