"""A zone change and the removal of a DNS cluster peer at the same moment, on PostgreSQL
(SQLite runs one writer at a time): the change waits for the removal and queues nothing for
the removed peer — it is neither refused by the outbox's foreign key nor leaves a change
behind (dns/zones.py `_push`, domain/cluster_peers.py `remove`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from conftest import Database, Server, postgres_engine
from gatehouse.dns import zones
from gatehouse.domain import cluster_peers
from gatehouse.store.schema import cluster_outbox
from gatehouse.store.schema import cluster_peers as peers_table


@pytest.fixture
def engine(server: Server, database: Database) -> Iterator[sa.Engine]:
    yield from postgres_engine(
        server, database, "SQLite runs one writing transaction at a time: no such race"
    )


@pytest.fixture
def peer(engine: sa.Engine) -> Iterator[cluster_peers.Peer]:
    with engine.begin() as conn:
        peer_id = conn.execute(
            sa.insert(peers_table)
            .values(
                host="127.0.0.9",
                port=9,
                scheme="http",
                verify_tls=False,
                username="root",
                token_ciphertext=b"unused",
                role="write-only",
                created_time=int(time.time()),
            )
            .returning(peers_table.c.id)
        ).scalar_one()
        found = cluster_peers.get(conn, peer_id)
    assert found is not None
    yield found
    with engine.begin() as conn:  # whatever the test left
        conn.execute(sa.delete(peers_table).where(peers_table.c.id == peer_id))


def _waiting_on_a_lock(engine: sa.Engine) -> bool:
    with engine.connect() as conn:
        count = conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
        ).scalar_one()
    return bool(count)


def test_a_zone_change_during_a_peers_removal_queues_nothing_for_it(
    engine: sa.Engine, peer: cluster_peers.Peer
) -> None:
    failures: list[BaseException] = []

    def change() -> None:
        try:
            with engine.begin() as conn:
                zones._push(conn, ["race.example"], "save")
        except BaseException as error:  # reported by the assertions below
            failures.append(error)

    with engine.connect() as remover:
        removal = remover.begin()
        cluster_peers.remove(remover, peer)  # its row is locked until the commit
        changing = threading.Thread(target=change)
        changing.start()
        deadline = time.monotonic() + 10
        while not _waiting_on_a_lock(engine):
            assert changing.is_alive() and time.monotonic() < deadline, failures
            time.sleep(0.01)
        removal.commit()
    changing.join(10)
    assert not changing.is_alive()
    assert failures == []
    with engine.connect() as conn:
        left = conn.execute(
            sa.select(sa.func.count()).where(cluster_outbox.c.peer_id == peer.id)
        ).scalar_one()
    assert left == 0
