"""A call that changes authentication on PostgreSQL answers only once its own change
notification has come back to its process (api/call.py, auth/token_cache.py): by then
PostgreSQL has signalled every node's listener, so the caller's next request through another
node finds the change there. SQLite's nodes are the processes of one host: nothing to wait for."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from conftest import Database, Server, postgres_engine
from gatehouse.auth.token_cache import TokenCache, changed_in_transaction
from gatehouse.store.schema import audit_log


@pytest.fixture
def engine(server: Server, database: Database) -> Iterator[sa.Engine]:
    yield from postgres_engine(server, database, "PostgreSQL's notifications")


def _token_id(server: Server) -> int:
    server.token(f"note-{time.monotonic_ns()}")
    return int(server.sql("SELECT max(id) FROM api_tokens")[0][0])


def test_a_token_change_is_seen_before_the_commit(server: Server, engine: sa.Engine) -> None:
    token = _token_id(server)
    with engine.connect() as conn, conn.begin() as tx:
        conn.execute(sa.text("UPDATE api_tokens SET name = name WHERE id = :i"), {"i": token})
        assert changed_in_transaction(conn)
        tx.rollback()


@pytest.mark.parametrize("write", [False, True])
def test_other_work_is_not_an_auth_change(engine: sa.Engine, write: bool) -> None:
    with engine.connect() as conn, conn.begin() as tx:
        if write:  # a row authentication does not depend on
            conn.execute(sa.insert(audit_log).values(time=1, action="TEST", reason="ok"))
        assert not changed_in_transaction(conn)
        tx.rollback()


def test_the_notification_of_a_committed_change_comes_back(
    server: Server, engine: sa.Engine
) -> None:
    cache: TokenCache[object] = TokenCache(engine)
    try:
        deadline = time.monotonic() + 10
        while cache.get("warm-up") is None and time.monotonic() < deadline:
            cache.put("warm-up", object(), cache.snapshot())  # the listener is connected
            time.sleep(0.01)
        before = cache.notifications()
        assert not cache.wait_for_notification(before, 0.05)  # nothing changed yet
        token = _token_id(server)  # a change: the trigger notifies on commit
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE api_tokens SET name = name WHERE id = :i"), {"i": token})
        assert cache.wait_for_notification(before, 5)
    finally:
        cache.close()
