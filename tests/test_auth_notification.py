"""A call that changes authentication on PostgreSQL answers only once every live listener —
every process of every node — has acknowledged the change (api/call.py, auth/token_cache.py):
each listener marks its cache stale, then shows the generation it has taken in as its
connection's `application_name`. The caller's next request through any node then meets the
change. SQLite's nodes are the processes of one host: nothing to wait for."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from conftest import Database, Server, postgres_engine
from gatehouse.auth import authenticator
from gatehouse.auth.token_cache import TokenCache, generation_changed_here, unacknowledged
from gatehouse.store.schema import audit_log


@pytest.fixture
def engine(server: Server, database: Database) -> Iterator[sa.Engine]:
    yield from postgres_engine(server, database, "PostgreSQL's listeners")


def _token_id(server: Server) -> int:
    server.token(f"note-{time.monotonic_ns()}")
    return int(server.sql("SELECT max(id) FROM api_tokens")[0][0])


def _generation(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT n FROM auth_generation")).scalar_one())


def _commit_a_token_change(server: Server, engine: sa.Engine) -> int:
    token = _token_id(server)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE api_tokens SET name = name WHERE id = :i"), {"i": token})
    return _generation(engine)


def _unacknowledged(engine: sa.Engine, generation: int) -> int:
    with engine.connect() as conn:
        return unacknowledged(conn, generation)


class _Listener:
    """A connection that looks to the others like a listener which took in `generation` and
    no more (a process that froze, say), until it acknowledges more or goes away."""

    def __init__(self, engine: sa.Engine, name: str) -> None:
        self._conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.name(name)

    def name(self, name: str) -> None:
        self._conn.execute(sa.text("SELECT set_config('application_name', :n, false)"), {"n": name})

    def close(self) -> None:
        self._conn.invalidate()  # the session ends; a pooled one would live on
        self._conn.close()


def test_a_token_change_is_seen_before_the_commit(server: Server, engine: sa.Engine) -> None:
    token = _token_id(server)
    before = _generation(engine)
    with engine.connect() as conn, conn.begin() as tx:
        conn.execute(sa.text("UPDATE api_tokens SET name = name WHERE id = :i"), {"i": token})
        assert generation_changed_here(conn) == before + 1
        tx.rollback()


@pytest.mark.parametrize("write", [False, True])
def test_other_work_is_not_an_auth_change(engine: sa.Engine, write: bool) -> None:
    with engine.connect() as conn, conn.begin() as tx:
        if write:  # a row authentication does not depend on
            conn.execute(sa.insert(audit_log).values(time=1, action="TEST", reason="ok"))
        assert generation_changed_here(conn) is None
        tx.rollback()


def test_a_listener_acknowledges_a_committed_change(server: Server, engine: sa.Engine) -> None:
    cache: TokenCache[object] = TokenCache(engine)
    try:
        deadline = time.monotonic() + 10
        while cache.get("warm-up") is None and time.monotonic() < deadline:
            cache.put("warm-up", object(), cache.snapshot())  # the listener is connected
            time.sleep(0.01)
        generation = _commit_a_token_change(server, engine)
        while _unacknowledged(engine, generation) and time.monotonic() < deadline:
            time.sleep(0.005)
        assert _unacknowledged(engine, generation) == 0
        assert cache.get("warm-up") is None  # acknowledged only once its cache was stale
    finally:
        cache.close()


def test_a_listener_behind_is_counted_until_it_goes(server: Server, engine: sa.Engine) -> None:
    generation = _commit_a_token_change(server, engine)
    behind = _Listener(engine, f"gatehouse-auth {generation - 1}")
    try:
        assert _unacknowledged(engine, generation) == 1
    finally:
        behind.close()
    assert _unacknowledged(engine, generation) == 0


@pytest.mark.parametrize(
    "name",
    ["gatehouse-auth", "gatehouse-auth ", "gatehouse-auth x", "gatehouse-auth 1 2", "psql 1"],
)
def test_only_a_listener_s_exact_name_counts(server: Server, engine: sa.Engine, name: str) -> None:
    ahead = _generation(engine) + 1  # every real listener is behind it
    listeners = _unacknowledged(engine, ahead)
    other = _Listener(engine, name)
    try:
        assert _unacknowledged(engine, ahead) == listeners
    finally:
        other.close()


def test_a_change_answers_once_a_late_listener_has_acknowledged(
    server: Server, engine: sa.Engine
) -> None:
    name = f"late-{time.monotonic_ns()}"
    server.token(name)
    late = _Listener(engine, "gatehouse-auth 0")
    catch_up = threading.Timer(0.4, lambda: late.name("gatehouse-auth 999999999"))
    try:
        started = time.monotonic()
        catch_up.start()
        server.ok("api_token_revoke", params={"token_name": name})
        assert time.monotonic() - started >= 0.4
    finally:
        catch_up.cancel()
        late.close()


def test_a_stuck_listener_delays_a_change_by_a_bounded_time(
    server: Server, engine: sa.Engine
) -> None:
    name = f"stuck-{time.monotonic_ns()}"
    server.token(name)
    stuck = _Listener(engine, "gatehouse-auth 0")
    try:
        started = time.monotonic()
        server.ok("api_token_revoke", params={"token_name": name})
        took = time.monotonic() - started
    finally:
        stuck.close()
    assert authenticator.ACKNOWLEDGEMENT_WAIT <= took < authenticator.ACKNOWLEDGEMENT_WAIT + 5


def test_other_requests_are_answered_while_a_change_waits(
    server: Server, engine: sa.Engine
) -> None:
    """The waiting call runs off the event loop (on PostgreSQL every call that may write does):
    the process answers everyone else meanwhile."""
    name = f"waiting-{time.monotonic_ns()}"
    server.token(name)
    stuck = _Listener(engine, "gatehouse-auth 0")
    revoke = threading.Thread(
        target=lambda: server.ok("api_token_revoke", params={"token_name": name})
    )
    try:
        revoke.start()
        time.sleep(authenticator.ACKNOWLEDGEMENT_WAIT / 5)  # the revoke is waiting by now
        started = time.monotonic()
        assert server.get("version").status_code == 200
        answered = time.monotonic() - started
        still_waiting = revoke.is_alive()
        revoke.join()
    finally:
        stuck.close()
    assert still_waiting
    assert answered < authenticator.ACKNOWLEDGEMENT_WAIT / 2


def _node_generation(server: Server) -> bytes:
    return (server.data_dir / "auth-generation").read_bytes()


def test_only_an_auth_change_tells_the_node_s_other_workers(
    server: Server, engine: sa.Engine
) -> None:
    """Each worker's token cache and cPHulk gate stay warm through writes that cannot alter a
    token check (a new token, say); a revoke flushes them all. (`engine`: PostgreSQL only.)"""
    before = _node_generation(server)
    name = f"quiet-{time.monotonic_ns()}"
    server.token(name)
    assert _node_generation(server) == before
    server.ok("api_token_revoke", params={"token_name": name})
    assert _node_generation(server) != before
