"""Domain errors. Each face (WHM API 1, CLI, pages) renders them in its own envelope."""

from __future__ import annotations

from typing import Any


class GatehouseError(Exception):
    """A refusal whose message is safe to show the caller (it never holds a secret)."""

    def __init__(self, reason: str, *, data: Any = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.data = data


class InvalidParameter(GatehouseError):
    """The caller's input is wrong; nothing was changed."""


class NotFound(GatehouseError):
    """The thing named does not exist (or is not the caller's to see)."""


class Conflict(GatehouseError):
    """The change would clash with something that exists."""


class PermissionDenied(GatehouseError):
    """The caller is authenticated but lacks a privilege or ownership."""

    def __init__(self, reason: str, *, code: str = "missing_privilege", data: Any = None) -> None:
        super().__init__(reason, data=data)
        self.code = code


def missing_parameter(name: str) -> InvalidParameter:
    return InvalidParameter(f"Missing parameter: {name}")
