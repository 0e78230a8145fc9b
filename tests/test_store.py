"""The store: Alembic migrations on both backends, SQLite's WAL mode, and the unique
constraints the token store relies on."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import sqlite3
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from conftest import POSTGRES_URL, Database, Server
from gatehouse.store import migrate
from gatehouse.store.engine import create
from gatehouse.store.schema import (
    api_tokens,
    cphulk_blocks,
    cphulk_lists,
    cphulk_settings,
    metadata,
    users,
)


@pytest.fixture
def fresh_url(database: Database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An empty database on the same backend as `database`."""
    if database.backend == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('fresh') / 'fresh.db'}"
        return
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"gh_fresh_{uuid.uuid4().hex[:12]}"
    admin = POSTGRES_URL.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(fresh_url: str) -> Iterator[sa.Engine]:
    eng = create(fresh_url)
    yield eng
    eng.dispose()


def _schema(eng: sa.Engine) -> dict[str, object]:
    inspector = sa.inspect(eng)
    out: dict[str, object] = {}
    for table in sorted(inspector.get_table_names()):
        out[table] = (
            sorted(
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ),
            sorted(str(u["column_names"]) for u in inspector.get_unique_constraints(table)),
            sorted(str(i["column_names"]) for i in inspector.get_indexes(table)),
        )
    return out


def test_migrations_apply_to_an_empty_database(engine: sa.Engine) -> None:
    assert not migrate.is_current(engine)
    migrate.upgrade(engine)
    assert migrate.is_current(engine)
    assert set(metadata.tables) <= set(sa.inspect(engine).get_table_names())


def test_server_store_is_current(server: Server) -> None:
    eng = create(server.db_url)
    try:
        assert migrate.is_current(eng)
    finally:
        eng.dispose()


def test_migrated_schema_matches_the_tables(engine: sa.Engine) -> None:
    migrate.upgrade(engine)
    inspector = sa.inspect(engine)
    for table in metadata.sorted_tables:
        have = {c["name"] for c in inspector.get_columns(table.name)}
        assert have == set(table.columns.keys()), table.name


def test_migrating_twice_is_a_no_op(engine: sa.Engine) -> None:
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(users).values(
                username="keep", is_root=False, owner="root", suspended=False, created_time=1
            )
        )
    before = _schema(engine)
    migrate.upgrade(engine)
    assert _schema(engine) == before
    assert migrate.is_current(engine)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
        assert conn.execute(sa.select(users.c.username)).scalars().all() == ["keep"]


def test_sqlite_runs_in_wal_mode(server: Server) -> None:
    if server.backend != "sqlite":
        pytest.skip("SQLite only")
    path = server.db_url.removeprefix("sqlite:///")
    # A plain connection (not gatehouse's engine, which sets the pragma itself): WAL is a
    # property of the database file.
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sqlite_engine_connections_use_wal_and_foreign_keys(server: Server) -> None:
    if server.backend != "sqlite":
        pytest.skip("SQLite only")
    eng = create(server.db_url)
    try:
        with eng.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    finally:
        eng.dispose()


def _token_row(user_id: int, name: str, digest: str) -> dict[str, object]:
    return {
        "user_id": user_id,
        "service": "whostmgr",
        "name": name,
        "digest": digest,
        "create_time": 1,
    }


def _user(conn: sa.Connection) -> int:
    key = conn.execute(
        sa.insert(users).values(
            username=f"u{uuid.uuid4().hex[:10]}",
            is_root=False,
            owner="root",
            suspended=False,
            created_time=1,
        )
    ).inserted_primary_key
    assert key is not None
    return int(key[0])


def _digest() -> str:
    return hashlib.sha512(secrets.token_bytes(16)).hexdigest()


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # the same digest for two tokens, even of different users and names
        (lambda u, v, d: _token_row(u, "a", d), lambda u, v, d: _token_row(v, "b", d)),
        # the same owner, service and name twice
        (
            lambda u, v, d: _token_row(u, "same", d),
            lambda u, v, d: _token_row(u, "same", _digest()),
        ),
    ],
    ids=["digest", "owner-service-name"],
)
def test_unique_constraints(engine: sa.Engine, first: object, second: object) -> None:
    migrate.upgrade(engine)
    with engine.begin() as conn:
        u, v, d = _user(conn), _user(conn), _digest()
        conn.execute(sa.insert(api_tokens).values(first(u, v, d)))  # type: ignore[operator]
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(sa.insert(api_tokens).values(second(u, v, d)))  # type: ignore[operator]


@pytest.mark.parametrize(
    "variant",
    [
        {"service": "cpanel"},  # same name, another service
        {"other_user": True},  # same name, another user
    ],
    ids=["other-service", "other-user"],
)
def test_same_token_name_is_allowed_elsewhere(
    engine: sa.Engine, variant: dict[str, object]
) -> None:
    migrate.upgrade(engine)
    with engine.begin() as conn:
        u, v = _user(conn), _user(conn)
        conn.execute(sa.insert(api_tokens).values(_token_row(u, "same", _digest())))
        row = _token_row(v if variant.get("other_user") else u, "same", _digest())
        if "service" in variant:
            row["service"] = variant["service"]
        conn.execute(sa.insert(api_tokens).values(row))
        assert conn.execute(sa.select(sa.func.count()).select_from(api_tokens)).scalar_one() == 2


def test_the_token_cache_triggers_survive_every_migration(server: Server) -> None:
    # A SQLite table copy (batch migration) silently drops triggers; the cache depends on them.
    if server.backend == "sqlite":
        rows = server.sql("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    else:
        rows = server.sql("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
    names = {r[0] for r in rows}
    assert {"auth_gen_api_tokens_update", "auth_gen_api_tokens_delete"} <= names
    assert any(n.startswith("auth_gen_users") for n in names)


# -- migrating while other nodes serve (PostgreSQL) ---------------------------------------------

# The last migration takes ACCESS EXCLUSIVE locks on cPHulk's tables (it replaces their
# triggers), which every token check reads: what a busy table does to a migration and to the
# token path beside it.
BEFORE_LAST = "0026"
CPHULK_TABLES = (cphulk_settings, cphulk_lists, cphulk_blocks)


@pytest.fixture
def one_behind(engine: sa.Engine) -> sa.Engine:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite readers never wait for a migration (WAL)")
    migrate.upgrade(engine, target=BEFORE_LAST)
    return engine


@contextlib.contextmanager
def _tables_in_use(engine: sa.Engine) -> Iterator[None]:
    """A session that read cPHulk's tables and keeps its transaction open (a long report, or
    a transaction a client forgot)."""
    with engine.connect() as conn, conn.begin():
        for table in CPHULK_TABLES:
            conn.execute(sa.select(sa.func.count()).select_from(table))
        yield


def _gate_read_seconds(engine: sa.Engine) -> float:
    """How long a read of what a token check reads takes; infinite past 1.5 s (never a hang:
    the session holding the table waits for these reads to end)."""
    with engine.connect() as conn:
        conn.execute(sa.text("SET lock_timeout = '1500ms'"))
        started = time.monotonic()
        try:
            conn.execute(sa.select(sa.func.count()).select_from(cphulk_settings))
        except sa.exc.OperationalError:
            return float("inf")
        return time.monotonic() - started


def test_a_migration_waiting_for_a_busy_table_lets_token_checks_through(
    one_behind: sa.Engine,
) -> None:
    reader = create(one_behind.url.render_as_string(hide_password=False))
    pool = ThreadPoolExecutor(1)
    try:
        with _tables_in_use(one_behind):
            migrating = pool.submit(
                migrate.upgrade, one_behind, lock_timeout=0.3, attempts=100, pause=0.2
            )
            time.sleep(0.2)  # the migration is waiting for the table now
            # Without the bound, each read would wait behind the migration until the
            # session above ends.
            waits = [_gate_read_seconds(reader) for _ in range(6)]
            time.sleep(2)
            assert not migrating.done()
        migrating.result(timeout=30)  # the session ended: the next attempt goes through
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        reader.dispose()
    assert max(waits) < 1.0, waits
    assert migrate.is_current(one_behind)


def test_a_migration_blocked_through_every_attempt_stops_and_changes_nothing(
    one_behind: sa.Engine,
) -> None:
    pool = ThreadPoolExecutor(1)
    try:
        with _tables_in_use(one_behind):
            migrating = pool.submit(
                migrate.upgrade, one_behind, lock_timeout=0.1, attempts=3, pause=0.05
            )
            # Bounded: a migration that waited for ever would fail here, not hang the suite.
            refused = migrating.exception(timeout=10)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    assert isinstance(refused, migrate.MigrationBlocked)
    assert "Nothing was changed" in str(refused)
    with one_behind.connect() as conn:
        revision = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    assert revision == BEFORE_LAST
