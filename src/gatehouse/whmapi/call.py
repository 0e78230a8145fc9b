"""What a function handler receives: who calls, with what, inside which transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa

from gatehouse.auth.authenticator import Principal
from gatehouse.errors import InvalidParameter, missing_parameter
from gatehouse.whmapi.params import Params

if TYPE_CHECKING:
    from gatehouse.core import Gatehouse


@dataclass
class Call:
    function: str
    principal: Principal
    params: Params
    conn: sa.Connection  # one transaction for the whole call: all or nothing
    now: int
    peer: str | None
    gatehouse: Gatehouse
    host: str | None = None  # the Host the client used, for URLs we hand back
    # Work for after the transaction commits (after-hooks): never run if the call fails.
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    def require(self, name: str) -> str:
        value = self.params.get(name)
        if value is None or value == "":
            raise missing_parameter(name)
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        """A 0/1 parameter; cPanel takes booleans as integers."""
        value = self.params.get(name)
        if value is None or value == "":
            return default
        if value in ("1", "0"):
            return value == "1"
        raise InvalidParameter(f"The “{name}” parameter must be 1 or 0, not “{value}”.")
