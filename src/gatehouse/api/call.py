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
from gatehouse.auth.token_cache import generation_changed_here
from gatehouse.dns import zones
from gatehouse.domain import audit, users
from gatehouse.errors import missing_parameter

if TYPE_CHECKING:
    from gatehouse.core import Gatehouse

log = logging.getLogger("gatehouse.whmapi")


class Transaction:
    """One transaction per call, begun only when a handler first touches the store — so a
    function such as `version` costs no database work at all. It notes the zones the call
    writes (`zones_written`), whose files the call's own sync then writes (`Call.finish`)."""

    def __init__(self, engine: sa.Engine, *, writes: bool = True) -> None:
        """`writes`: whether the call may change the store; only such a call's commit is
        checked for an auth change (a round trip on PostgreSQL)."""
        self._engine = engine
        self._conn: sa.Connection | None = None
        self._tx: sa.RootTransaction | None = None
        self.zones_written: set[str] = set()
        self._recording: Token[set[str] | None] | None = None
        self._writes = writes
        # Set when the commit changed authentication (PostgreSQL): the auth generation it
        # moved to, which every node's listener acknowledges before the call answers
        # (`Call.finish`).
        self.auth_generation: int | None = None

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
                    if self._writes:
                        self.auth_generation = generation_changed_here(self._conn)
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

    def caller_account(self) -> users.User:
        """The caller's account as the store holds it now: the principal's copy dates from
        when its credential was checked (it may come from the token cache), so a domain or
        setting changed since would be missed. The principal's when the account is gone."""
        return users.get_by_id(self.conn, self.principal.user.id) or self.principal.user

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
        API 2): after a change to authentication, flush this process's token cache (its very
        next request must see the change); write the files of the zones it wrote; then run
        the after-commit tasks (after-hooks...). The change is committed whatever happens
        here, so a failure is the log's, not the caller's."""
        if changed:
            self.gatehouse.changed.set()
            if self.transaction.auth_generation is not None or not self.gatehouse.store_is_remote:
                # On PostgreSQL only a change to authentication: flushing tells every worker
                # of the node, each of which then reads cPHulk's gate and its tokens again.
                # (On SQLite the flush is this process's alone, and cheap.)
                self.gatehouse.authenticator.invalidate_cache()
            try:
                self.gatehouse.zone_publisher.sync_after_change(self.transaction.zones_written)
            except Exception:
                log.exception("writing the zone files after %s failed", self.function)
            if self.transaction.auth_generation is not None:
                # Every node's listeners have dropped what the change made stale, so the
                # caller's next request through any node meets the change (bounded: never a
                # failed call for it). After the zone files: the listeners acknowledge
                # meanwhile.
                self.gatehouse.authenticator.await_acknowledgements(
                    self.transaction.auth_generation
                )
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
