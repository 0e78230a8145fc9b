"""Queries that arrive together are answered together (docs/nameserver.md, "Queries that
arrive together"): on PostgreSQL the datagrams waiting on the UDP socket share one look at the
store. Each answer is the one the query gets alone, and an API change is in the next batch.
Against the real server on every backend, and in process."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator

import dns.message
import dns.rcode
import pytest
import sqlalchemy as sa

from conftest import Server
from gatehouse.dns.nameserver.cache import ResponseCache
from gatehouse.dns.nameserver.respond import Responder
from gatehouse.dns.nameserver.zonesource import ZoneSource
from test_nameserver import LOCAL, add, edit, new_zone

HOSTS = 12  # one A record each, in each of two zones


@pytest.fixture(scope="module")
def zones(server: Server) -> list[str]:
    made = [new_zone(server) for _ in range(2)]
    for name in made:
        edit(server, name, *(add(f"h{i}", "A", [f"192.0.2.{i + 1}"]) for i in range(HOSTS)))
    return made


@pytest.fixture
def source(server: Server) -> Iterator[ZoneSource]:
    """The server's zones, read from its store in this process."""
    made = ZoneSource(sa.create_engine(server.db_url))
    yield made
    made.close()


def query(name: str, ident: int, rdtype: str = "A") -> bytes:
    return dns.message.make_query(name, rdtype, id=ident, flags=0).to_wire()


def questions(zones: list[str]) -> list[bytes]:
    """Hosts of both zones, a name no zone holds (refused), and a packet that is not DNS."""
    wires = [query(f"h{i}.{zone}", i) for zone in zones for i in range(HOSTS)]
    return [*wires, query(f"nowhere-{uuid.uuid4().hex[:8]}.invalid", 999), b"\x00\x01junk"]


def address_of(reply: bytes | None) -> set[str]:
    assert reply is not None
    message = dns.message.from_wire(reply)
    return {rd.to_text() for rrset in message.answer for rd in rrset}


def test_answers_together_are_the_answers_alone(zones: list[str], source: ZoneSource) -> None:
    # Without a response cache: every answer made afresh, by both paths.
    responder = Responder(source, ResponseCache(max_entries=0))
    wires = questions(zones)
    together = responder.respond_all(wires, tcp=False)
    alone = [responder.respond(wire, tcp=False) for wire in wires]
    assert together == alone
    assert address_of(together[0]) == {"192.0.2.1"}
    refused = together[-2]
    assert refused is not None and dns.message.from_wire(refused).rcode() == dns.rcode.REFUSED


def test_questions_that_arrive_together_are_one_look_at_the_store(
    zones: list[str], source: ZoneSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    looks: list[list[str]] = []
    find = source._store.find

    def counted(names: list[str]) -> list[tuple[object, ...]]:
        looks.append(names)
        return find(names)

    monkeypatch.setattr(source._store, "find", counted)
    Responder(source).respond_all(questions(zones), tcp=False)
    assert len(looks) == 1
    assert {f"h0.{zones[0]}", zones[0], zones[1]} <= set(looks[0])


def test_a_change_is_in_the_next_batch(server: Server, source: ZoneSource) -> None:
    zone = new_zone(server)
    responder = Responder(source)
    wires = [query(f"late.{zone}", 1), query(f"late.{zone}", 2)]
    before = responder.respond_all(wires, tcp=False)
    assert before[0] is not None and dns.message.from_wire(before[0]).rcode() == dns.rcode.NXDOMAIN
    edit(server, zone, add("late", "A", ["192.0.2.7"]))
    assert [address_of(reply) for reply in responder.respond_all(wires, tcp=False)] == [
        {"192.0.2.7"},
        {"192.0.2.7"},
    ]


def test_a_failed_look_leaves_each_question_to_ask_alone(
    zones: list[str], source: ZoneSource, monkeypatch: pytest.MonkeyPatch
) -> None:
    find = source._store.find
    calls = iter(range(1_000))

    def first_fails(names: list[str]) -> list[tuple[object, ...]]:
        if next(calls) == 0:
            raise ConnectionError("the store went away")
        return find(names)

    monkeypatch.setattr(source._store, "find", first_fails)
    wires = [query(f"h{i}.{zones[0]}", i) for i in range(3)]
    replies = Responder(source).respond_all(wires, tcp=False)
    assert [address_of(reply) for reply in replies] == [{f"192.0.2.{i + 1}"} for i in range(3)]


def test_a_burst_over_udp_is_answered_whole_and_right(server: Server, zones: list[str]) -> None:
    """Sent at once from one socket, so that they wait on the server's socket together."""
    wires = questions(zones)[:-2]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(5)
        for wire in wires:
            sock.sendto(wire, (LOCAL, server.dns_port))
        replies: dict[tuple[int, str], bytes] = {}
        while len(replies) < len(wires):
            reply = sock.recv(65535)
            replies[
                int.from_bytes(reply[:2], "big"),
                dns.message.from_wire(reply).question[0].name.to_text(),
            ] = reply
    for wire in wires:
        sent = dns.message.from_wire(wire)
        reply = replies[sent.id, sent.question[0].name.to_text()]
        host = int(sent.question[0].name.labels[0][1:])
        assert address_of(reply) == {f"192.0.2.{host + 1}"}
