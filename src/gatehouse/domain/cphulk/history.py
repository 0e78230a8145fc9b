"""Reading and clearing cPHulk's history: failed logins, blocks, and the purge of what no
window can count any more."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.domain.cphulk import gates
from gatehouse.domain.cphulk.gates import Block, normal
from gatehouse.domain.cphulk.settings import Settings
from gatehouse.store.schema import cphulk_blocks, login_attempts

PURGE_BATCH = 5000


@dataclass(frozen=True, slots=True)
class Failure:
    time: int
    address: str | None
    username: str | None
    service: str
    authservice: str


def failures(conn: sa.Connection, since: int, limit: int = 10_000) -> list[Failure]:
    rows = conn.execute(
        sa.select(login_attempts)
        .where(login_attempts.c.pending.is_(False), login_attempts.c.time >= since)
        .order_by(login_attempts.c.time.desc(), login_attempts.c.id.desc())
        .limit(limit)
    )
    return [Failure(r.time, r.address, r.username, r.service, r.authservice) for r in rows]


def blocks(conn: sa.Connection, kind: str, now: int) -> list[Block]:
    rows = conn.execute(
        sa.select(cphulk_blocks)
        .where(cphulk_blocks.c.kind == kind, cphulk_blocks.c.expires_time > now)
        .order_by(cphulk_blocks.c.created_time, cphulk_blocks.c.id)
    )
    return [Block(**r._mapping) for r in rows]


def flush(conn: sa.Connection, addresses: list[str] | None = None) -> int:
    """Forget failures and blocks (of `addresses` only, when given); the number of entries
    removed, as cPanel counts `records_removed`."""
    removed = 0
    for table in (login_attempts, cphulk_blocks):
        stmt = sa.delete(table)
        if addresses is not None:
            stmt = stmt.where(table.c.address.in_([normal(a) for a in addresses]))
        removed += conn.execute(stmt).rowcount
    return removed


def unlock_user(conn: sa.Connection, username: str) -> int:
    removed = conn.execute(
        sa.delete(cphulk_blocks).where(
            cphulk_blocks.c.kind == gates.USER, cphulk_blocks.c.username == username
        )
    ).rowcount
    conn.execute(sa.delete(login_attempts).where(login_attempts.c.username == username))
    return int(removed)


def purge(conn: sa.Connection, settings: Settings, now: int, limit: int = PURGE_BATCH) -> int:
    """Delete up to `limit` attempts older than every window, and blocks expired an hour ago;
    how many went (callers commit between batches).

    The rows are found first and a table is not touched when none are due: on PostgreSQL a
    `DELETE` on cPHulk's blocks fires its statement trigger even when it removes nothing, and
    that tells every node to drop the gate it caches (migration 0027), once an hour per node."""
    removed = 0
    cut = now - max(settings.longest_window, 24 * 3600)
    for table, old in (
        (login_attempts, login_attempts.c.time < cut),
        (cphulk_blocks, cphulk_blocks.c.expires_time < now - 3600),
    ):
        due = list(conn.execute(sa.select(table.c.id).where(old).limit(limit)).scalars())
        if due:
            removed += conn.execute(sa.delete(table).where(table.c.id.in_(due))).rowcount
    return removed
