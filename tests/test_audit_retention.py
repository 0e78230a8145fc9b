"""The audit trail stays bounded (issue 18 §4): identical refusals within a minute are one row
counting them, and rows older than the retention are purged in batches — by the server every
hour, and by `gatehouse audit purge`."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import secrets
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from conftest import POSTGRES_URL, Server
from gatehouse.domain import audit, retention
from gatehouse.store import migrate
from gatehouse.store.engine import create
from gatehouse.store.schema import audit_log, cphulk_blocks, login_attempts

NOW = 1_800_000_000


@pytest.fixture(scope="module")
def store_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A store of this module's own (the server's has rows of every other test), per backend."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('audit') / 'audit.db'}"
        eng = create(url)
        migrate.upgrade(eng)
        eng.dispose()
        yield url
        return
    import psycopg
    from sqlalchemy.engine import make_url

    if not POSTGRES_URL:
        pytest.skip("GATEHOUSE_TEST_POSTGRES_URL is not set")
    admin = POSTGRES_URL.replace("postgresql+psycopg", "postgresql")
    name = f"gh_audit_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    eng = create(url)
    migrate.upgrade(eng)
    eng.dispose()
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def engine(store_url: str) -> Iterator[sa.Engine]:
    eng = create(store_url)
    with eng.begin() as conn:
        conn.execute(sa.delete(audit_log))
        conn.execute(sa.delete(login_attempts))
        conn.execute(sa.delete(cphulk_blocks))
    yield eng
    eng.dispose()


def refuse(conn: sa.Connection, now: int, **fields: str) -> None:
    values = {"actor": "bob", "source_ip": "192.0.2.1", "reason": "token_not_found"} | fields
    audit.record(conn, now=now, action=audit.AUTH_FAILURE, detail="/json-api/version", **values)


def rows(engine: sa.Engine) -> list[tuple[str, str | None, int]]:
    with engine.connect() as conn:
        stmt = sa.select(audit_log.c.reason, audit_log.c.actor, audit_log.c.repeats)
        return [tuple(r) for r in conn.execute(stmt.order_by(audit_log.c.id))]


# -- aggregation -------------------------------------------------------------------------


def test_identical_wrong_tokens_over_http_are_one_row_counting_them(server: Server) -> None:
    user = f"nobody{secrets.token_hex(4)}"
    for _ in range(4):
        response = httpx.get(
            f"{server.url}/json-api/version?api.version=1",
            headers={"Authorization": f"whm {user}:{secrets.token_hex(16).upper()}"},
        )
        assert response.status_code == 401
    found = server.sql("SELECT reason, repeats FROM audit_log WHERE actor = :u", u=user)
    assert [tuple(r) for r in found] == [("token_not_found", 4)]


def test_identical_refusals_within_a_minute_add_to_one_row(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for second in range(0, 60, 10):
            refuse(conn, NOW + second)
    assert rows(engine) == [("token_not_found", "bob", 6)]


@pytest.mark.parametrize(
    "other",
    [
        {"reason": "bad_password"},
        {"actor": "alice"},
        {"source_ip": "192.0.2.2"},
        {"token_name": "billing"},
    ],
)
def test_a_refusal_that_differs_in_anything_is_a_row_of_its_own(
    engine: sa.Engine, other: dict[str, str]
) -> None:
    with engine.begin() as conn:
        refuse(conn, NOW)
        refuse(conn, NOW + 1, **other)
        refuse(conn, NOW + 2)
    assert [r[2] for r in rows(engine)] == [2, 1]


@pytest.mark.parametrize(
    ("later", "repeats"),
    [
        (audit.AGGREGATE_WINDOW - 1, [2]),
        (audit.AGGREGATE_WINDOW, [1, 1]),
        (audit.AGGREGATE_WINDOW + 3600, [1, 1]),
    ],
)
def test_the_window_counts_from_the_rows_first_refusal(
    engine: sa.Engine, later: int, repeats: list[int]
) -> None:
    with engine.begin() as conn:
        refuse(conn, NOW)
        refuse(conn, NOW + later)
    assert [r[2] for r in rows(engine)] == repeats


def test_a_refusal_is_one_statement_on_postgresql(engine: sa.Engine) -> None:
    """The first refusal of a kind (the first request with a token just revoked elsewhere)
    and each repeat: one round trip each, the repeat's count and the new row in one."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no UPDATE inside WITH, and no round trip to save")
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        refuse(conn, NOW)
        refuse(conn, NOW + 1)
    assert len(statements) == 2
    assert rows(engine) == [("token_not_found", "bob", 2)]


def test_a_storm_is_one_row_a_minute(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for second in range(0, 180, 2):
            refuse(conn, NOW + second)
    assert [r[2] for r in rows(engine)] == [30, 30, 30]


def _refuse_many(url: str, count: int) -> None:
    """One process's share of a storm: each refusal its own transaction, as a request's is."""
    eng = create(url)
    try:
        for _ in range(count):
            with eng.begin() as conn:
                refuse(conn, NOW)
    finally:
        eng.dispose()


def test_processes_refusing_at_once_lose_no_count(engine: sa.Engine, store_url: str) -> None:
    workers, each = 4, 150
    spawn = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=spawn) as pool:
        for done in [pool.submit(_refuse_many, store_url, each) for _ in range(workers)]:
            done.result()
    counts = [r[2] for r in rows(engine)]
    assert sum(counts) == workers * each
    assert len(counts) <= workers  # a race may start a second row, not one per refusal


def test_changes_are_never_aggregated(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for _ in range(3):
            audit.record(conn, now=NOW, action=audit.TOKEN_CREATE, actor="root", subject="root")
    assert [r[2] for r in rows(engine)] == [1, 1, 1]


# -- retention ---------------------------------------------------------------------------


def _old_rows(engine: sa.Engine, count: int, when: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(audit_log),
            [
                {"time": when, "action": audit.TOKEN_CREATE, "reason": "ok", "actor": f"u{i}"}
                for i in range(count)
            ],
        )


def test_purge_removes_only_rows_older_than_the_retention_in_batches(engine: sa.Engine) -> None:
    _old_rows(engine, 12_000, NOW - 91 * retention.DAY)
    _old_rows(engine, 3, NOW - 89 * retention.DAY)
    purged = retention.purge(engine, NOW, 90)
    assert purged.audit_rows == 12_000
    assert len(rows(engine)) == 3


def test_a_retention_of_zero_keeps_everything(engine: sa.Engine) -> None:
    _old_rows(engine, 5, NOW - 3650 * retention.DAY)
    assert retention.purge(engine, NOW, 0).audit_rows == 0
    assert len(rows(engine)) == 5


def test_purge_removes_cphulk_attempts_no_window_counts(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        for when in (NOW - 2 * retention.DAY, NOW - 60):
            conn.execute(
                sa.insert(login_attempts).values(
                    time=when,
                    address="192.0.2.9",
                    username="bob",
                    service="whostmgrd",
                    authservice="token",
                    pending=False,
                )
            )
    assert retention.purge(engine, NOW, 90).cphulk_rows == 1
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(login_attempts)).scalar() == 1


def _auth_generation(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT n FROM auth_generation")).scalar_one())


def _block(engine: sa.Engine, expires: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(cphulk_blocks).values(
                kind="ip", address="192.0.2.9", username=None, created_time=expires - 600,
                expires_time=expires, failures=5,
            )
        )  # fmt: skip


def test_purge_removes_blocks_expired_over_an_hour_ago_and_says_so(engine: sa.Engine) -> None:
    _block(engine, NOW - 3601)
    _block(engine, NOW - 60)
    before = _auth_generation(engine)
    assert retention.purge(engine, NOW, 90).cphulk_rows == 1
    # Every node's cached gate must go: a block that went is a change to cPHulk.
    assert _auth_generation(engine) > before


def test_a_purge_with_nothing_due_leaves_every_node_s_gate_cached(engine: sa.Engine) -> None:
    """On PostgreSQL an empty DELETE on the blocks would still fire their statement trigger,
    and every node would drop its cached gate once an hour for nothing."""
    _block(engine, NOW - 60)
    before = _auth_generation(engine)
    assert retention.purge(engine, NOW, 90).cphulk_rows == 0
    assert _auth_generation(engine) == before


def test_the_cli_purges_the_servers_store(server: Server) -> None:
    actor = f"old{secrets.token_hex(4)}"
    old = int(time.time()) - 40 * retention.DAY
    server.sql(
        "INSERT INTO audit_log (time, action, actor, reason, repeats) "
        "VALUES (:t, 'CREATEAPITOKEN', :a, 'ok', 1)",
        t=old,
        a=actor,
    )
    result = server.cli("audit", "purge", "--older-than-days", "30")
    assert "audit rows older than 30 days" in result.stdout
    assert server.sql("SELECT count(*) FROM audit_log WHERE actor = :a", a=actor)[0][0] == 0
    assert server.sql("SELECT count(*) FROM audit_log WHERE time > :t", t=old)[0][0] > 0


def test_the_cli_refuses_a_purge_of_nothing(server: Server) -> None:
    result = server.cli("audit", "purge", "--older-than-days", "0", check=False)
    assert result.returncode != 0
