"""A DNS cluster of gatehouse processes with stores of their own (issue 16): a web node (the
suite's server, on either store) with two nameserver peers, write-only and sync. What the
web node changes — DNS-01 style — is answered by both peers' own nameservers with the serials
in step; a peer that was down gets everything when it returns; a revoked peer token fails
clearly and nothing reaches that peer; two web nodes on one store send each change once."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator

import pytest

from cluster_helpers import eventually, fresh_domain, own_node, soa_serial, txt_answer
from conftest import Server, another_node, start_server, stop_server

WAIT = 60.0  # seconds: a first sync queues every zone of the suite's server


class Cluster:
    def __init__(self, web: Server, write_only: Server, sync: Server) -> None:
        self.web, self.write_only, self.sync = web, write_only, sync

    @property
    def peers(self) -> tuple[Server, Server]:
        return self.write_only, self.sync


def _join(web: Server, peer: Server, role: str) -> None:
    token = peer.token(acl=["clustering"])
    web.ok(
        "gatehouse_add_cluster_peer",
        params={"host": "127.0.0.1", "port": peer.http_port, "http": 1, "token": token,
                "role": role},
    )  # fmt: skip


def _leave(web: Server, peer: Server) -> None:
    web.get("gatehouse_remove_cluster_peer", params={"host": "127.0.0.1", "port": peer.http_port})


@pytest.fixture(scope="module")
def cluster(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    write_only = own_node(tmp_path_factory.mktemp("ns-write-only"))
    sync = own_node(tmp_path_factory.mktemp("ns-sync"))
    _join(server, write_only, "write-only")
    _join(server, sync, "sync")
    try:
        yield Cluster(server, write_only, sync)
    finally:
        for node in (write_only, sync):
            _leave(server, node)
            stop_server(node)


def challenge(web: Server, domain: str, value: str) -> None:
    web.ok(
        "addzonerecord",
        params={"domain": domain, "name": "_acme-challenge", "type": "TXT", "txtdata": value},
    )


def remove_challenge(web: Server, domain: str) -> None:
    records = web.ok("dumpzone", params={"domain": domain})["zone"][0]["record"]
    line = next(r["Line"] for r in records if r.get("name", "").startswith("_acme-challenge"))
    web.ok("removezonerecord", params={"zone": domain, "line": line})


def answered(node: Server, domain: str, value: str) -> bool:
    return value in txt_answer(node, f"_acme-challenge.{domain}")


def answers(node: Server, domain: str, value: str, *, present: bool = True) -> Callable[[], bool]:
    return lambda: answered(node, domain, value) == present


def serial_is(node: Server, domain: str, serial: int | None) -> Callable[[], bool]:
    return lambda: soa_serial(node, domain) == serial


def has_zone(node: Server, domain: str) -> Callable[[], bool]:
    return lambda: soa_serial(node, domain) is not None


def test_a_zone_made_edited_and_removed_on_the_web_node_is_answered_by_both_peers(
    cluster: Cluster,
) -> None:
    web, domain, value = cluster.web, fresh_domain(), secrets.token_urlsafe(16)
    web.ok("adddns", params={"domain": domain, "ip": "192.0.2.60"})
    challenge(web, domain, value)
    for peer in cluster.peers:
        assert eventually(answers(peer, domain, value), WAIT), peer.url
    remove_challenge(web, domain)
    serial = soa_serial(web, domain)
    for peer in cluster.peers:
        assert eventually(answers(peer, domain, value, present=False), WAIT), peer.url
        assert eventually(serial_is(peer, domain, serial), WAIT), peer.url
    web.ok("killdns", params={"domain": domain})
    for peer in cluster.peers:
        assert eventually(serial_is(peer, domain, None), WAIT), peer.url
        assert peer.sql("SELECT count(*) FROM zones WHERE name = :n", n=domain) == [(0,)]


def test_the_web_nodes_page_and_status_show_both_peers_delivering(cluster: Cluster) -> None:
    domain = fresh_domain()
    cluster.web.ok("adddns", params={"domain": domain, "ip": "192.0.2.61"})
    for peer in cluster.peers:
        assert eventually(has_zone(peer, domain), WAIT)
    listed = {p["port"]: p for p in cluster.web.ok("gatehouse_list_cluster_peers")["peers"]}
    for peer, role in ((cluster.write_only, "write-only"), (cluster.sync, "sync")):
        assert listed[peer.http_port]["role"] == role
        assert listed[peer.http_port]["healthy"] == 1
        assert listed[peer.http_port]["last_delivery"] is not None
    cluster.web.ok("killdns", params={"domain": domain})


def test_a_peer_that_was_down_gets_everything_when_it_returns(cluster: Cluster) -> None:
    web, down = cluster.web, cluster.write_only
    domain, values = fresh_domain(), [secrets.token_urlsafe(12) for _ in range(3)]
    stop_server(down)
    try:
        web.ok("adddns", params={"domain": domain, "ip": "192.0.2.62"})
        for value in values:
            challenge(web, domain, value)

        def failing() -> bool:
            peers = web.ok("gatehouse_list_cluster_peers")["peers"]
            mine = next(p for p in peers if p["port"] == down.http_port)
            return bool(mine["healthy"] == 0 and mine["pending"] >= 1)

        assert eventually(failing, WAIT)
        assert down.process is not None and down.process.poll() is not None
    finally:
        back = start_server(down.data_dir, down.db_url, "sqlite", down.root_password, ports_of=down)
        down.process = back.process
    for value in values:
        assert eventually(answers(down, domain, value), WAIT), value
    assert eventually(lambda: soa_serial(down, domain) == soa_serial(web, domain), WAIT)
    web.ok("killdns", params={"domain": domain})


def test_a_revoked_peer_token_fails_clearly_and_nothing_reaches_the_peer(
    server: Server, tmp_path_factory: pytest.TempPathFactory
) -> None:
    revoked = own_node(tmp_path_factory.mktemp("ns-revoked"))
    name = f"cluster-{secrets.token_hex(4)}"
    token = revoked.token(name, acl=["clustering"])
    server.ok(
        "gatehouse_add_cluster_peer",
        params={"host": "127.0.0.1", "port": revoked.http_port, "http": 1, "token": token,
                "role": "write-only"},
    )  # fmt: skip
    try:
        revoked.ok("api_token_revoke", params={"token_name": name})
        domain = fresh_domain()
        server.ok("adddns", params={"domain": domain, "ip": "192.0.2.63"})

        def refused() -> bool:
            peers = server.ok("gatehouse_list_cluster_peers")["peers"]
            mine = next(p for p in peers if p["port"] == revoked.http_port)
            return "HTTP 401: the peer refused the user and token" in str(mine["last_error"])

        assert eventually(refused, WAIT)
        status = server.cli("cluster", "status", check=False)
        assert status.returncode == 1
        assert (
            f"127.0.0.1:{revoked.http_port}" in status.stdout
            and "FAILING: HTTP 401" in status.stdout
        )
        assert revoked.sql("SELECT count(*) FROM zones WHERE name = :n", n=domain) == [(0,)]
        server.ok("killdns", params={"domain": domain})
    finally:
        _leave(server, revoked)
        stop_server(revoked)


def test_two_web_nodes_on_one_store_send_each_change_once(
    server: Server, tmp_path_factory: pytest.TempPathFactory
) -> None:
    peer = own_node(tmp_path_factory.mktemp("ns-once"))
    _join(server, peer, "write-only")
    try:
        with another_node(server, tmp_path_factory, "web-two") as second:
            domains = [fresh_domain("once") for _ in range(6)]
            for i, domain in enumerate(domains):  # changes made on both web nodes
                (server if i % 2 else second).ok(
                    "adddns", params={"domain": domain, "ip": "192.0.2.64"}
                )
            for domain in domains:
                assert eventually(has_zone(peer, domain), WAIT)
            assert eventually(
                lambda: server.sql("SELECT count(*) FROM cluster_outbox")[0][0] == 0, WAIT
            )
        saves = peer.sql(
            "SELECT subject, count(*) FROM audit_log WHERE action = 'CLUSTERSAVEZONE' "
            "AND subject LIKE 'once%' GROUP BY subject"
        )
        assert sorted(saves) == sorted((d, 1) for d in domains)
        for domain in domains:
            server.ok("killdns", params={"domain": domain})
    finally:
        _leave(server, peer)
        stop_server(peer)
