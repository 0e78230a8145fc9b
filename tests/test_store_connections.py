"""PostgreSQL connections that the server ended while they sat in gatehouse's pool are found
dead without a round trip when they are next handed out, and replaced: no call fails for them
(store/engine.py, `_still_connected`)."""

from __future__ import annotations

import time

import pytest

from conftest import Database, Server
from gatehouse.store import engine as store_engine

TIMEOUT = 10
POOLED = " FROM pg_stat_activity WHERE application_name = :app AND datname = current_database()"


@pytest.fixture(autouse=True)
def _postgres_only(database: Database) -> None:
    if database.backend != "postgresql":
        pytest.skip("PostgreSQL only: a SQLite connection cannot be ended from outside")


def _end_pooled_connections(server: Server) -> None:
    """Terminate every pooled gatehouse connection of the store (as a restart would), and
    wait until the backends are gone."""
    app = store_engine.APPLICATION_NAME
    ended = server.sql(
        "SELECT pg_terminate_backend(pid)" + POOLED + " AND pid <> pg_backend_pid()", app=app
    )
    assert ended and all(row[0] for row in ended)
    deadline = time.monotonic() + TIMEOUT
    while (
        server.sql("SELECT pid" + POOLED + " AND pid <> pg_backend_pid()", app=app)
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)


def test_the_server_s_pooled_connections_carry_its_name(server: Server) -> None:
    server.ok("listaccts")
    app = store_engine.APPLICATION_NAME
    assert server.sql("SELECT count(*)" + POOLED + " AND pid <> pg_backend_pid()", app=app)[0][0]


def test_a_call_after_its_connections_were_ended_succeeds(server: Server) -> None:
    name = f"ended-{time.monotonic_ns()}"
    server.ok("listaccts")  # the pool holds connections
    _end_pooled_connections(server)
    server.token(name)  # a write call's transaction
    assert server.ok("api_token_list")["tokens"][name]["name"] == name


def test_a_token_request_after_its_connections_were_ended_is_answered(server: Server) -> None:
    secret = server.token(f"ended-{time.monotonic_ns()}")
    server.ok("listaccts")
    _end_pooled_connections(server)
    # A new token is never in the cache: its check reads the store on a pooled connection.
    fresh = server.token(f"fresh-{time.monotonic_ns()}")
    _end_pooled_connections(server)
    for token in (fresh, secret):
        assert server.get("version", token=token).status_code == 200
