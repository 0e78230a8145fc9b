"""What a function handler receives: who calls, with what, inside which transaction."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextvars import Token
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from gatehouse.api.params import Params
from gatehouse.auth.authenticator import Principal
from gatehouse.auth.token_cache import changed_in_transaction
from gatehouse.dns import zones
from gatehouse.domain import audit
from gatehouse.errors import missing_parameter

if TYPE_CHECKING:
    from gatehouse.core import Gatehouse

log = logging.getLogger("gatehouse.whmapi")


class Transaction:
    """One transaction per call, begun only when a handler first touches the store — so a
    function such as `version` costs no database work at all. It notes the zones the call
    writes (`zones_written`), whose files the call's own sync then writes (`Call.finish`)."""

    def __init__(self, engine: sa.Engine, notifications: Callable[[], int] | None = None) -> None:
        """`notifications`: the count of change notifications this process has received
        (`Authenticator.notifications`), noted before a commit that changes authentication."""
        self._engine = engine
        self._conn: sa.Connection | None = None
        self._tx: sa.RootTransaction | None = None
        self.zones_written: set[str] = set()
        self._recording: Token[set[str] | None] | None = None
        self._notifications = notifications
        # Set when the commit changed authentication (PostgreSQL): the notifications received
        # before it, so that the call answers only once its own has come back (`Call.finish`).
        self.auth_notice_after: int | None = None

    @classmethod
    def of(cls, gatehouse: Gatehouse, *, writes: bool) -> Transaction:
        """The transaction of a call; a read-only function's commit is not checked for an
        auth change (a round trip on every read call on PostgreSQL)."""
        return cls(gatehouse.engine, gatehouse.authenticator.notifications if writes else None)

    def connection(self) -> sa.Connection:
        if self._conn is None:
            self._conn = self._engine.connect()
            self._tx = self._conn.begin()
        return self._conn

    def __enter__(self) -> Transaction:
        self._recording = zones.start_recording(self.zones_written)
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if self._recording is not None:
            zones.stop_recording(self._recording)
            self._recording = None
        if self._conn is None:
            return
        try:
            if self._tx is not None and self._tx.is_active:
                if exc_type is None:
                    if self._notifications is not None and changed_in_transaction(self._conn):
                        self.auth_notice_after = self._notifications()
                    self._tx.commit()
                else:
                    self._tx.rollback()
        finally:
            self._conn.close()


@dataclass
class Call:
    function: str
    principal: Principal
    params: Params
    transaction: Transaction  # all or nothing: see `conn`
    now: int
    peer: str | None
    gatehouse: Gatehouse
    host: str | None = None  # the Host the client used, for URLs we hand back
    # Work for after the transaction commits (after-hooks): never run if the call fails.
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    @property
    def conn(self) -> sa.Connection:
        """The call's connection, inside its one transaction (begun on first use)."""
        return self.transaction.connection()

    def audit(self, action: str, subject: str | None = None, detail: str | None = None) -> None:
        """Record a change made by this call: who (and through which token), from where."""
        audit.record(
            self.conn,
            now=self.now,
            action=action,
            actor=self.principal.user.username,
            subject=subject,
            source_ip=self.peer,
            token_name=self.principal.token_name,
            detail=detail,
        )

    def run_hooks(self, event: str, data: dict[str, Any]) -> None:
        """Run the operator's "before" hooks now (a refusal aborts the call, nothing is written)
        and queue the "after" ones for once the change is committed (docs/hooks.md)."""
        payload = {
            "actor": self.principal.user.username,
            "token_name": self.principal.token_name,
            "source_ip": self.peer,
            "time": self.now,
            **data,
        }
        hooks = self.gatehouse.hooks
        hooks.run(event, "before", payload)

        def after() -> None:
            hooks.run(event, "after", payload)

        self.after_commit.append(after)

    def finish(self, *, changed: bool) -> None:
        """The work after a successful call has committed, for every API (WHM API 1, UAPI,
        API 2): after a change, flush this process's token cache (its very next request must
        see the change) and write the files of the zones it wrote, then run the after-commit
        tasks (after-hooks...). The change is committed whatever happens here, so a failure is
        the log's, not the caller's."""
        if changed:
            self.gatehouse.changed.set()
            self.gatehouse.authenticator.invalidate_cache()
            if self.transaction.auth_notice_after is not None:
                # The change's notification has come back to this process: PostgreSQL has
                # signalled every node's listener, so the caller's next request through
                # another node finds it there (bounded: never a failed call for it).
                self.gatehouse.authenticator.await_notification(self.transaction.auth_notice_after)
            try:
                self.gatehouse.zone_publisher.sync_after_change(self.transaction.zones_written)
            except Exception:
                log.exception("writing the zone files after %s failed", self.function)
        for task in self.after_commit:
            try:
                task()
            except Exception:
                log.exception("after-commit work of %s failed", self.function)

    def require(self, name: str) -> str:
        value = self.params.get(name)
        if value is None or value == "":
            raise missing_parameter(name)
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        """A 0/1 parameter; cPanel takes booleans as integers."""
        return self.params.flag(name, default, "parameter")
