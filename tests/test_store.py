"""The store: Alembic migrations on both backends, SQLite's WAL mode, and the unique
constraints the token store relies on."""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from conftest import POSTGRES_URL, Database, Server
from gatehouse.store import migrate
from gatehouse.store.engine import create
from gatehouse.store.schema import api_tokens, metadata, users


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
