"""The nameserver's response cache (docs/nameserver.md, "The response cache"): answers from it
are the bytes the uncached path makes, apart from the ID and the question's case as sent; an
API change is in the very next answer; odd and malformed queries are answered as before; the
cache stays within its bounds. Against the real server on every backend, and in process."""

from __future__ import annotations

import contextlib
import struct
import uuid
from collections.abc import Iterator
from typing import Any

import dns.edns
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdatatype
import pytest
import sqlalchemy as sa

from conftest import Server
from gatehouse.dns.nameserver import hosted, wirequery
from gatehouse.dns.nameserver.cache import ENTRY_OVERHEAD, ResponseCache
from gatehouse.dns.nameserver.respond import Responder
from gatehouse.dns.nameserver.zonesource import ZoneSource
from test_nameserver import (
    BIG_TXT,
    add,
    ask,
    edit,
    exchange,
    new_zone,
    parse,
    rdata,
    tcp_connect,
    tcp_read,
    unb64,
)

# Every RRset holds one record, except `big`: dnspython shuffles the records of an RRset each
# time it writes one, so only single-record answers can be compared byte for byte with a
# response made afresh.
RECORDS: list[tuple[str, str, list[str]]] = [
    ("host", "A", ["192.0.2.1"]),
    ("host", "AAAA", ["2001:db8::1"]),
    ("alias", "CNAME", ["host"]),
    ("mx-test", "MX", ["10", "mx"]),
    ("mx", "A", ["192.0.2.25"]),
    ("txt", "TXT", ["hello world"]),
    ("*.wild", "TXT", ["wildcard"]),
    ("sub", "NS", ["ns1.sub"]),
    ("ns1.sub", "A", ["192.0.2.53"]),
    ("dn", "DNAME", ["other"]),
    ("x.other", "A", ["192.0.2.9"]),
    *(("big", "TXT", [f"{i:03d}" + "x" * 97]) for i in range(BIG_TXT)),
]

# (name relative to the zone, type, make_query options): the question shapes compared.
SHAPES: list[tuple[str, str, dict[str, Any]]] = [
    ("host", "A", {}),
    ("host", "AAAA", {}),
    ("mx-test", "MX", {}),  # with the exchange's address in the additional section
    ("txt", "TXT", {}),
    ("alias", "A", {}),  # the CNAME and its target's address
    ("nope", "A", {}),  # NXDOMAIN, the SOA in authority
    ("host", "MX", {}),  # NODATA
    ("anything.wild", "TXT", {}),  # synthesized from the wildcard
    ("www.sub", "A", {}),  # a referral with its glue
    ("x.dn", "A", {}),  # DNAME: not cached, answered the same
    ("host", "A", {"use_edns": 0, "payload": 1232}),
    ("host", "A", {"use_edns": 0, "payload": 4096, "want_dnssec": True}),
    ("host", "A", {"flags": dns.flags.RD}),
    ("host", "A", {"flags": dns.flags.CD | dns.flags.AD}),
    ("big", "TXT", {}),  # too big for UDP: TC, nothing but the question
    ("big", "TXT", {"use_edns": 0, "payload": 1232}),
]


@pytest.fixture(scope="module")
def zone(server: Server) -> str:
    name = new_zone(server)
    edit(server, name, *(add(d, t, data) for d, t, data in RECORDS))
    return name


@pytest.fixture(scope="module")
def uncached(server: Server) -> Iterator[Responder]:
    """The responder in this process, on the server's store, with a cache that keeps
    nothing: every answer made afresh by dnspython's path, the reference."""
    responder = Responder(ZoneSource(sa.create_engine(server.db_url)), ResponseCache(max_entries=0))
    yield responder
    responder.close()


def query_wire(name: str, rdtype: str, ident: int, **options: Any) -> bytes:
    options.setdefault("flags", 0)
    return dns.message.make_query(name, rdtype, id=ident, **options).to_wire()


def over_tcp(server: Server, wire: bytes) -> bytes:
    with tcp_connect(server) as sock:
        sock.sendall(len(wire).to_bytes(2, "big") + wire)
        return tcp_read(sock)


def answered(server: Server, wire: bytes, *, tcp: bool) -> bytes:
    reply = over_tcp(server, wire) if tcp else exchange(server, wire, wait=5.0)
    assert reply is not None
    assert reply[:2] == wire[:2]  # the ID, echoed
    return reply


def one_record_each(reply: bytes) -> bool:
    message = dns.message.from_wire(reply)
    return all(len(r) == 1 for r in (*message.answer, *message.authority, *message.additional))


def assert_same(reply: bytes, reference: bytes) -> None:
    """Byte for byte, the ID aside; RRsets of several records in any order."""
    if one_record_each(reference):
        assert reply[2:] == reference[2:]
    else:
        assert len(reply) == len(reference)
        assert dns.message.from_wire(reply[:2] + reference[2:]) == dns.message.from_wire(reply)


def name_wire(name: str) -> bytes:
    wire = dns.name.from_text(name).to_wire()
    assert wire is not None
    return wire


def mixed_case(name: str) -> str:
    return "".join(c.lower() if i % 2 else c.upper() for i, c in enumerate(name))


# -- the same bytes as without the cache ------------------------------------------------------


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
@pytest.mark.parametrize(("relative", "rtype", "options"), SHAPES)
def test_a_cached_answer_is_the_uncached_one(
    server: Server,
    zone: str,
    uncached: Responder,
    relative: str,
    rtype: str,
    options: dict[str, Any],
    tcp: bool,
) -> None:
    name = f"{relative}.{zone}."
    first = answered(server, query_wire(name, rtype, 0x0101, **options), tcp=tcp)
    again = answered(server, query_wire(name, rtype, 0xBEEF, **options), tcp=tcp)
    if relative != "big" or not tcp:
        assert again[2:] == first[2:]
    reference = uncached.respond(query_wire(name, rtype, 0x4242, **options), tcp=tcp)
    assert reference is not None
    assert_same(again, reference)
    # Asked again with the name's case changed (as resolvers do, "0x20"): the question is
    # echoed as sent, and the rest is what a response made for that query would hold.
    odd = query_wire(mixed_case(name), rtype, 0x0202, **options)
    reply = answered(server, odd, tcp=tcp)
    end = 12 + len(name_wire(name))
    assert reply[12:end] == odd[12:end]
    reference = uncached.respond(odd, tcp=tcp)
    assert reference is not None
    assert_same(reply, reference)


def test_truncated_over_udp_then_whole_over_tcp_from_the_cache(server: Server, zone: str) -> None:
    name = f"big.{zone}."
    for _ in range(3):
        udp = dns.message.from_wire(answered(server, query_wire(name, "TXT", 7), tcp=False))
        assert udp.flags & dns.flags.TC and udp.answer == []
        tcp = dns.message.from_wire(answered(server, query_wire(name, "TXT", 8), tcp=True))
        assert not tcp.flags & dns.flags.TC and len(rdata(tcp)) == BIG_TXT


def test_edns_options_change_nothing_and_bad_ones_are_still_formerr(
    server: Server, zone: str
) -> None:
    name = f"host.{zone}."
    plain = answered(server, query_wire(name, "A", 1, use_edns=0), tcp=False)
    cookie = dns.edns.CookieOption(b"12345678", b"")
    with_cookie = query_wire(name, "A", 2, use_edns=0, options=[cookie])
    assert answered(server, with_cookie, tcp=False)[2:] == plain[2:]
    # A client cookie of 5 bytes (RFC 7873 §4 wants 8): dnspython's path makes it FORMERR.
    assert wirequery.read(with_cookie) is not None
    bad = with_cookie[:-14] + struct.pack("!HHH", 9, 10, 5) + b"12345"
    assert wirequery.read(bad) is None
    reply = answered(server, bad, tcp=False)
    assert dns.message.from_wire(reply).rcode() == dns.rcode.FORMERR


# -- changes are in the very next answer -------------------------------------------------------


def test_an_api_change_is_in_the_very_next_answer_though_the_old_one_was_cached(
    server: Server,
) -> None:
    name = new_zone(server)
    host = f"new.{name}."
    for _ in range(3):
        assert ask(server, host, "A").rcode() == dns.rcode.NXDOMAIN
        assert ask(server, host, "A", tcp=True).rcode() == dns.rcode.NXDOMAIN
    edit(server, name, add("new", "A", ["192.0.2.41"]))
    assert rdata(ask(server, host, "A")) == {"192.0.2.41"}
    assert rdata(ask(server, host, "A", tcp=True)) == {"192.0.2.41"}
    assert rdata(ask(server, mixed_case(host), "A")) == {"192.0.2.41"}
    line = next(
        i["line_index"]
        for i in parse(server, name)
        if i["type"] == "record" and unb64(i["dname_b64"]) == "new"
    )
    edit(server, name, ("edit", {"line_index": line, "dname": "new", "ttl": 60,
                                 "record_type": "A", "data": ["192.0.2.42"]}))  # fmt: skip
    response = ask(server, host, "A")
    assert rdata(response) == {"192.0.2.42"} and response.answer[0].ttl == 60
    server.ok("addzonerecord", params={"domain": name, "name": "new", "type": "A",
                                       "address": "192.0.2.43"})  # fmt: skip
    assert rdata(ask(server, host, "A")) == {"192.0.2.42", "192.0.2.43"}
    server.ok("killdns", params={"domain": name})
    assert ask(server, host, "A").rcode() == dns.rcode.REFUSED
    assert ask(server, host, "A", tcp=True).rcode() == dns.rcode.REFUSED


def test_a_refused_name_is_answered_once_its_zone_is_made(server: Server) -> None:
    name = f"later-{uuid.uuid4().hex[:10]}.example.net"
    for _ in range(3):
        assert ask(server, name, "A").rcode() == dns.rcode.REFUSED
    server.ok("adddns", params={"domain": name, "ip": "192.0.2.77"})
    assert rdata(ask(server, name, "A")) == {"192.0.2.77"}


def test_a_subzone_made_later_answers_for_its_names(server: Server) -> None:
    parent = new_zone(server)
    child = f"shop.{parent}"
    for _ in range(3):
        assert ask(server, f"www.{child}", "A").rcode() == dns.rcode.NXDOMAIN
    server.ok("adddns", params={"domain": child, "ip": "192.0.2.78"})
    assert rdata(ask(server, f"www.{child}", "A")) == {f"{child}.", "192.0.2.78"}


# -- odd and malformed queries, as before -----------------------------------------------------


def _header(ident: int, flags: int, counts: tuple[int, int, int, int]) -> bytes:
    return struct.pack("!HHHHHH", ident, flags, *counts)


def _opt(owner: bytes = b"\x00", ttl: int = 0, rdata: bytes = b"") -> bytes:
    return owner + struct.pack("!HHIH", 41, 1232, ttl, len(rdata)) + rdata


def malformed(zone: str) -> dict[str, bytes]:
    qname = name_wire(f"host.{zone}")
    question = qname + struct.pack("!HH", 1, 1)
    one = (1, 0, 0, 0)
    with_opt = (1, 0, 0, 1)
    return {
        "pointer loop": _header(0x1234, 0, one) + b"\xc0\x0c" + struct.pack("!HH", 1, 1),
        "reserved label type": _header(0x1234, 0, one) + b"\x41" + question,
        "too long a name": _header(0x1234, 0, one) + b"\x3f" + b"a" * 63 + b"\x3f" + b"b" * 63
        + b"\x3f" + b"c" * 63 + b"\x3f" + b"d" * 63 + question,
        "junk after the OPT": _header(0x1234, 0, with_opt) + question + _opt() + b"junk",
        "two OPTs": _header(0x1234, 0, (1, 0, 0, 2)) + question + _opt() + _opt(),
        "an OPT not owned by the root": _header(0x1234, 0, with_opt) + question + _opt(qname),
        "an OPT record cut short": _header(0x1234, 0, with_opt) + question + _opt()[:-3],
    }  # fmt: skip


@pytest.mark.parametrize(
    "case",
    [
        "pointer loop",
        "reserved label type",
        "too long a name",
        "junk after the OPT",
        "two OPTs",
        "an OPT not owned by the root",
        "an OPT record cut short",
    ],
)
def test_a_malformed_query_still_gets_a_bare_formerr(server: Server, zone: str, case: str) -> None:
    wire = malformed(zone)[case]
    assert wirequery.read(wire) is None  # dnspython's path, as before
    for _ in range(2):
        reply = answered(server, wire, tcp=False)
        assert reply == _header(0x1234, 0x8000 | dns.rcode.FORMERR, (0, 0, 0, 0))


def test_an_unknown_edns_version_still_gets_badvers(server: Server, zone: str) -> None:
    for _ in range(2):
        response = ask(server, zone, "SOA", use_edns=1)
        assert response.rcode() == dns.rcode.BADVERS and response.answer == []


def test_a_response_sent_to_the_server_is_still_not_answered(server: Server, zone: str) -> None:
    wire = bytearray(query_wire(f"host.{zone}.", "A", 9))
    wire[2] |= 0x80
    assert wirequery.read(bytes(wire)) is None
    assert exchange(server, bytes(wire), wait=0.5) is None


# -- in process: the reader, the cache class and its bounds -----------------------------------


def test_the_reader_takes_only_the_plain_shape() -> None:
    plain = query_wire("Host.Example.COM.", "A", 5, use_edns=0, payload=4096, want_dnssec=True)
    question = wirequery.read(plain)
    assert question is not None
    assert question.labels == (b"Host", b"Example", b"COM")
    assert question.qtype == dns.rdatatype.A and question.payload == 4096
    assert question.edns == dns.flags.DO
    key = question.key(7, 1232)
    assert key == (7, b"\x04host\x07example\x03com\x00", 1, 0, dns.flags.DO, 1232)
    for rdtype in ("AXFR", "IXFR", "OPT", "TSIG", "MAILA"):
        assert wirequery.read(query_wire("example.com.", rdtype, 5)) is None
    assert wirequery.read(query_wire("example.com.", "ANY", 5)) is not None
    notify = dns.message.make_query("example.com.", "SOA")
    notify.set_opcode(dns.opcode.NOTIFY)
    assert wirequery.read(notify.to_wire()) is None
    chaos = dns.message.make_query("version.bind.", "TXT", "CH").to_wire()
    assert wirequery.read(chaos) is None
    assert wirequery.read(query_wire(".", "NS", 5)) is None
    assert wirequery.read(query_wire("example.com.", "A", 5, use_edns=1)) is None


def test_the_patch_gives_the_id_and_the_name_as_sent() -> None:
    made = dns.message.make_response(dns.message.make_query("host.example.com.", "A", id=1))
    cached = made.to_wire()
    question = wirequery.read(query_wire("HoSt.ExAmPlE.cOm.", "A", 0xABCD))
    assert question is not None
    patched = question.patch(cached)
    assert patched[:2] == b"\xab\xcd" and patched[2:12] == cached[2:12]
    assert dns.message.from_wire(patched).question[0].name.labels[0] == b"HoSt"


def test_the_cache_is_bounded_in_entries_least_recently_used_out() -> None:
    cache = ResponseCache(max_entries=3, max_bytes=1 << 20)
    keys = [(1, bytes([n]), 1, 0, -1, 512) for n in range(5)]
    for key in keys[:3]:
        cache.put(key, b"r" * 10)
    assert cache.get(keys[0]) is not None  # now the most recent
    cache.put(keys[3], b"r" * 10)
    assert len(cache) == 3
    assert cache.get(keys[1]) is None and cache.get(keys[0]) is not None
    for n in range(1000):
        cache.put((2, n.to_bytes(2, "big"), 1, 0, -1, 512), b"x")
    assert len(cache) == 3


def test_the_cache_is_bounded_in_bytes() -> None:
    entry = ENTRY_OVERHEAD + 1000 + 1
    cache = ResponseCache(max_entries=1000, max_bytes=entry * 4)
    for n in range(100):
        cache.put((1, bytes([n]), 1, 0, -1, 65535), b"r" * 1000)
        assert cache.bytes <= entry * 4
    assert len(cache) == 4
    cache.put((1, b"huge", 1, 0, -1, 65535), b"r" * (entry * 4))  # larger than the bound
    assert cache.get((1, b"huge", 1, 0, -1, 65535)) is None and len(cache) == 4
    cache.put((1, bytes([99]), 1, 0, -1, 65535), b"s" * 10)  # replaced: counted once
    assert cache.bytes == entry * 3 + ENTRY_OVERHEAD + 10 + 1
    cache.clear()
    assert len(cache) == 0 and cache.bytes == 0


class _OneZone:
    """Zones holding one zone, whose object the test replaces as the store would."""

    def __init__(self, text: str) -> None:
        self.zone = hosted.parse("example.com", text)
        self.finds = 0

    def find(self, qname: dns.name.Name, *, parent_side: bool = False) -> hosted.HostedZone | None:
        raise AssertionError("the plain queries here never need it")

    def find_names(self, names: list[str], *, parent_side: bool = False) -> hosted.HostedZone:
        self.finds += 1
        return self.zone

    batches = False

    def prefetch(self, asked: list[list[str]]) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def close(self) -> None:
        pass


TEXT = """$TTL 300
@ IN SOA ns1.example.com. admin.example.com. {serial} 3600 600 86400 300
@ IN NS ns1.example.com.
ns1 IN A 192.0.2.1
www IN A {address}
"""


def test_the_cache_never_answers_from_another_version_of_the_zone() -> None:
    zones = _OneZone(TEXT.format(serial=1, address="192.0.2.10"))
    cache = ResponseCache()
    responder = Responder(zones, cache)
    wire = query_wire("www.example.com.", "A", 1)

    def address() -> set[str]:
        reply = responder.respond(wire, tcp=False)
        assert reply is not None
        return rdata(dns.message.from_wire(reply))

    assert address() == {"192.0.2.10"} and len(cache) == 1
    assert address() == {"192.0.2.10"} and len(cache) == 1  # a hit
    zones.zone = hosted.parse("example.com", TEXT.format(serial=2, address="192.0.2.11"))
    assert address() == {"192.0.2.11"} and len(cache) == 2
    assert zones.finds == 3  # the store is asked on every question, hit or not
