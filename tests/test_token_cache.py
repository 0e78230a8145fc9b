"""The token cache never serves a revoked or changed token (docs/authentication.md).

These tests drive `TokenCache` directly against the session's real store (SQLite file or
PostgreSQL database), changing the store through a separate engine — as another process would;
those of cPHulk's gate on a store of their own (`quiet_engines`).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from conftest import Server, run_cli
from gatehouse.auth.token_cache import TokenCache, unacknowledged
from gatehouse.domain import audit, tokens, users
from gatehouse.passwords import generate_password
from gatehouse.store.engine import create
from test_zonefiles import fresh_store

# What the authenticator caches per token digest: the token and its owner.
Cache = TokenCache[tuple[tokens.Token, users.User]]


@pytest.fixture
def engines(server: Server) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    mine, other = create(server.db_url), create(server.db_url)
    yield mine, other
    mine.dispose()
    other.dispose()


@pytest.fixture
def cache(engines: tuple[sa.Engine, sa.Engine]) -> Iterator[Cache]:
    c: Cache = TokenCache(engines[0])
    wait_until(lambda: c.get("warm-up") is None and _usable(c))
    yield c
    c.close()


def _usable(c: Cache) -> bool:
    snapshot = c.snapshot()
    c.put("probe", ("t", "u"), snapshot)  # type: ignore[arg-type]
    ok = c.get("probe") is not None
    c.invalidate()
    return ok


def wait_until(condition: object, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.005)
    return False


def make_token(engine: sa.Engine) -> tuple[str, tuple[tokens.Token, users.User]]:
    with engine.begin() as conn:
        root = users.require(conn, "root")
        _token, secret = tokens.create(
            conn,
            owner=root,
            service=tokens.WHOSTMGR,
            name=f"c-{uuid.uuid4().hex[:12]}",
            token_acls=None,
            whitelist_ips=None,
            expires_at=None,
            now=int(time.time()),
        )
        digest = tokens.digest(secret)
        found = tokens.lookup_for_auth(conn, digest)
    assert found is not None
    return digest, found


def cached(c: Cache, engine: sa.Engine) -> tuple[str, tuple[tokens.Token, users.User]]:
    digest, entry = make_token(engine)
    c.put(digest, entry, c.snapshot())
    assert c.get(digest) == entry
    return digest, entry


def test_a_lookup_is_served_from_the_cache(
    cache: Cache, engines: tuple[sa.Engine, sa.Engine]
) -> None:
    digest, entry = cached(cache, engines[0])
    assert cache.get(digest) == entry


@pytest.mark.parametrize("change", ["revoke", "rename", "acls", "ips", "expiry", "owner"])
def test_a_change_by_another_connection_empties_the_cache(
    cache: Cache, engines: tuple[sa.Engine, sa.Engine], change: str
) -> None:
    digest, (token, owner) = cached(cache, engines[0])
    statements: dict[str, tuple[str, dict[str, Any]]] = {
        "revoke": ("DELETE FROM api_tokens WHERE id = :id", {"id": token.id}),
        "rename": (
            "UPDATE api_tokens SET name = :n WHERE id = :id",
            {"id": token.id, "n": f"r-{uuid.uuid4().hex[:10]}"},
        ),
        "acls": (
            "UPDATE api_tokens SET acls = '[\"list-accts\"]' WHERE id = :id",
            {"id": token.id},
        ),
        "ips": (
            "UPDATE api_tokens SET whitelist_ips = '[\"192.0.2.1\"]' WHERE id = :id",
            {"id": token.id},
        ),
        "expiry": ("UPDATE api_tokens SET expires_at = 1 WHERE id = :id", {"id": token.id}),
        "owner": (
            "UPDATE users SET contact_email = contact_email WHERE id = :id",
            {"id": owner.id},
        ),
    }
    sql, params = statements[change]
    with engines[1].begin() as conn:
        conn.execute(sa.text(sql), params)
    if engines[0].dialect.name == "sqlite":
        assert cache.get(digest) is None  # the very next look
    else:
        assert wait_until(lambda: cache.get(digest) is None)  # once NOTIFY lands


def test_the_lock_free_look_waits_until_the_stale_entries_are_dropped(
    cache: Cache, engines: tuple[sa.Engine, sa.Engine]
) -> None:
    """A look without the lock (every request, on SQLite) must not see the moved WAL index as
    "unchanged" while another thread, holding the lock, is still between finding the store
    changed and dropping the entries."""
    if engines[0].dialect.name != "sqlite":
        pytest.skip("the lock-free look reads SQLite's WAL index")
    digest, (token, _owner) = cached(cache, engines[0])
    watcher = cache._watcher
    assert watcher.unchanged()
    seen_while_dropping: list[bool] = []

    class Entries(dict[str, Any]):
        def clear(self) -> None:
            seen_while_dropping.append(watcher.unchanged())
            super().clear()

    cache._entries = Entries(cache._entries)
    with engines[1].begin() as conn:
        conn.execute(sa.text("DELETE FROM api_tokens WHERE id = :id"), {"id": token.id})
    assert not watcher.unchanged()
    assert cache.get(digest) is None
    # While the entries were being dropped, a look without the lock would have gone to the
    # lock; once they are gone, it is quick again.
    assert seen_while_dropping == [False]
    assert watcher.unchanged()


def test_a_change_by_another_process_of_the_node_is_seen_at_once(
    engines: tuple[sa.Engine, sa.Engine], tmp_path: Any
) -> None:
    """On PostgreSQL the workers of a node share a small mapped file: a worker that changed the
    store (`invalidate`, before it answers) makes every other worker's very next look miss,
    without waiting for the notification — here there is none: nothing changed in the store."""
    if engines[0].dialect.name == "sqlite":
        pytest.skip("SQLite's own WAL index does this")
    shared = tmp_path / "auth-generation"
    mine: Cache = TokenCache(engines[0], shared_path=shared)
    other: Cache = TokenCache(engines[1], shared_path=shared)
    try:
        assert wait_until(lambda: mine.get("warm-up") is None and _usable(mine))
        digest, entry = make_token(engines[0])
        mine.put(digest, entry, mine.snapshot())
        assert mine.get(digest) == entry
        other.invalidate()
        assert mine.get(digest) is None
    finally:
        mine.close()
        other.close()


@pytest.mark.parametrize("write", ["audit", "last_use", "new_token"])
def test_writes_that_cannot_matter_keep_the_cache_warm(
    cache: Cache, engines: tuple[sa.Engine, sa.Engine], write: str
) -> None:
    digest, (token, _owner) = cached(cache, engines[0])
    with engines[1].begin() as conn:
        if write == "audit":
            audit.record(
                conn, now=int(time.time()), action=audit.AUTH_FAILURE, reason="token_not_found"
            )
        elif write == "last_use":
            tokens.record_use(conn, token.id, int(time.time()), "127.0.0.1")
    if write == "new_token":
        make_token(engines[1])
    time.sleep(0.05)  # give a (wrong) notification time to arrive
    assert cache.get(digest) is not None


def test_a_read_that_raced_a_change_is_not_cached(
    cache: Cache, engines: tuple[sa.Engine, sa.Engine]
) -> None:
    digest, (token, _owner) = make_token(engines[0])
    snapshot = cache.snapshot()
    with engines[1].begin() as conn:
        conn.execute(sa.text("DELETE FROM api_tokens WHERE id = :id"), {"id": token.id})
    if engines[0].dialect.name != "sqlite":
        wait_until(lambda: cache.snapshot() != snapshot)
    cache.put(digest, (token, _owner), snapshot)
    assert cache.get(digest) is None


def test_invalidate_forgets_everything_and_refuses_older_reads(
    cache: Cache, engines: tuple[sa.Engine, sa.Engine]
) -> None:
    digest, entry = cached(cache, engines[0])
    snapshot = cache.snapshot()
    cache.invalidate()
    assert cache.get(digest) is None
    cache.put(digest, entry, snapshot)
    assert cache.get(digest) is None


def test_the_cache_is_bounded(engines: tuple[sa.Engine, sa.Engine]) -> None:
    small: Cache = TokenCache(engines[0], max_entries=3)
    try:
        wait_until(lambda: _usable(small))
        for _ in range(5):
            digest, entry = make_token(engines[0])
            small.put(digest, entry, small.snapshot())
        assert len(small) <= 3
    finally:
        small.close()


# -- the WAL index mapping must not drop SQLite's locks --------------------------------------

_HOLDS_DMS = """
import fcntl, os, sys
fd = os.open(sys.argv[1] + "-shm", os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128)  # SQLite's dead-man-switch byte
except OSError:
    print("held")
else:
    print("free")
"""


def _dead_man_switch(path: str) -> str:
    """Whether another process could take the WAL index's dead-man-switch lock exclusively
    (it would then truncate and rebuild the index under this process)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _HOLDS_DMS, path], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_mapping_the_wal_index_keeps_sqlites_lock_on_it(tmp_path: Any) -> None:
    from gatehouse.store import migrate

    path = str(tmp_path / "store.db")
    engine = create(f"sqlite:///{path}")
    migrate.upgrade(engine)
    try:
        with engine.connect() as conn:  # SQLite maps the WAL index and takes its lock
            conn.execute(sa.text("SELECT count(*) FROM users")).scalar()
            assert _dead_man_switch(path) == "held"
            watcher: Cache = TokenCache(engine)
            try:
                # Before the fix, the watcher closed its descriptor of the -shm, which drops
                # every POSIX lock this process held on it: another process could then rebuild
                # the index (and the server died of SIGBUS reading its mapping).
                assert _dead_man_switch(path) == "held"
                assert watcher.get("anything") is None
            finally:
                watcher.close()
    finally:
        engine.dispose()


GATE = "cphulk:gate"


@pytest.fixture
def quiet_engines(backend: str, tmp_path: Path) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    """Two engines on a store of the test's own. The gate is dropped by any cPHulk change,
    and the session's store (`engines`) is shared with the session's server: a change of its
    between caching the gate and the check dropped the gate once in CI."""
    with fresh_store(backend, tmp_path) as url:
        password = generate_password()
        run_cli("init", "--root-password-stdin", data_dir=tmp_path, db_url=url,
                stdin=password + "\n")  # fmt: skip
        mine, other = create(url), create(url)
        yield mine, other
        mine.dispose()
        other.dispose()


@pytest.fixture
def gate_cache(quiet_engines: tuple[sa.Engine, sa.Engine]) -> Iterator[Cache]:
    c: Cache = TokenCache(quiet_engines[0], gate_keys=frozenset({GATE}))
    wait_until(lambda: c.get("warm-up") is None and _usable(c))
    yield c
    c.close()


def _with_gate(c: Cache, engine: sa.Engine) -> tuple[str, Any]:
    """The gate and a token cached. Tried again if something else in the store moved
    meanwhile (a notification a look finds before the listener has read it drops all)."""
    gate: Any = ("the gate", uuid.uuid4().hex)
    for _ in range(20):
        c.put(GATE, gate, c.snapshot())
        digest, _entry = cached(c, engine)
        if c.get(GATE) == gate:
            return digest, gate
        time.sleep(0.05)
    raise AssertionError("the gate never stayed in the cache")


def test_a_token_change_keeps_cphulk_s_gate_on_postgresql(
    gate_cache: Cache, quiet_engines: tuple[sa.Engine, sa.Engine]
) -> None:
    """The gate depends on cPHulk's tables alone: a revoke drops the tokens, not the gate
    (whose three reads every node would otherwise make again). SQLite drops both."""
    digest, gate = _with_gate(gate_cache, quiet_engines[0])
    with quiet_engines[1].begin() as conn:
        conn.execute(sa.text("DELETE FROM api_tokens WHERE digest = :d"), {"d": digest})
        generation = int(conn.execute(sa.text("SELECT n FROM auth_generation")).scalar_one())
    if quiet_engines[0].dialect.name == "postgresql":
        # Not by looking in the cache meanwhile: a look that finds the notification still
        # on the listener's socket, not yet read, cannot know its kind and drops the gate too.
        # Each look a statement of its own: PostgreSQL keeps one view of pg_stat_activity
        # for a whole transaction.
        with quiet_engines[1].connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            assert wait_until(lambda: unacknowledged(conn, generation) == 0)
    assert gate_cache.get(digest) is None
    if quiet_engines[0].dialect.name == "sqlite":
        assert gate_cache.get(GATE) is None
    else:
        assert gate_cache.get(GATE) == gate


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE cphulk_settings SET value = value WHERE key = 'none'",
        "UPDATE cphulk_lists SET comment = comment WHERE id = -1",
        "UPDATE cphulk_blocks SET failures = failures WHERE id = -1",
    ],
)
def test_a_cphulk_change_drops_the_gate(
    gate_cache: Cache, quiet_engines: tuple[sa.Engine, sa.Engine], statement: str
) -> None:
    if quiet_engines[0].dialect.name == "sqlite":
        pytest.skip("PostgreSQL's statement triggers fire for no row; SQLite's row ones do not")
    _digest, _gate = _with_gate(gate_cache, quiet_engines[0])
    with quiet_engines[1].begin() as conn:
        conn.execute(sa.text(statement))
    assert wait_until(lambda: gate_cache.get(GATE) is None)


def test_a_gate_kept_is_not_refilled_by_a_read_that_raced_the_change(
    gate_cache: Cache, quiet_engines: tuple[sa.Engine, sa.Engine]
) -> None:
    digest, _gate = _with_gate(gate_cache, quiet_engines[0])
    raced = gate_cache.snapshot()  # a read begins before the change...
    with quiet_engines[1].begin() as conn:
        conn.execute(sa.text("DELETE FROM api_tokens WHERE digest = :d"), {"d": digest})
    assert wait_until(lambda: gate_cache.get(digest) is None)
    gate_cache.put("late", ("t", "u"), raced)  # type: ignore[arg-type]  # ...and ends after
    assert gate_cache.get("late") is None
