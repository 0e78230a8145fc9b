"""Leases: background work that one process, of every process and node sharing the store,
runs at a time (AutoSSL's checks; any periodic work that must not run twice at once).

A lease is one row of `leases` per kind of work: its holder and when its hold expires. It is
claimed with ONE statement that only one claimant can win — an UPDATE whose WHERE accepts
only an expired lease (or one the claimant already holds), or, for a lease never claimed
before, the INSERT of its row (the primary key refuses the second). Each runs in a
transaction of its own, committed at once: SQLite serialises writers, and on PostgreSQL the
losing UPDATE waits for the winner's row lock and then re-reads the row, whose new `expires`
no longer matches. A holder that dies simply lets its lease expire; a holder that works for
longer than the lease lasts renews it (`Held.keep`) and stops if it has lost it.

`last_done` is when the work last completed (`release(done=...)`): a schedule counts from it,
so a restart does not redo the work at once (no storm at start-up).
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.store.schema import leases


class LeaseLost(Exception):
    """The lease expired and another process may hold it: stop the work."""


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    holder: str
    expires: int
    claimed_time: int
    last_done: int | None


def new_holder() -> str:
    """An id unique to this process (and this incarnation of it): host, pid, random."""
    host = (socket.gethostname() or "localhost")[:80]
    return f"{host}:{os.getpid()}:{secrets.token_hex(6)}"


def get(conn: sa.Connection, name: str) -> Lease | None:
    row = conn.execute(sa.select(leases).where(leases.c.name == name)).first()
    if row is None:
        return None
    return Lease(
        str(row.name),
        str(row.holder),
        int(row.expires),
        int(row.claimed_time),
        None if row.last_done is None else int(row.last_done),
    )


def claim(engine: sa.Engine, name: str, holder: str, now: int, ttl: int) -> bool:
    """Take the lease `name` for `ttl` seconds if nobody holds it (or `holder` already does).
    True when `holder` holds it now. One statement decides; it is committed at once."""
    with engine.begin() as conn:
        won = conn.execute(
            sa.update(leases)
            .where(
                leases.c.name == name,
                sa.or_(leases.c.expires <= now, leases.c.holder == holder),
            )
            .values(holder=holder, expires=now + ttl, claimed_time=now)
        ).rowcount
        if won:
            return True
    # No row matched: the lease is held by someone else, or was never claimed at all.
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.insert(leases).values(
                    name=name, holder=holder, expires=now + ttl, claimed_time=now, last_done=None
                )
            )
    except sa.exc.IntegrityError:
        return False  # the row exists: held by another (or another's INSERT won)
    return True


def renew(engine: sa.Engine, name: str, holder: str, now: int, ttl: int) -> bool:
    """Extend `holder`'s hold to `now + ttl`; False if it no longer holds the lease."""
    with engine.begin() as conn:
        return bool(
            conn.execute(
                sa.update(leases)
                .where(leases.c.name == name, leases.c.holder == holder, leases.c.expires > now)
                .values(expires=now + ttl)
            ).rowcount
        )


def release(engine: sa.Engine, name: str, holder: str, *, done: int | None = None) -> bool:
    """Let the lease go at once (if `holder` still holds it), recording `done` as the time
    the work completed when given. False if it was no longer `holder`'s."""
    values: dict[str, object] = {"expires": 0}
    if done is not None:
        values["last_done"] = done
    with engine.begin() as conn:
        return bool(
            conn.execute(
                sa.update(leases)
                .where(leases.c.name == name, leases.c.holder == holder)
                .values(**values)
            ).rowcount
        )


class Held:
    """A lease held while long work runs: `keep()` between steps renews it once a third of
    its time has passed, and raises LeaseLost when it is no longer this holder's."""

    def __init__(
        self, engine: sa.Engine, name: str, holder: str, ttl: int, clock: Callable[[], float]
    ) -> None:
        self.engine = engine
        self.name = name
        self.holder = holder
        self.ttl = ttl
        self._clock = clock
        self._renewed = int(clock())

    def keep(self) -> None:
        now = int(self._clock())
        if now - self._renewed < self.ttl // 3:
            return
        if not renew(self.engine, self.name, self.holder, now, self.ttl):
            raise LeaseLost(f"the lease “{self.name}” was lost")
        self._renewed = now

    def release(self, *, done: int | None = None) -> bool:
        return release(self.engine, self.name, self.holder, done=done)
