"""The built-in authoritative nameserver (`gatehouse serve --dns-port N`, docs/nameserver.md),
against the real server on every backend: zones edited over WHM API 1, answers read over UDP
and TCP with dnspython's client and with `dig`. All traffic stays on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.query
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.resolver
import dns.rrset
import dns.tsigkeyring
import dns.zone
import httpx
import pytest

from conftest import Server, another_node
from gatehouse.dns import template
from gatehouse.dns.nameserver import hosted, zonesource
from gatehouse.dns.nameserver.answer import Answer, resolve
from gatehouse.dns.nameserver.server import IDLE_TIMEOUT
from zone_helpers import unstamped

LOCAL = "127.0.0.1"
TIMEOUT = 5.0
BIG_TXT = 40  # records of 100 characters each: about 4.5 KB, far beyond any UDP limit

# The test zone's records, added through mass_edit_dns_zone (dname, type, data).
RECORDS: list[tuple[str, str, list[str]]] = [
    ("host", "A", ["192.0.2.1"]),
    ("host", "AAAA", ["2001:db8::1"]),
    ("alias", "CNAME", ["host"]),
    ("mx-test", "MX", ["10", "mx"]),
    ("mx", "A", ["192.0.2.25"]),
    ("txt", "TXT", ["hello world"]),
    ("_sip._tcp", "SRV", ["10", "20", "5060", "host"]),
    ("@", "CAA", ["0", "issue", "letsencrypt.org"]),
    ("ptr", "PTR", ["host"]),
    ("hinfo", "HINFO", ["PC", "Linux"]),
    ("chain1", "CNAME", ["chain2"]),
    ("chain2", "CNAME", ["chain3"]),
    ("chain3", "CNAME", ["host"]),
    ("loop1", "CNAME", ["loop2"]),
    ("loop2", "CNAME", ["loop1"]),
    ("out", "CNAME", ["www.example.org."]),
    ("dangling", "CNAME", ["missing"]),
    ("deep.a.b", "A", ["192.0.2.30"]),  # a.b and b are empty non-terminals
    ("*.wild", "TXT", ["wildcard"]),
    ("exists.wild", "A", ["192.0.2.7"]),
    ("x.ent.wild", "A", ["192.0.2.8"]),  # ent.wild is an empty non-terminal
    ("sub", "NS", ["ns1.sub"]),
    ("sub", "NS", ["ns.example.org."]),
    ("ns1.sub", "A", ["192.0.2.53"]),
    ("dn", "DNAME", ["other"]),
    ("x.other", "A", ["192.0.2.9"]),
    *(("big", "TXT", [f"{i:03d}" + "x" * 97]) for i in range(BIG_TXT)),
    *(("mid", "TXT", [f"{i:02d}" + "m" * 48]) for i in range(5)),  # about 350 bytes
    *(("grow", "TXT", [f"{i:02d}" + "g" * 48]) for i in range(30)),  # about 1.8 KB
]


# -- helpers ------------------------------------------------------------------------------------


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def unb64(text: str) -> str:
    return base64.b64decode(text).decode()


def new_zone(server: Server) -> str:
    name = f"ns-{uuid.uuid4().hex[:10]}.example.net"
    server.ok("adddns", params={"domain": name, "ip": "192.0.2.10"})
    return name


def parse(server: Server, zone: str) -> list[dict[str, Any]]:
    return list(server.ok("parse_dns_zone", params={"zone": zone})["payload"])


def soa_item(payload: list[dict[str, Any]]) -> dict[str, Any]:
    return next(i for i in payload if i["type"] == "record" and i["record_type"] == "SOA")


def serial_of(server: Server, zone: str) -> str:
    return unb64(soa_item(parse(server, zone))["data_b64"][2])


def edit(server: Server, zone: str, *ops: tuple[str, Any]) -> str:
    """One mass_edit_dns_zone at the zone's current serial; returns the new serial."""
    query = [("zone", zone), ("serial", serial_of(server, zone))]
    query += [(op, v if isinstance(v, str) else json.dumps(v)) for op, v in ops]
    return str(server.ok("mass_edit_dns_zone", params=query)["new_serial"])


def add(dname: str, rtype: str, data: list[str], ttl: int = 300) -> tuple[str, Any]:
    return ("add", {"dname": dname, "ttl": ttl, "record_type": rtype, "data": data})


def post(server: Server, function: str, params: list[tuple[str, str]]) -> Any:
    """A WHM API 1 call with its parameters POSTed as a form (too many for a URL)."""
    response = httpx.post(
        f"{server.url}/json-api/{function}?api.version=1",
        content=urlencode(params).encode(),
        headers={
            "Authorization": f"whm root:{server.root_token}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        timeout=120,
    )
    body = response.json()
    assert response.status_code == 200, response.text
    assert body["metadata"]["result"] == 1, body["metadata"]["reason"]
    return body.get("data")


def fqdn(relative: str, zone: str) -> str:
    return f"{zone}." if relative == "@" else f"{relative}.{zone}."


def ask(
    server: Server, name: str, rdtype: str = "A", *, tcp: bool = False, **options: Any
) -> dns.message.Message:
    """One question, as a resolver asks an authoritative server (no RD), over UDP or TCP."""
    options.setdefault("flags", 0)
    query = dns.message.make_query(name, rdtype, **options)
    if tcp:
        return dns.query.tcp(query, LOCAL, port=server.dns_port, timeout=TIMEOUT)
    return dns.query.udp(query, LOCAL, port=server.dns_port, timeout=TIMEOUT)


def rdata(response: dns.message.Message) -> set[str]:
    """The answer section's rdata, as text."""
    return {rd.to_text() for rrset in response.answer for rd in rrset}


def chain(response: dns.message.Message) -> list[tuple[str, str, str]]:
    return [
        (rrset.name.to_text(), dns.rdatatype.to_text(rrset.rdtype), rd.to_text())
        for rrset in response.answer
        for rd in rrset
    ]


def negative_soa(response: dns.message.Message, zone: str) -> dns.rrset.RRset:
    """The authority section holds exactly the zone's SOA (RFC 2308)."""
    soas = [r for r in response.authority if r.rdtype == dns.rdatatype.SOA]
    assert len(soas) == 1 and len(response.authority) == 1, response
    assert soas[0].name == dns.name.from_text(zone)
    return soas[0]


def exchange(server: Server, wire: bytes, *, wait: float = 1.5) -> bytes | None:
    """Raw UDP: the bytes back, or None if nothing came within `wait` seconds."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(wait)
        sock.sendto(wire, (LOCAL, server.dns_port))
        try:
            return sock.recv(65535)
        except TimeoutError:
            return None


def tcp_connect(server: Server) -> socket.socket:
    return socket.create_connection((LOCAL, server.dns_port), timeout=TIMEOUT)


def tcp_read(sock: socket.socket) -> bytes:
    def exactly(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    length = int.from_bytes(exactly(2), "big")
    return exactly(length)


def dig(server: Server, *args: str) -> str:
    """`dig` (bind9-dnsutils) against the server; skipped if missing, except in CI."""
    path = shutil.which("dig")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs dig (Debian bind9-dnsutils)")
        pytest.skip("dig is not installed (Debian bind9-dnsutils)")
    result = subprocess.run(
        [path, f"@{LOCAL}", "-p", str(server.dns_port), "+norec", "+time=3", "+tries=1", *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return result.stdout + result.stderr


def dig_status(output: str) -> str:
    match = re.search(r"status: ([A-Z]+)", output)
    assert match, output
    return match.group(1)


def resolver(server: Server) -> dns.resolver.Resolver:
    res = dns.resolver.Resolver(configure=False)
    res.nameservers = [LOCAL]
    res.port = server.dns_port
    res.lifetime = TIMEOUT
    res.flags = 0
    return res


@pytest.fixture(scope="module")
def zone(server: Server) -> str:
    """A zone holding every kind of record the tests ask for (RECORDS)."""
    name = new_zone(server)
    # `@` is no owner a mass edit takes (cPanel's LineEdit): the apex goes in absolute.
    edit(server, name, *(add(fqdn(d, name) if d == "@" else d, t, data) for d, t, data in RECORDS))
    return name


# -- answers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "rtype", "expected"),
    [
        ("host", "A", {"192.0.2.1"}),
        ("host", "AAAA", {"2001:db8::1"}),
        ("alias", "CNAME", {"host.{z}."}),
        ("mx-test", "MX", {"10 mx.{z}."}),
        ("txt", "TXT", {'"hello world"'}),
        ("_sip._tcp", "SRV", {"10 20 5060 host.{z}."}),
        ("@", "CAA", {'0 issue "letsencrypt.org"'}),
        ("ptr", "PTR", {"host.{z}."}),
        ("hinfo", "HINFO", {'"PC" "Linux"'}),
        ("dn", "DNAME", {"other.{z}."}),
        ("@", "A", {"192.0.2.10"}),  # the template's
        ("ftp", "A", {"192.0.2.10"}),
    ],
)
def test_each_record_type_is_answered_authoritatively(
    server: Server, zone: str, name: str, rtype: str, expected: set[str]
) -> None:
    want = {e.replace("{z}", zone) for e in expected}
    for tcp in (False, True):
        response = ask(server, fqdn(name, zone), rtype, tcp=tcp)
        assert response.rcode() == dns.rcode.NOERROR
        assert response.flags & dns.flags.AA
        assert rdata(response) == want
        assert [r.name for r in response.answer] == [dns.name.from_text(fqdn(name, zone))]
    assert set(dig(server, "+short", fqdn(name, zone), rtype).splitlines()) == want


def test_apex_ns_and_soa_are_the_zones_as_the_api_reads_it(server: Server, zone: str) -> None:
    payload = parse(server, zone)
    ns = {
        unb64(i["data_b64"][0])
        for i in payload
        if i["type"] == "record"
        and i["record_type"] == "NS"
        and unb64(i["dname_b64"]) in (f"{zone}.", "@")
    }
    assert ns and rdata(ask(server, zone, "NS")) == ns
    soa = ask(server, zone, "SOA")
    assert soa.flags & dns.flags.AA
    (record,) = soa.answer[0]
    assert str(record.serial) == unb64(soa_item(payload)["data_b64"][2])
    assert soa.answer[0].ttl == soa_item(payload)["ttl"]


def test_names_are_case_insensitive_and_the_question_is_echoed_as_asked(
    server: Server, zone: str
) -> None:
    asked = f"HoSt.{zone.upper()}."
    response = ask(server, asked, "A")
    assert response.question[0].name.to_text() == asked
    assert rdata(response) == {"192.0.2.1"}
    assert response.flags & dns.flags.AA


def test_additional_section_has_the_addresses_of_mx_and_srv_targets(
    server: Server, zone: str
) -> None:
    mx = ask(server, fqdn("mx-test", zone), "MX")
    assert [(r.name.to_text(), rd.to_text()) for r in mx.additional for rd in r] == [
        (f"mx.{zone}.", "192.0.2.25")
    ]
    srv = ask(server, fqdn("_sip._tcp", zone), "SRV")
    assert {rd.to_text() for r in srv.additional for rd in r} == {"192.0.2.1", "2001:db8::1"}


def test_any_gets_one_rrset_rfc_8482(server: Server, zone: str) -> None:
    response = ask(server, fqdn("host", zone), "ANY")
    assert response.rcode() == dns.rcode.NOERROR and response.flags & dns.flags.AA
    assert [dns.rdatatype.to_text(r.rdtype) for r in response.answer] == ["A"]


# -- negative answers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "rtype", "rcode"),
    [
        ("nothere", "A", dns.rcode.NXDOMAIN),
        ("below.nothere", "TXT", dns.rcode.NXDOMAIN),
        ("host", "MX", dns.rcode.NOERROR),  # NODATA: the name has other types
        ("a.b", "A", dns.rcode.NOERROR),  # NODATA: an empty non-terminal
        ("b", "A", dns.rcode.NOERROR),
        ("_tcp", "SRV", dns.rcode.NOERROR),
        ("y.a.b", "A", dns.rcode.NXDOMAIN),
    ],
)
def test_nxdomain_and_nodata_carry_the_soa(
    server: Server, zone: str, name: str, rtype: str, rcode: dns.rcode.Rcode
) -> None:
    response = ask(server, fqdn(name, zone), rtype)
    assert response.rcode() == rcode
    assert response.flags & dns.flags.AA
    assert response.answer == []
    soa = negative_soa(response, zone)
    assert soa.ttl == 86400  # the template's SOA: TTL 86400, minimum 86400
    expected = "NXDOMAIN" if rcode == dns.rcode.NXDOMAIN else "NOERROR"
    output = dig(server, fqdn(name, zone), rtype)
    assert dig_status(output) == expected
    assert "flags: qr aa;" in output


@pytest.mark.parametrize(
    ("soa_ttl", "minimum", "negative_ttl"),
    [(86400, 300, 300), (120, 3600, 120), (600, 600, 600)],
)
def test_negative_ttl_is_the_smaller_of_soa_ttl_and_minimum(
    server: Server, soa_ttl: int, minimum: int, negative_ttl: int
) -> None:
    # The API keeps the SOA to itself, so this SOA is written to the store directly.
    name = new_zone(server)
    ((text, serial),) = server.sql("SELECT text, serial FROM zones WHERE name = :n", n=name)
    lines = [
        f"{name}.\t{soa_ttl}\tIN\tSOA\tns1.{name}. hostmaster.{name}. {serial + 1} "
        f"3600 1800 1209600 {minimum}"
        if "\tSOA\t" in line
        else line
        for line in text.split("\n")
    ]
    server.sql(
        "UPDATE zones SET text = :t, serial = :s WHERE name = :n",
        t="\n".join(lines),
        s=serial + 1,
        n=name,
    )
    for rtype, rcode in (("A", dns.rcode.NXDOMAIN), ("TXT", dns.rcode.NOERROR)):
        response = ask(server, f"nope.{name}" if rcode else name, rtype)
        assert response.rcode() == rcode
        assert negative_soa(response, name).ttl == negative_ttl
    assert ask(server, name, "SOA").answer[0].ttl == soa_ttl


# -- what is not ours ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["example.org.", "www.example.org.", "example.net.", "net.", ".", "nosuch.test."]
)
def test_names_outside_the_hosted_zones_are_refused(server: Server, zone: str, name: str) -> None:
    response = ask(server, name, "A")
    assert response.rcode() == dns.rcode.REFUSED
    assert not response.flags & dns.flags.AA
    assert response.answer == response.authority == []
    assert dig_status(dig(server, name, "A")) == "REFUSED"


def test_other_classes_are_refused(server: Server, zone: str) -> None:
    for name, rdclass in ((zone, "CH"), ("version.bind", "CH"), (zone, "HS")):
        response = ask(server, name, "TXT", rdclass=rdclass)
        assert response.rcode() == dns.rcode.REFUSED, (name, rdclass)


@pytest.mark.parametrize("rtype", ["AXFR", "IXFR"])
def test_zone_transfers_are_refused(server: Server, zone: str, rtype: str) -> None:
    response = ask(server, zone, rtype, tcp=True)
    assert response.rcode() == dns.rcode.REFUSED
    assert response.answer == []
    if rtype == "AXFR":
        output = dig(server, zone, "AXFR")
        assert "Transfer failed" in output and "SOA" not in output


@pytest.mark.parametrize(
    "opcode", [dns.opcode.NOTIFY, dns.opcode.UPDATE, dns.opcode.STATUS, dns.opcode.IQUERY]
)
def test_other_opcodes_are_not_implemented(
    server: Server, zone: str, opcode: dns.opcode.Opcode
) -> None:
    query = dns.message.make_query(zone, "SOA", flags=0)
    query.set_opcode(opcode)
    reply = exchange(server, query.to_wire())
    assert reply is not None
    response = dns.message.from_wire(reply)
    assert response.id == query.id and response.opcode() == opcode
    assert response.rcode() == dns.rcode.NOTIMP


def test_opt_as_a_query_type_is_a_format_error(server: Server, zone: str) -> None:
    assert ask(server, zone, "OPT").rcode() == dns.rcode.FORMERR


def test_a_tsig_signed_query_gets_notauth(server: Server, zone: str) -> None:
    query = dns.message.make_query(zone, "SOA", flags=0)
    query.use_tsig(
        dns.tsigkeyring.from_text({"unknown-key.": base64.b64encode(b"k" * 32).decode()})
    )
    reply = exchange(server, query.to_wire())
    assert reply is not None
    response = dns.message.from_wire(reply)
    assert response.id == query.id and response.rcode() == dns.rcode.NOTAUTH
    assert response.answer == []


@pytest.mark.parametrize("rtype", ["MAILA", "MAILB", "TSIG", "TKEY"])
def test_meta_query_types_are_not_implemented(server: Server, zone: str, rtype: str) -> None:
    assert ask(server, zone, rtype).rcode() == dns.rcode.NOTIMP


# -- wildcards, CNAMEs, DNAMEs, delegations ----------------------------------------------------


@pytest.mark.parametrize(
    ("name", "rtype", "rcode", "answer"),
    [
        ("anything.wild", "TXT", dns.rcode.NOERROR, {'"wildcard"'}),
        ("two.labels.wild", "TXT", dns.rcode.NOERROR, {'"wildcard"'}),
        ("*.wild", "TXT", dns.rcode.NOERROR, {'"wildcard"'}),
        ("anything.wild", "A", dns.rcode.NOERROR, set()),  # the wildcard has no A: NODATA
        ("exists.wild", "TXT", dns.rcode.NOERROR, set()),  # an existing name blocks it
        ("exists.wild", "A", dns.rcode.NOERROR, {"192.0.2.7"}),
        ("ent.wild", "TXT", dns.rcode.NOERROR, set()),  # so does an empty non-terminal
        ("y.ent.wild", "TXT", dns.rcode.NXDOMAIN, set()),  # ent.wild has no `*` child
        ("wild", "TXT", dns.rcode.NOERROR, set()),  # the wildcard's parent is no match
    ],
)
def test_wildcards_rfc_4592(
    server: Server, zone: str, name: str, rtype: str, rcode: dns.rcode.Rcode, answer: set[str]
) -> None:
    response = ask(server, fqdn(name, zone), rtype)
    assert response.rcode() == rcode
    assert response.flags & dns.flags.AA
    assert rdata(response) == answer
    if answer:
        # The owner is the name asked, not `*`.
        assert [r.name for r in response.answer] == [dns.name.from_text(fqdn(name, zone))]
    else:
        negative_soa(response, zone)


@pytest.mark.parametrize(
    ("name", "rtype", "rcode", "expected", "soa"),
    [
        (
            "chain1",
            "A",
            dns.rcode.NOERROR,
            [
                ("chain1", "CNAME", "chain2"),
                ("chain2", "CNAME", "chain3"),
                ("chain3", "CNAME", "host"),
                ("host", "A", "192.0.2.1"),
            ],
            False,
        ),
        (
            "alias",
            "AAAA",
            dns.rcode.NOERROR,
            [("alias", "CNAME", "host"), ("host", "AAAA", "2001:db8::1")],
            False,
        ),
        ("alias", "CNAME", dns.rcode.NOERROR, [("alias", "CNAME", "host")], False),
        (
            "loop1",
            "A",
            dns.rcode.NOERROR,
            [("loop1", "CNAME", "loop2"), ("loop2", "CNAME", "loop1")],
            False,
        ),
        ("out", "A", dns.rcode.NOERROR, [("out", "CNAME", "www.example.org.")], False),
        ("dangling", "A", dns.rcode.NXDOMAIN, [("dangling", "CNAME", "missing")], True),  # RFC 6604
        ("alias", "MX", dns.rcode.NOERROR, [("alias", "CNAME", "host")], True),  # then NODATA
        (
            "x.dn",
            "A",
            dns.rcode.NOERROR,
            [("dn", "DNAME", "other"), ("x.dn", "CNAME", "x.other"), ("x.other", "A", "192.0.2.9")],
            False,
        ),
    ],
)
def test_cname_and_dname_chains_are_followed_inside_the_zone(
    server: Server,
    zone: str,
    name: str,
    rtype: str,
    rcode: dns.rcode.Rcode,
    expected: list[tuple[str, str, str]],
    soa: bool,
) -> None:
    def absolute(value: str) -> str:
        return value if value.endswith(".") or value[0].isdigit() else fqdn(value, zone)

    response = ask(server, fqdn(name, zone), rtype)
    assert response.rcode() == rcode
    assert response.flags & dns.flags.AA
    assert chain(response) == [(absolute(n), t, absolute(v)) for n, t, v in expected]
    if soa:
        negative_soa(response, zone)
    else:
        assert response.authority == []


def test_resolvers_follow_the_chain(server: Server, zone: str) -> None:
    answer = resolver(server).resolve(fqdn("chain1", zone), "A")
    assert answer.canonical_name == dns.name.from_text(fqdn("host", zone))
    assert [rd.to_text() for rd in answer] == ["192.0.2.1"]
    output = dig(server, "+short", fqdn("chain1", zone), "A")
    assert output.split() == [f"chain2.{zone}.", f"chain3.{zone}.", f"host.{zone}.", "192.0.2.1"]


@pytest.mark.parametrize(("name", "rtype"), [("sub", "NS"), ("x.sub", "A"), ("a.b.sub", "TXT"),
                                             ("sub", "A"), ("ns1.sub", "A")])  # fmt: skip
def test_delegations_get_a_referral_with_glue(
    server: Server, zone: str, name: str, rtype: str
) -> None:
    response = ask(server, fqdn(name, zone), rtype)
    assert response.rcode() == dns.rcode.NOERROR
    assert not response.flags & dns.flags.AA
    assert response.answer == []
    assert [(r.name.to_text(), dns.rdatatype.to_text(r.rdtype)) for r in response.authority] == [
        (f"sub.{zone}.", "NS")
    ]
    assert {rd.to_text() for r in response.authority for rd in r} == {
        f"ns1.sub.{zone}.",
        "ns.example.org.",
    }
    assert [(r.name.to_text(), rd.to_text()) for r in response.additional for rd in r] == [
        (f"ns1.sub.{zone}.", "192.0.2.53")
    ]


# -- changes through WHM API 1 ------------------------------------------------------------------


def test_a_change_through_the_api_is_in_the_very_next_answer(server: Server) -> None:
    name = new_zone(server)
    host = f"new.{name}."
    assert ask(server, host, "A").rcode() == dns.rcode.NXDOMAIN
    edit(server, name, add("new", "A", ["192.0.2.41"]))
    assert rdata(ask(server, host, "A")) == {"192.0.2.41"}
    line = next(
        i["line_index"]
        for i in parse(server, name)
        if i["type"] == "record" and unb64(i["dname_b64"]) == "new"
    )
    edit(server, name, ("edit", {"line_index": line, "dname": "new", "ttl": 60,
                                 "record_type": "A", "data": ["192.0.2.42"]}))  # fmt: skip
    response = ask(server, host, "A", tcp=True)
    assert rdata(response) == {"192.0.2.42"} and response.answer[0].ttl == 60
    edit(server, name, ("remove", str(line)))
    assert ask(server, host, "A").rcode() == dns.rcode.NXDOMAIN
    assert dig_status(dig(server, host, "A")) == "NXDOMAIN"


def test_the_one_record_functions_are_seen_too(server: Server) -> None:
    name = new_zone(server)
    server.ok("addzonerecord", params={"domain": name, "name": "legacy", "type": "TXT",
                                       "txtdata": "v1", "ttl": "60"})  # fmt: skip
    assert rdata(ask(server, f"legacy.{name}", "TXT")) == {'"v1"'}
    records = server.ok("dumpzone", params={"domain": name})["zone"][0]["record"]
    line = next(r["Line"] for r in records if r.get("name") == f"legacy.{name}.")
    server.ok("removezonerecord", params={"zone": name, "line": line})
    assert ask(server, f"legacy.{name}", "TXT").rcode() == dns.rcode.NXDOMAIN


def test_soa_serial_follows_every_change(server: Server) -> None:
    name = new_zone(server)
    for n in range(3):
        new_serial = edit(server, name, add(f"s{n}", "TXT", [str(n)]))
        (record,) = ask(server, name, "SOA").answer[0]
        assert str(record.serial) == new_serial


def test_a_killed_zone_is_refused(server: Server) -> None:
    name = new_zone(server)
    assert ask(server, name, "A").rcode() == dns.rcode.NOERROR
    server.ok("killdns", params={"domain": name})
    assert ask(server, name, "A").rcode() == dns.rcode.REFUSED
    assert ask(server, f"www.{name}", "A", tcp=True).rcode() == dns.rcode.REFUSED


def test_a_zone_removed_and_made_again_at_once_answers_with_its_new_data(
    server: Server,
) -> None:
    # Same name, same first serial, same second, and on SQLite perhaps the same row id: only
    # the text tells the two zones apart.
    name = f"again-{uuid.uuid4().hex[:10]}.example.net"
    for ip in ("192.0.2.101", "192.0.2.102", "192.0.2.103"):
        server.ok("adddns", params={"domain": name, "ip": ip})
        assert rdata(ask(server, name, "A")) == {ip}
        server.ok("killdns", params={"domain": name})
        assert ask(server, name, "A").rcode() == dns.rcode.REFUSED


def test_the_nameserver_reconnects_after_losing_its_database_connection(server: Server) -> None:
    # As after a PostgreSQL restart: the nameserver's own connection is ended under it. The
    # question that finds it broken may get SERVFAIL; the next one answers, change included.
    if server.backend != "postgresql":
        pytest.skip("PostgreSQL only: a SQLite connection cannot be ended from outside")
    name = new_zone(server)
    assert rdata(ask(server, name, "A")) == {"192.0.2.10"}  # its connection is open
    mine = " FROM pg_stat_activity WHERE application_name = :app AND datname = current_database()"
    app = zonesource.APPLICATION_NAME
    assert server.sql("SELECT pg_terminate_backend(pid)" + mine, app=app) == [(True,)]
    deadline = time.monotonic() + TIMEOUT
    while server.sql("SELECT pid" + mine, app=app) and time.monotonic() < deadline:
        time.sleep(0.05)  # the backend has been told to end; wait until it has
    edit(server, name, add("after", "A", ["192.0.2.43"]))
    first = ask(server, f"after.{name}", "A")
    assert first.rcode() in (dns.rcode.NOERROR, dns.rcode.SERVFAIL)
    for _ in range(3):
        response = ask(server, f"after.{name}", "A")
        assert response.rcode() == dns.rcode.NOERROR
        assert rdata(response) == {"192.0.2.43"}
    assert rdata(ask(server, name, "A", tcp=True)) == {"192.0.2.10"}


def test_a_hosted_subzone_answers_for_its_names_not_its_parent(server: Server) -> None:
    parent = new_zone(server)
    child = f"child.{parent}"
    edit(server, parent, add("child", "NS", ["ns.example.org."]))
    assert not ask(server, f"www.{child}", "A").flags & dns.flags.AA  # a referral
    server.ok("adddns", params={"domain": child, "ip": "192.0.2.77"})
    response = ask(server, f"www.{child}", "A")
    assert response.flags & dns.flags.AA
    assert rdata(response) == {child + ".", "192.0.2.77"}


def test_dns01_round_trip_through_whm_api_1(server: Server) -> None:
    """Read with parse_dns_zone, add the TXT with mass_edit_dns_zone (serial from the SOA's
    data_b64[2]), resolve it here, remove it by line_index with the new serial: the zone is
    byte for byte as it was, serial aside, and the TXT no longer resolves."""
    user, _password = server.account()
    name = f"{user}.example.com"
    before = parse(server, name)
    dump_before = server.ok("dumpzone", params={"domain": name})
    serial = unb64(soa_item(before)["data_b64"][2])
    challenge = f"_acme-challenge.{name}."
    value = secrets.token_urlsafe(32)
    added = server.ok("mass_edit_dns_zone", params=[
        ("zone", name), ("serial", serial),
        ("add", json.dumps({"dname": challenge, "ttl": 60, "record_type": "TXT", "data": [value]})),
    ])["new_serial"]  # fmt: skip
    answer = resolver(server).resolve(challenge, "TXT")
    assert [b"".join(rd.strings).decode() for rd in answer] == [value]
    assert dig(server, "+short", challenge, "TXT").strip() == f'"{value}"'
    # Written relative under the zone, and so read back (Cpanel::ZoneFile::Parse, LineEdit).
    line = next(
        i["line_index"]
        for i in parse(server, name)
        if i["type"] == "record" and unb64(i["dname_b64"]) == "_acme-challenge"
    )
    removed = server.ok(
        "mass_edit_dns_zone",
        params=[("zone", name), ("serial", added), ("remove", str(line))],
    )["new_serial"]
    assert int(removed) > int(added) > int(serial)
    with pytest.raises(dns.resolver.NXDOMAIN):
        resolver(server).resolve(challenge, "TXT")

    def masked(payload: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = json.loads(json.dumps(payload))
        soa_item(out)["data_b64"][2] = "SERIAL"
        version = base64.b64decode(out[0]["text_b64"]).decode()  # renewed by every save
        out[0]["text_b64"] = unstamped(version)
        return out

    def masked_dump(dump: Any) -> Any:
        out = json.loads(json.dumps(dump))
        for record in out["zone"][0]["record"]:
            if record.get("type") == "SOA":
                record["serial"] = "SERIAL"
                record.pop("raw", None)
            elif record.get("type") == ":RAW":
                record["raw"] = unstamped(record["raw"])
        return out

    assert masked(parse(server, name)) == masked(before)
    assert masked_dump(server.ok("dumpzone", params={"domain": name})) == masked_dump(dump_before)
    (soa,) = ask(server, name, "SOA").answer[0]
    assert str(soa.serial) == removed


def test_a_zone_whose_text_does_not_load_gets_servfail_and_the_rest_still_answers(
    server: Server, zone: str
) -> None:
    # Only a write that bypasses zones.save can store such a text: done here directly.
    name = new_zone(server)
    ((text, serial),) = server.sql("SELECT text, serial FROM zones WHERE name = :n", n=name)
    server.sql(
        "UPDATE zones SET text = :t, serial = :s WHERE name = :n",
        t="this is not a zone file\n",
        s=serial + 1,
        n=name,
    )
    assert ask(server, name, "A").rcode() == dns.rcode.SERVFAIL
    assert ask(server, f"www.{name}", "A", tcp=True).rcode() == dns.rcode.SERVFAIL
    assert rdata(ask(server, fqdn("host", zone), "A")) == {"192.0.2.1"}
    server.sql(
        "UPDATE zones SET text = :t, serial = :s WHERE name = :n", t=text, s=serial + 2, n=name
    )
    assert ask(server, name, "A").rcode() == dns.rcode.NOERROR


# -- sizes, EDNS and TCP ------------------------------------------------------------------------


def test_an_answer_too_big_for_udp_is_truncated_and_complete_over_tcp(
    server: Server, zone: str
) -> None:
    big = fqdn("big", zone)
    variants: tuple[dict[str, Any], ...] = ({}, {"use_edns": 0, "payload": 4096})
    for options in variants:
        udp = ask(server, big, "TXT", **options)
        assert udp.flags & dns.flags.TC
        assert udp.question[0].name == dns.name.from_text(big)
        assert udp.answer == []
        assert len(udp.to_wire()) <= (1232 if options else 512)
    tcp = ask(server, big, "TXT", tcp=True)
    assert not tcp.flags & dns.flags.TC
    assert len(rdata(tcp)) == BIG_TXT
    assert tcp.flags & dns.flags.AA


def test_dig_retries_over_tcp_by_itself(server: Server, zone: str) -> None:
    output = dig(server, fqdn("big", zone), "TXT")
    assert "Truncated, retrying in TCP mode" in output
    assert dig_status(output) == "NOERROR"
    assert f"ANSWER: {BIG_TXT}," in output
    assert len(re.findall(r"\tTXT\t\"\d{3}x+\"", output)) == BIG_TXT


@pytest.mark.parametrize(
    ("payload", "limit"), [(None, 512), (100, 512), (512, 512), (1232, 1232), (4096, 1232)]
)
def test_the_udp_size_limit_follows_edns(
    server: Server, zone: str, payload: int | None, limit: int
) -> None:
    """The client's advertised size, at least 512 and at most 1232; 512 without EDNS."""
    options: dict[str, Any] = {} if payload is None else {"use_edns": 0, "payload": payload}
    assert len(ask(server, fqdn("grow", zone), "TXT", tcp=True).to_wire()) > 1232
    response = ask(server, fqdn("grow", zone), "TXT", **options)
    assert len(response.to_wire()) <= limit and response.flags & dns.flags.TC
    if payload is None:
        assert response.edns == -1
    else:
        assert response.edns == 0 and response.payload == 1232
    # An answer of about 350 bytes fits every limit, so it comes whole.
    mid = ask(server, fqdn("mid", zone), "TXT", **options)
    assert 300 < len(mid.to_wire()) <= 512
    assert not mid.flags & dns.flags.TC and len(rdata(mid)) == 5


def test_edns_is_answered_with_edns_version_0(server: Server, zone: str) -> None:
    plain = ask(server, zone, "SOA")
    assert plain.edns == -1 and plain.opt is None
    with_edns = ask(server, zone, "SOA", use_edns=0, payload=4096, want_dnssec=True)
    assert with_edns.edns == 0 and with_edns.payload == 1232
    assert not with_edns.ednsflags & dns.flags.DO  # nothing is signed
    assert with_edns.rcode() == dns.rcode.NOERROR
    output = dig(server, zone, "SOA")  # dig asks with EDNS by default
    assert "EDNS: version: 0" in output and "udp: 1232" in output


def test_an_unknown_edns_version_gets_badvers(server: Server, zone: str) -> None:
    response = ask(server, zone, "SOA", use_edns=1)
    assert response.rcode() == dns.rcode.BADVERS
    assert response.edns == 0
    assert response.answer == []


def test_several_queries_on_one_tcp_connection(server: Server, zone: str) -> None:
    queries = [
        dns.message.make_query(fqdn(n, zone), t, flags=0)
        for n, t in (("host", "A"), ("txt", "TXT"), ("nothere", "A"), ("big", "TXT"))
    ]
    with tcp_connect(server) as sock:
        # Pipelined: all sent before any answer is read (RFC 7766 §6.2.1.1).
        sock.sendall(
            b"".join(len(w).to_bytes(2, "big") + w for w in (q.to_wire() for q in queries))
        )
        responses = [dns.message.from_wire(tcp_read(sock)) for _ in queries]
        again = queries[0].to_wire()
        sock.sendall(len(again).to_bytes(2, "big") + again)
        responses.append(dns.message.from_wire(tcp_read(sock)))
    assert [r.id for r in responses] == [q.id for q in queries] + [queries[0].id]
    assert [r.rcode() for r in responses] == [dns.rcode.NOERROR, dns.rcode.NOERROR,
                                              dns.rcode.NXDOMAIN, dns.rcode.NOERROR,
                                              dns.rcode.NOERROR]  # fmt: skip
    assert len(rdata(responses[3])) == BIG_TXT


def test_an_idle_tcp_connection_is_closed(server: Server) -> None:
    with tcp_connect(server) as sock:
        sock.settimeout(IDLE_TIMEOUT + 10)
        started = time.monotonic()
        assert sock.recv(1) == b""
        assert IDLE_TIMEOUT - 1 <= time.monotonic() - started <= IDLE_TIMEOUT + 10


# -- malformed input ----------------------------------------------------------------------------


def _valid(zone: str) -> bytes:
    return dns.message.make_query(f"host.{zone}", "A", flags=0, id=0x1234).to_wire()


def _no_question(_zone: str) -> bytes:
    return dns.message.Message(id=0x1234).to_wire()


def _question_cut_short(zone: str) -> bytes:
    return _valid(zone)[:15]  # QDCOUNT 1, then half a name


def _trailing_junk(zone: str) -> bytes:
    return _valid(zone) + b"\x00junk"


def _bad_compression_pointer(zone: str) -> bytes:
    wire = bytearray(_valid(zone))
    wire[12:14] = b"\xc0\xff"  # a pointer past the end
    return bytes(wire)


def _two_questions(zone: str) -> bytes:
    query = dns.message.make_query(f"host.{zone}", "A", flags=0, id=0x1234)
    query.question.append(
        dns.rrset.RRset(dns.name.from_text(zone), dns.rdataclass.IN, dns.rdatatype.SOA)
    )
    return query.to_wire()


@pytest.mark.parametrize(
    "make",
    [_no_question, _question_cut_short, _trailing_junk, _bad_compression_pointer, _two_questions],
)
def test_a_malformed_query_with_a_readable_header_gets_formerr(
    server: Server, zone: str, make: Any
) -> None:
    reply = exchange(server, make(zone))
    assert reply is not None
    response = dns.message.from_wire(reply)
    assert response.id == 0x1234 and response.flags & dns.flags.QR
    assert response.rcode() == dns.rcode.FORMERR
    assert response.answer == []
    assert rdata(ask(server, fqdn("host", zone), "A")) == {"192.0.2.1"}


@pytest.mark.parametrize(
    "wire",
    [b"", b"\x12", b"\x12\x34\x01\x00\x00", b"\x00" * 11],
    ids=["empty", "one-byte", "five-bytes", "eleven-bytes"],
)
def test_a_packet_without_a_header_is_dropped(server: Server, zone: str, wire: bytes) -> None:
    assert exchange(server, wire, wait=0.5) is None
    assert rdata(ask(server, fqdn("host", zone), "A")) == {"192.0.2.1"}


def test_a_response_sent_to_the_server_is_not_answered(server: Server, zone: str) -> None:
    query = dns.message.make_query(f"host.{zone}", "A")
    response = dns.message.make_response(query)
    assert exchange(server, response.to_wire(), wait=0.5) is None


def test_random_garbage_never_stops_the_server(server: Server, zone: str) -> None:
    rng = secrets.SystemRandom()
    for _ in range(200):
        wire = bytes(rng.getrandbits(8) for _ in range(rng.randrange(12, 80)))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(wire, (LOCAL, server.dns_port))
    with tcp_connect(server) as sock:
        sock.sendall(b"\x00\x05hello")
        sock.settimeout(TIMEOUT)
        data = sock.recv(4096)  # a FORMERR, or the connection closed
        assert data == b"" or dns.message.from_wire(data[2:]).rcode() == dns.rcode.FORMERR
    assert rdata(ask(server, fqdn("host", zone), "A")) == {"192.0.2.1"}
    assert rdata(ask(server, fqdn("host", zone), "A", tcp=True)) == {"192.0.2.1"}


# -- a reverse zone -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reverse_node(server: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second `gatehouse serve` on the same store that allows reverse zones (off by
    default: docs/dns.md)."""
    with another_node(
        server, tmp_path_factory, "reverse-node", {"GATEHOUSE_ALLOW_REVERSE_ZONES": "1"}
    ) as node:
        yield node


@pytest.fixture
def reverse_zone(reverse_node: Server) -> Iterator[str]:
    name = f"{secrets.randbelow(256)}.{secrets.randbelow(256)}.10.in-addr.arpa"
    reverse_node.ok("adddns", params={"domain": name, "ip": "192.0.2.10"})
    yield name
    reverse_node.ok("killdns", params={"domain": name})


def test_ptr_in_a_reverse_zone(reverse_node: Server, reverse_zone: str) -> None:
    edit(reverse_node, reverse_zone, add("7", "PTR", ["host.example.com."]))
    address = ".".join(reversed(f"7.{reverse_zone}".split(".")[:4]))
    answer = resolver(reverse_node).resolve_address(address)
    assert [rd.to_text() for rd in answer] == ["host.example.com."]
    assert dig(reverse_node, "+short", "-x", address).strip() == "host.example.com."


# -- a large zone -------------------------------------------------------------------------------

LARGE = 6000  # records added to the template's, in batches (the API takes 2,000 parameters)
BATCH = 1900
ENTS = 50  # x<i>.ent<k>: ent0 ... ent49 are empty non-terminals


def large_record(i: int) -> tuple[str, str, list[str]]:
    """The i-th record of the large zone: (dname, type, data)."""
    address = f"198.18.{i // 256}.{i % 256}"
    kind = i % 6
    if kind == 0:
        return f"h{i}", "A", [address]
    if kind == 1:
        return f"h{i - 1}", "AAAA", [f"2001:db8::{i:x}"]  # beside the A before it
    if kind == 2:
        return f"t{i}", "TXT", [f"value {i}"]
    if kind == 3:
        return f"c{i}", "CNAME", [f"h{i - 3}"]
    if kind == 4:
        return f"m{i}", "MX", ["10", f"h{i - 4}"]
    return f"x{i}.ent{i % ENTS}", "A", [address]


def large_expected(i: int, zone: str) -> tuple[str, str, list[tuple[str, str, str]]]:
    """(name asked, type asked, the answer section as `chain` gives it) for record i."""
    dname, rtype, data = large_record(i)
    owner = fqdn(dname, zone)
    if rtype == "CNAME":
        target = fqdn(data[0], zone)
        j = int(data[0][1:])
        return owner, "A", [(owner, "CNAME", target), (target, "A", large_record(j)[2][0])]
    if rtype == "MX":
        return owner, "MX", [(owner, "MX", f"10 {fqdn(data[1], zone)}")]
    if rtype == "TXT":
        return owner, "TXT", [(owner, "TXT", f'"{data[0]}"')]
    return owner, rtype, [(owner, rtype, data[0])]


def mass_add(server: Server, zone: str, serial: str, items: list[dict[str, Any]]) -> str:
    params = [("zone", zone), ("serial", serial)]
    params += [(f"add-{k}", json.dumps(item)) for k, item in enumerate(items)]
    return str(post(server, "mass_edit_dns_zone", params)["new_serial"])


@pytest.fixture(scope="module")
def large_zone(server: Server) -> str:
    """A zone of the template's records, a wildcard, a delegation and LARGE more, added
    through WHM API 1 in a few POSTed mass_edit_dns_zone calls."""
    name = new_zone(server)
    items = [
        {"dname": d, "ttl": 300, "record_type": t, "data": data}
        for d, t, data in [
            ("*.w", "TXT", ["wild"]),
            ("d", "NS", ["ns.example.org."]),
            *(large_record(i) for i in range(LARGE)),
        ]
    ]
    serial = serial_of(server, name)
    for start in range(0, len(items), BATCH):
        serial = mass_add(server, name, serial, items[start : start + BATCH])
    return name


def sample(step: int = 97) -> list[int]:
    return [*range(0, LARGE, step), LARGE - 1]


def test_a_large_zone_answers_for_names_across_it(server: Server, large_zone: str) -> None:
    for i in sample():
        name, rtype, expected = large_expected(i, large_zone)
        response = ask(server, name, rtype)
        assert response.rcode() == dns.rcode.NOERROR, (i, response)
        assert response.flags & dns.flags.AA
        assert chain(response) == expected, i
    mx = ask(server, fqdn("m4", large_zone), "MX")
    assert {rd.to_text() for r in mx.additional for rd in r} == {"198.18.0.0", "2001:db8::1"}


@pytest.mark.parametrize(
    ("name", "rtype", "rcode", "answer"),
    [
        ("anything.w", "TXT", dns.rcode.NOERROR, {'"wild"'}),
        ("a.b.w", "TXT", dns.rcode.NOERROR, {'"wild"'}),
        ("anything.w", "A", dns.rcode.NOERROR, set()),  # NODATA from the wildcard
        ("w", "TXT", dns.rcode.NOERROR, set()),  # an empty non-terminal
        ("ent7", "A", dns.rcode.NOERROR, set()),
        ("nothere.ent7", "A", dns.rcode.NXDOMAIN, set()),
        ("h6", "TXT", dns.rcode.NOERROR, set()),  # NODATA: h6 has A and AAAA
        ("h7", "A", dns.rcode.NXDOMAIN, set()),
        (f"h{LARGE * 2}", "A", dns.rcode.NXDOMAIN, set()),
    ],
)
def test_a_large_zone_gives_wildcards_nodata_and_nxdomain(
    server: Server, large_zone: str, name: str, rtype: str, rcode: dns.rcode.Rcode, answer: set[str]
) -> None:
    response = ask(server, fqdn(name, large_zone), rtype)
    assert response.rcode() == rcode
    assert response.flags & dns.flags.AA
    assert rdata(response) == answer
    if not answer:
        negative_soa(response, large_zone)


def test_a_large_zone_refers_below_its_delegation(server: Server, large_zone: str) -> None:
    response = ask(server, fqdn("www.d", large_zone), "A")
    assert not response.flags & dns.flags.AA and response.answer == []
    assert {rd.to_text() for r in response.authority for rd in r} == {"ns.example.org."}


def test_a_change_to_a_large_zone_is_in_the_very_next_answer(
    server: Server, large_zone: str
) -> None:
    payload = parse(server, large_zone)
    assert sum(1 for i in payload if i["type"] == "record") > LARGE

    def line_of(dname: str, rtype: str) -> int:
        return int(next(
            i["line_index"] for i in payload
            if i["type"] == "record" and unb64(i["dname_b64"]) == dname
            and i["record_type"] == rtype
        ))  # fmt: skip

    fresh = f"fresh-{uuid.uuid4().hex[:8]}"
    params = [
        ("zone", large_zone),
        ("serial", unb64(soa_item(payload)["data_b64"][2])),
        ("add", json.dumps({"dname": fresh, "ttl": 60, "record_type": "A",
                            "data": ["192.0.2.200"]})),
        ("edit", json.dumps({"line_index": line_of("h12", "A"), "dname": "h12", "ttl": 60,
                             "record_type": "A", "data": ["192.0.2.212"]})),
        ("remove", str(line_of("t14", "TXT"))),
    ]  # fmt: skip
    new_serial = str(post(server, "mass_edit_dns_zone", params)["new_serial"])
    # At once, with no pause: the first answer after the change already has it.
    assert rdata(ask(server, fqdn(fresh, large_zone), "A")) == {"192.0.2.200"}
    edited = ask(server, fqdn("h12", large_zone), "A", tcp=True)
    assert rdata(edited) == {"192.0.2.212"} and edited.answer[0].ttl == 60
    assert rdata(ask(server, fqdn("h12", large_zone), "AAAA")) == {"2001:db8::d"}
    removed = ask(server, fqdn("t14", large_zone), "TXT")
    assert removed.rcode() == dns.rcode.NXDOMAIN
    (soa,) = ask(server, large_zone, "SOA").answer[0]
    assert str(soa.serial) == new_serial
    for i in sample(331):
        if i in (12, 14):
            continue
        name, rtype, expected = large_expected(i, large_zone)
        assert chain(ask(server, name, rtype)) == expected, i
    assert rdata(ask(server, fqdn("x.w", large_zone), "TXT")) == {'"wild"'}


def test_a_zone_with_one_record_that_does_not_load_gets_servfail(server: Server) -> None:
    # Only a write that bypasses zones.save can store such a text. Names are read when first
    # asked for: the bad record is found then, and the whole zone is SERVFAIL from then on.
    name = new_zone(server)
    ((text, serial),) = server.sql("SELECT text, serial FROM zones WHERE name = :n", n=name)
    server.sql(
        "UPDATE zones SET text = :t, serial = :s WHERE name = :n",
        t=text + "bad\t300\tIN\tA\t192.0.2.999\n",
        s=serial + 1,
        n=name,
    )
    assert ask(server, f"bad.{name}", "A").rcode() == dns.rcode.SERVFAIL
    assert ask(server, name, "A").rcode() == dns.rcode.SERVFAIL
    assert ask(server, f"ftp.{name}", "A", tcp=True).rcode() == dns.rcode.SERVFAIL
    server.sql(
        "UPDATE zones SET text = :t, serial = :s WHERE name = :n", t=text, s=serial + 2, n=name
    )
    assert rdata(ask(server, name, "A")) == {"192.0.2.10"}


# -- how a zone is loaded (in process, no server) -----------------------------------------------

ORIGIN = "example.com"
TEMPLATE = template.template(
    ORIGIN,
    ip="192.0.2.1",
    nameservers=["ns1.example.net"],
    serial=1,
    hostname="host.example.net",
    update_time=1,
)
# What a zone file may hold beyond the API's one-line records: a multi-line SOA with
# comments, owners left out, TTL and class in either order, $TTL changes, TTL units, quotes,
# semicolons and parentheses inside strings, an RRset whose TTLs differ (the lowest wins),
# duplicates, names out of the zone (skipped), two CNAMEs at one name (the last wins), a
# generic-type record, lower-case keywords, owners that look like a TTL or a class.
TRICKY = r"""; a hand-written zone
$TTL 1h
@   IN  SOA ( ns1.example.net. hostmaster.example.com.
        2024010101 ; serial
        3600 1800 1209600 300 )
    IN NS ns1.example.net.
    3600 IN NS ns2
example.com. IN A 192.0.2.1
WWW 300 IN A 192.0.2.2
www IN 600 A 192.0.2.3
www.EXAMPLE.com. A 192.0.2.3
    AAAA 2001:db8::1
txt TXT "a;b" "c\"d" "(e)" ; a comment ( here
txt 60 TXT ( "multi"
   "line" )
$ttl 7200
later A 192.0.2.9
out.example.org. A 192.0.2.10
    A 192.0.2.11
*.wild TXT "w"
x.y.z.ent A 192.0.2.12
sub NS ns1.sub
sub NS ns.example.org.
ns1.sub A 192.0.2.53
dn DNAME other
_sip._tcp SRV 10 20 5060 www
@ CAA 0 issue "letsencrypt.org"
gen TYPE65534 \# 2 abcd
two CNAME a
two CNAME b
mx MX 10 mail.example.org.
lower in a 192.0.2.77
300 IN A 192.0.2.78
in A 192.0.2.79
hinfo HINFO "PC" "Linux"
"""
# The same, each record on one line and no parenthesis anywhere: read a line at a time.
ONE_LINE = r"""; written by hand, one line a record
$TTL 1h
@ 86400 IN SOA ns1.example.net. hostmaster.example.com. 2024010101 3600 1800 1209600 300 ; x
    IN NS ns1.example.net.
    3600 IN NS ns2
example.com. IN A 192.0.2.1
WWW 300 IN A 192.0.2.2
www IN 600 A 192.0.2.3
www.EXAMPLE.com. A 192.0.2.3
\tAAAA 2001:db8::1
  ; an indented comment

txt TXT "a;b" "c\"d" ; a comment
txt 60 TXT "second"
$ttl 7200
later A 192.0.2.9
out.example.org. A 192.0.2.10
    A 192.0.2.11
*.wild TXT "w"
x.y.z.ent A 192.0.2.12
sub NS ns1.sub
sub NS ns.example.org.
ns1.sub A 192.0.2.53
dn DNAME other
_sip._tcp SRV 10 20 5060 www
@ CAA 0 issue "letsencrypt.org"
gen TYPE65534 \# 2 abcd
two CNAME a
two CNAME b
mx MX 10 mail.example.org.
lower in a 192.0.2.77
300 IN A 192.0.2.78
in A 192.0.2.79
hinfo HINFO "PC" "Linux"
""".replace("\\t", "\t")  # a record indented with a tab
# Texts read by dnspython's zone reader at once instead: directives other than $TTL, escapes
# and non-ASCII in an owner, a record before any $TTL.
WHOLE = [
    TEMPLATE + "$ORIGIN sub.example.com.\nfoo A 192.0.2.1\n",
    TEMPLATE + "$GENERATE 1-3 h$ A 192.0.2.$\n",
    TEMPLATE + "foo\\.bar A 192.0.2.1\n",
    TEMPLATE + "café 300 IN A 192.0.2.1\n",
    "first 300 IN A 192.0.2.1\n    TXT x\n" + TEMPLATE,
]
QUESTIONS = [
    (name, rtype)
    for name in ("@", "www", "txt", "later", "x.y.z.ent", "y.z.ent", "ent", "nope", "a.wild",
                 "wild", "x.sub", "sub", "ns1.sub", "q.dn", "_sip._tcp", "gen", "two", "mx",
                 "lower", "300", "in", "hinfo", "out", "foo", "foo\\.bar", "bar", "foo.bar",
                 "xn--caf-dma", "h2", "first", "ftp")
    for rtype in ("A", "AAAA", "TXT", "MX", "NS", "SOA", "ANY", "CNAME", "SRV", "TYPE65534")
]  # fmt: skip


def sections(answer: Answer) -> tuple[object, ...]:
    def text(rrsets: list[dns.rrset.RRset]) -> list[str]:
        return [r.to_text() for r in rrsets]

    return (answer.rcode, text(answer.answer), text(answer.authority), text(answer.additional),
            answer.referral, answer.glue_required)  # fmt: skip


@pytest.mark.parametrize(
    ("text", "reading"),
    [(TEMPLATE, "lines"), (ONE_LINE, "lines"), (TRICKY, "entries"), *((t, "whole") for t in WHOLE)],
    ids=["template", "one-line", "tricky", "origin", "generate", "escape", "idna", "before-ttl"],
)
def test_a_zone_loaded_name_by_name_answers_as_dnspythons_whole_zone_reading(
    text: str, reading: str
) -> None:
    lazy = hosted.parse(ORIGIN, text)
    whole = hosted.parse(ORIGIN, text, whole=True)
    assert (lazy.reading, whole.reading) == (reading, "whole")
    reference = dns.zone.from_text(text, origin=f"{ORIGIN}.", relativize=False)
    for name, rtype in QUESTIONS:
        qname = dns.name.from_text(name, dns.name.from_text(ORIGIN))
        question = (qname, dns.rdatatype.from_text(rtype))
        assert sections(resolve(lazy, *question)) == sections(resolve(whole, *question)), question
    for owner, node in reference.nodes.items():
        loaded = lazy.rdatasets(owner)
        assert loaded is not None, owner
        assert sorted(loaded.values(), key=lambda r: (r.rdtype, r.covers)) == sorted(
            node.rdatasets, key=lambda r: (r.rdtype, r.covers)
        )
        for rdataset in node.rdatasets:
            same = loaded[hosted.index(rdataset.rdtype, rdataset.covers)]
            assert (same.ttl, list(same)) == (rdataset.ttl, list(rdataset)), owner
        assert lazy.exists(owner) and lazy.owns(owner)
        if owner != lazy.origin:
            assert lazy.exists(owner.parent())
    assert (lazy.names, lazy.cuts, lazy.dnames) == (whole.names, whole.cuts, whole.dnames)
    assert lazy.negative_soa.to_text() == whole.negative_soa.to_text()
    assert lazy.negative_soa.ttl == whole.negative_soa.ttl
    assert lazy.reading == reading  # every record read as its owner and type said


def test_a_record_that_does_not_load_breaks_the_zone_when_first_read() -> None:
    zone = hosted.parse(ORIGIN, TEMPLATE + "bad 300 IN A 192.0.2.999\n")
    ftp = dns.name.from_text(f"ftp.{ORIGIN}.")
    assert resolve(zone, ftp, dns.rdatatype.A).answer  # not read yet: nothing known
    with pytest.raises(hosted.ZoneError) as first:
        resolve(zone, dns.name.from_text(f"bad.{ORIGIN}."), dns.rdatatype.A)
    assert first.value.first
    with pytest.raises(hosted.ZoneError) as later:
        resolve(zone, ftp, dns.rdatatype.A)
    assert not later.value.first


@pytest.mark.parametrize(
    "text",
    [
        "this is not a zone file\n",
        TEMPLATE.replace("\tNS\t", "\tTXT\t"),  # no NS at the apex
        TEMPLATE + "www 300 IN A 192.0.2.5\n",  # a CNAME beside other data
        TEMPLATE + "sub 300 IN SOA a. b. 1 2 3 4 5\n",  # an SOA below the apex
    ],
)
def test_a_text_that_does_not_load_is_refused_or_broken(text: str) -> None:
    try:
        zone = hosted.parse(ORIGIN, text)
    except (dns.exception.DNSException, ValueError) as refused:
        # Refused at once (SERVFAIL), as dnspython's own reader of the whole zone refuses it:
        # a crash of the reading itself (TypeError, KeyError, …) is no refusal, and fails.
        with pytest.raises(type(refused)):
            hosted.parse(ORIGIN, text, whole=True)
        return
    with pytest.raises(hosted.ZoneError):
        for name in ("www", "sub", "@"):
            resolve(zone, dns.name.from_text(name, dns.name.from_text(ORIGIN)), dns.rdatatype.A)
