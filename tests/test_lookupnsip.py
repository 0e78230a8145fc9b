"""lookupnsip and lookupnsips (Whostmgr/API/1/Nameserver.pm; API 0: Whostmgr/XMLUI/
Nameserver.pm): a nameserver's IPv4 address, or its IPv4 and IPv6 addresses, from gatehouse's
own zones, else the system resolver. Over real HTTP
on both stores, through the local-zone path and names under `.invalid` (RFC 6761: resolved
nowhere) only — never outside DNS; the resolver's bound and choice in-process, with
getaddrinfo replaced."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import Server
from gatehouse.domain import nameserver_ips
from inprocess import open_local

NOT_DETERMINED = "Unable to determine IP address from nameserver."


def api0(server: Server, params: Any = None, **kw: Any) -> httpx.Response:
    return server.get("lookupnsip", params=params, api_version=None, **kw)


def _nameserver(server: Server, address: str = "192.0.2.53") -> tuple[str, str]:
    """An account's zone with an A record `ns1.DOMAIN`: (that name, the account's domain)."""
    user, _ = server.account()
    domain = f"{user}.example.com"
    record = {"domain": domain, "name": "ns1", "type": "A", "address": address}
    server.ok("addzonerecord", params=record)
    return f"ns1.{domain}", domain


@pytest.fixture(scope="module")
def nameserver(server: Server) -> tuple[str, str]:
    return _nameserver(server)


# -- API 1 -----------------------------------------------------------------------------------


def test_a_name_in_a_local_zone_answers_its_a_record(
    server: Server, nameserver: tuple[str, str]
) -> None:
    name, _ = nameserver
    response = server.get("lookupnsip", params={"host": name})
    assert response.json() == {
        "data": {"ip": "192.0.2.53"},
        "metadata": {"command": "lookupnsip", "reason": "OK", "result": 1, "version": 1},
    }


@pytest.mark.parametrize(
    "spelling",
    [str.upper, lambda n: f"{n}.", lambda n: f" {n} "],
    ids=["upper case", "trailing dot", "blanks around"],
)
def test_the_name_is_read_as_dns_reads_it(
    server: Server, nameserver: tuple[str, str], spelling: Any
) -> None:
    name, _ = nameserver
    assert server.ok("lookupnsip", params={"host": spelling(name)}) == {"ip": "192.0.2.53"}


def test_of_several_a_records_the_last_in_the_zone_wins(server: Server) -> None:
    """Cpanel::DnsUtils::NameServerIPs::_get_nsip_for_from_zonefile keeps the last one read."""
    name, domain = _nameserver(server, "192.0.2.1")
    record = {"domain": domain, "name": "ns1", "type": "A", "address": "192.0.2.2"}
    server.ok("addzonerecord", params=record)
    assert server.ok("lookupnsip", params={"host": name}) == {"ip": "192.0.2.2"}


def test_the_zone_apex_answers_its_own_a_record(server: Server) -> None:
    user, _ = server.account()
    domain = f"{user}.example.com"
    apex = server.ok("dumpzone", params={"domain": domain})["zone"][0]["record"]
    expected = next(r["address"] for r in apex if r["type"] == "A" and r["name"] == f"{domain}.")
    assert server.ok("lookupnsip", params={"host": domain}) == {"ip": expected}


@pytest.mark.parametrize(
    "host",
    ["ns1.gatehouse-test.invalid", "invalid", "not a host name", ""],
    ids=["under .invalid", "invalid itself", "not a host name", "empty"],
)
def test_a_name_resolved_nowhere_is_refused_in_cpanels_words(server: Server, host: str) -> None:
    assert server.fail("lookupnsip", params={"host": host}) == NOT_DETERMINED


def test_without_host_it_is_refused_in_cpanels_words(server: Server) -> None:
    assert server.fail("lookupnsip") == NOT_DETERMINED


# -- API 0 -----------------------------------------------------------------------------------


def test_api0_reads_nameserver_and_answers_ip_alone(
    server: Server, nameserver: tuple[str, str]
) -> None:
    name, _ = nameserver
    response = api0(server, {"nameserver": name})
    assert response.status_code == 200
    assert response.text == '{"ip":"192.0.2.53"}'


def test_api0_answers_null_for_a_name_resolved_nowhere(server: Server) -> None:
    response = api0(server, {"nameserver": "ns1.gatehouse-test.invalid"})
    assert response.status_code == 200
    assert response.text == '{"ip":null}'


def test_api0_does_not_read_host(server: Server, nameserver: tuple[str, str]) -> None:
    """Whostmgr/XMLUI/Meta.pm passes `nameserver` only: API 1's `host` is no name to API 0."""
    name, _ = nameserver
    assert api0(server, {"host": name}).json() == {"ip": None}


# -- lookupnsips -----------------------------------------------------------------------------


def _dual_stack(server: Server, records: list[tuple[str, str]]) -> str:
    """An account's zone with these (type, address) records at `ns1.DOMAIN`, in order: the
    name."""
    user, _ = server.account()
    domain = f"{user}.example.com"
    for record_type, address in records:
        params = {"domain": domain, "name": "ns1", "type": record_type, "address": address}
        server.ok("addzonerecord", params=params)
    return f"ns1.{domain}"


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        (
            [("A", "192.0.2.1"), ("AAAA", "2001:db8::1")],
            {"ipv4": "192.0.2.1", "ipv6": "2001:db8::1"},
        ),
        ([("A", "192.0.2.1")], {"ipv4": "192.0.2.1", "ipv6": ""}),
        ([("AAAA", "2001:db8::1")], {"ipv4": "", "ipv6": "2001:db8::1"}),
        (
            [
                ("AAAA", "2001:db8::1"),
                ("A", "192.0.2.1"),
                ("AAAA", "2001:db8::2"),
                ("A", "192.0.2.2"),
            ],
            {"ipv4": "192.0.2.2", "ipv6": "2001:db8::2"},
        ),
    ],
    ids=["both", "IPv4 only", "IPv6 only", "of each type the last"],
)
def test_lookupnsips_answers_both_families_from_a_local_zone(
    server: Server, records: list[tuple[str, str]], expected: dict[str, str]
) -> None:
    """Whostmgr::API::1::Nameserver::lookupnsips: cPanel's `{ipv4, ipv6}`, "" for a family
    without an address (Cpanel::DnsUtils::NameServerIPs::_get_nsip_for_from_zonefile)."""
    name = _dual_stack(server, records)
    response = server.get("lookupnsips", params={"host": name})
    assert response.json() == {
        "data": expected,
        "metadata": {"command": "lookupnsips", "reason": "OK", "result": 1, "version": 1},
    }


@pytest.mark.parametrize(
    "params",
    [{"host": "ns1.gatehouse-test.invalid"}, {"host": "not a host name"}, {"host": ""}, {}],
    ids=["under .invalid", "not a host name", "empty", "no host"],
)
def test_lookupnsips_found_nowhere_is_refused_in_cpanels_words(
    server: Server, params: dict[str, str]
) -> None:
    assert server.fail("lookupnsips", params=params) == NOT_DETERMINED


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, '{"ipv4":"192.0.2.53","ipv6":""}'),
        ("ns1.gatehouse-test.invalid", '{"ipv4":"","ipv6":""}'),
    ],
    ids=["found", "found nowhere"],
)
def test_api0_lookupnsips_answers_cpanels_hash_alone(
    server: Server, nameserver: tuple[str, str], given: str | None, expected: str
) -> None:
    """Whostmgr/XMLUI/Nameserver.pm: get_all_ips_for_nameserver's hash as it is — its
    zone-file fallback gives both empty when nothing is found, so no refusal."""
    name = given or nameserver[0]
    response = server.get("lookupnsips", params={"nameserver": name}, api_version=None)
    assert response.status_code == 200
    assert response.text == expected


def test_api0_lookupnsips_does_not_read_host(server: Server, nameserver: tuple[str, str]) -> None:
    name, _ = nameserver
    response = server.get("lookupnsips", params={"host": name}, api_version=None)
    assert response.json() == {"ipv4": "", "ipv6": ""}


# -- privileges ------------------------------------------------------------------------------


FOUND = {
    "lookupnsip": {"ip": "192.0.2.53"},
    "lookupnsips": {"ipv4": "192.0.2.53", "ipv6": ""},
}
# API 0's answer when a privilege is missing: the function's keys (lookupnsip's ip null),
# then API 0's status and message.
REFUSED_KEYS = {"lookupnsip": {"ip": None}, "lookupnsips": {}}


@pytest.mark.parametrize("function", sorted(FOUND))
@pytest.mark.parametrize("version", ["1", None], ids=["API 1", "API 0"])
def test_a_reseller_with_ns_config_may_look_up(
    server: Server, nameserver: tuple[str, str], version: str | None, function: str
) -> None:
    name, _ = nameserver
    reseller, token = server.reseller(privileges=["ns-config"])
    key = "host" if version else "nameserver"
    response = server.get(
        function, params={key: name}, user=reseller, token=token, api_version=version
    )
    body = response.json()
    assert (body["data"] if version else body) == FOUND[function]


@pytest.mark.parametrize("function", sorted(FOUND))
@pytest.mark.parametrize("version", ["1", None], ids=["API 1", "API 0"])
def test_a_reseller_without_ns_config_is_refused(
    server: Server, nameserver: tuple[str, str], version: str | None, function: str
) -> None:
    name, _ = nameserver
    reseller, token = server.reseller(privileges=["list-accts"])
    key = "host" if version else "nameserver"
    response = server.get(
        function, params={key: name}, user=reseller, token=token, api_version=version
    )
    body = response.json()
    if version:
        assert body["metadata"]["result"] == 0
        assert "ns-config" in body["metadata"]["reason"]
    else:
        assert {k: body.pop(k) for k in ("status", "statusmsg")}["status"] == 0
        assert body == REFUSED_KEYS[function]


# -- the lookup itself, in-process -----------------------------------------------------------


@pytest.fixture
def getaddrinfo(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Any]]:
    """socket.getaddrinfo answering what the test puts in the list (an exception is raised;
    a threading.Event is waited for, then nothing is found)."""
    answers: list[Any] = []

    def fake(host: str, *args: Any, **kw: Any) -> list[Any]:
        answer = answers[0] if answers else []
        if isinstance(answer, threading.Event):
            answer.wait(5)
            return []
        if isinstance(answer, Exception):
            raise answer
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, 0, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0))
            for a in answer
        ]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    yield answers


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (["203.0.113.7", "203.0.113.8"], "203.0.113.7"),
        ([], None),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), None),
    ],
    ids=["the first address", "no address", "a resolver error"],
)
def test_the_resolver_answers_its_first_ipv4_address(
    getaddrinfo: list[Any], found: Any, expected: str | None
) -> None:
    getaddrinfo.append(found)
    assert nameserver_ips.resolve(f"ns1.{uuid.uuid4().hex}.example", 2.0) == expected


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (
            ["2001:db8::7", "203.0.113.7", "2001:db8::8", "203.0.113.8"],
            ("203.0.113.7", "2001:db8::7"),
        ),
        (["2001:db8::7"], ("", "2001:db8::7")),
        (["203.0.113.7"], ("203.0.113.7", "")),
        ([], ("", "")),
        (socket.gaierror(socket.EAI_NONAME, "Name or service not known"), ("", "")),
    ],
    ids=["both families", "IPv6 only", "IPv4 only", "no address", "a resolver error"],
)
def test_the_resolver_answers_the_first_address_of_each_family(
    getaddrinfo: list[Any], found: Any, expected: tuple[str, str]
) -> None:
    """lookupnsips' resolver step, as Cpanel::DnsRoots::resolve_addresses_for_domain: the
    first A and the first AAAA, "" for none."""
    getaddrinfo.append(found)
    got = nameserver_ips.resolve_both(f"ns1.{uuid.uuid4().hex}.example", 2.0)
    assert (got.ipv4, got.ipv6) == expected


def test_a_resolver_that_hangs_is_given_up_on(getaddrinfo: list[Any]) -> None:
    hang = threading.Event()
    getaddrinfo.append(hang)
    try:
        assert nameserver_ips.resolve("ns1.slow.example", 0.05) is None
    finally:
        hang.set()


def test_names_under_invalid_never_reach_the_resolver(getaddrinfo: list[Any]) -> None:
    getaddrinfo.append(["203.0.113.7"])
    assert nameserver_ips.resolve("ns1.example.invalid", 2.0) is None


def test_only_the_zone_of_the_longest_suffix_is_searched(tmp_path: Path) -> None:
    """As cPanel's zone-file fallback: `ns1.sub.D` is looked for in the zone `sub.D` when
    there is one, not in `D` — whose record at that name the nameserver would not answer."""
    local = open_local(tmp_path)
    local.ok("adddns", {"domain": "parent.example", "ip": "192.0.2.10"})
    record = {"domain": "parent.example", "name": "ns1.sub", "type": "A", "address": "192.0.2.9"}
    local.ok("addzonerecord", record)
    with local.gatehouse.engine.connect() as conn:
        assert nameserver_ips.from_zones(conn, "ns1.sub.parent.example").ipv4 == "192.0.2.9"
    local.ok("adddns", {"domain": "sub.parent.example", "ip": "192.0.2.11"})
    with local.gatehouse.engine.connect() as conn:
        assert not nameserver_ips.from_zones(conn, "ns1.sub.parent.example")
        assert nameserver_ips.from_zones(conn, "sub.parent.example").ipv4 == "192.0.2.11"
