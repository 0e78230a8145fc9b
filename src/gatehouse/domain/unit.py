"""The unit of work a use case runs in: what it may touch of the call that runs it, and no
more (never the whole container). `gatehouse.api.call.Call` is one; a test or a command may
bring its own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import sqlalchemy as sa

from gatehouse.domain import audit


class UnitOfWork(Protocol):
    @property
    def conn(self) -> sa.Connection:
        """The one transaction of the unit (committed only if the unit succeeds)."""
        ...

    @property
    def now(self) -> int:
        """The unit's time (Unix seconds), one value for all it does."""
        ...

    @property
    def function(self) -> str:
        """What runs the unit (a function's name), for the audit trail and logs."""
        ...

    @property
    def after_commit(self) -> list[Callable[[], None]]:
        """Work for once the unit has committed; never run if it fails."""
        ...

    def audit(self, action: str, subject: str | None = None, detail: str | None = None) -> None:
        """Record a change made by the unit: who, through which token, from where."""
        ...

    def run_hooks(self, event: str, data: dict[str, Any]) -> None:
        """The operator's "before" hooks now (a refusal aborts the unit), "after" once
        committed."""
        ...


class ServerUnit:
    """A unit of work the server runs of itself, not an API function (AutoSSL's changes, a
    Dynamic DNS webcall): one transaction, audited with no actor (optionally the address the
    request came from), and no operator hooks."""

    def __init__(
        self, conn: sa.Connection, now: int, function: str, source_ip: str | None = None
    ) -> None:
        self._conn = conn
        self._now = now
        self._function = function
        self._source_ip = source_ip
        self._after: list[Callable[[], None]] = []

    @property
    def conn(self) -> sa.Connection:
        return self._conn

    @property
    def now(self) -> int:
        return self._now

    @property
    def function(self) -> str:
        return self._function

    @property
    def after_commit(self) -> list[Callable[[], None]]:
        return self._after

    def audit(self, action: str, subject: str | None = None, detail: str | None = None) -> None:
        audit.record(
            self._conn,
            now=self._now,
            action=action,
            actor=None,
            subject=subject,
            source_ip=self._source_ip,
            token_name=None,
            detail=detail,
        )

    def run_hooks(self, event: str, data: dict[str, Any]) -> None:
        """Not an API function: no operator hooks run."""
