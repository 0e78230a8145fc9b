"""Engines for the two supported stores: SQLite (WAL) by default, PostgreSQL via psycopg 3."""

from __future__ import annotations

import select
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

# How gatehouse's pooled connections are named in pg_stat_activity (its token cache listener
# and its nameserver's connection have names of their own).
APPLICATION_NAME = "gatehouse"


def normalise_url(url: str) -> URL:
    """Accept `postgresql://` (and `postgres://`) and use psycopg 3 for it."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported database: {parsed.get_backend_name()}")
    return parsed


def is_sqlite(engine: sa.Engine) -> bool:
    return engine.dialect.name == "sqlite"


# Each process's pool (SQLAlchemy's QueuePool): POOL_SIZE connections kept open, and up to
# MAX_OVERFLOW more at busy moments.
POOL_SIZE = 5
MAX_OVERFLOW = {"postgresql": 5, "sqlite": 10}


def pool_capacity(engine: sa.Engine) -> int:
    """How many connections the engine's pool hands out at once; one more waits for a free
    one (up to 30 s)."""
    return POOL_SIZE + MAX_OVERFLOW[engine.dialect.name]


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (every request) run beside the one writer; NORMAL is durable across
    # application crashes in WAL mode, which is what a token store needs.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create(url: str) -> sa.Engine:
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        # A file gets a queue of connections, sized here so that `pool_capacity` is what it
        # says; an in-memory database keeps SQLAlchemy's one connection per thread.
        pool: dict[str, int] = {}
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            pool = {"pool_size": POOL_SIZE, "max_overflow": MAX_OVERFLOW["sqlite"]}
        engine = sa.create_engine(parsed, connect_args={"check_same_thread": False}, **pool)
        sa.event.listen(engine, "connect", _on_sqlite_connect)
        return engine
    engine = sa.create_engine(
        parsed,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW["postgresql"],
        connect_args={"application_name": APPLICATION_NAME},
    )
    sa.event.listen(engine, "checkout", _still_connected)
    return engine


def _still_connected(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Before a pooled PostgreSQL connection is handed out: is it still alive? Checked without
    a round trip, unlike SQLAlchemy's pre-ping (a `SELECT 1` before every transaction, and
    before every read of a token-cache miss, which a revoke makes every node pay). An idle
    connection has nothing to read unless the server has ended it: a terminated backend, a
    restart and a shut-down all send their error and close the socket, which the socket shows
    at once. The pool then opens a fresh connection (`DisconnectionError`)."""
    if dbapi_connection.closed:
        raise sa.exc.DisconnectionError("the connection is closed")
    poll = select.poll()
    poll.register(dbapi_connection.fileno(), select.POLLIN | select.POLLPRI)
    if poll.poll(0):
        raise sa.exc.DisconnectionError("the server ended the connection while it was idle")
