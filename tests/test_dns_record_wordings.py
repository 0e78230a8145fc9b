"""A bad record is refused in cPanel's words, over real HTTP on both stores, by every function
that edits one record — WHM API 1 addzonerecord and editzonerecord, cPanel API 2
ZoneEdit::add_zone_record and edit_zone_record (Whostmgr::DNS::sanitize_record,
validate_dnszone_with_changes) — and by the mass edits, WHM mass_edit_dns_zone and UAPI
DNS::mass_edit_zone (Cpanel::ZoneFile::LineEdit::Backend); and nothing is written.

`@` is no record name to cPanel: the one-record functions refuse it as an invalid name, the
mass edits as a malformed label (`@.<zone>.`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from conftest import Server

INVALID = "Invalid DNS record: "
TOO_LONG_NAME = ".".join(["a" * 63] * 4)  # 255 characters, every label valid

# id: (the record's fields, cPanel's refusal; `{zone}` is the zone's name). Each is given to
# an addition, and to an edit of a TXT record (its name and TTL kept unless given).
CASES: dict[str, tuple[dict[str, str], str]] = {
    # A and AAAA (Cpanel::Validate::IP::v4::is_valid_ipv4, Cpanel::Validate::IP::is_valid_ipv6)
    "A not an address": (
        {"type": "A", "address": "nope"},
        "Supplied address for A record is invalid",
    ),
    "A octet over 255": (
        {"type": "A", "address": "192.0.2.256"},
        "Supplied address for A record is invalid",
    ),
    "A leading zero": (
        {"type": "A", "address": "192.0.2.01"},
        "Supplied address for A record is invalid",
    ),
    "A first octet 0": (
        {"type": "A", "address": "0.1.2.3"},
        "Supplied address for A record is invalid",
    ),
    "A an IPv6 address": (
        {"type": "A", "address": "2001:db8::1"},
        "Supplied address for A record is invalid",
    ),
    "A no address": ({"type": "A"}, "Supplied address for A record is invalid"),
    "AAAA not an address": (
        {"type": "AAAA", "address": "2001:db8::g"},
        "Supplied address for AAAA record is invalid",
    ),
    "AAAA with a zone index": (
        {"type": "AAAA", "address": "fe80::1%eth0"},
        "Supplied address for AAAA record is invalid",
    ),
    "AAAA an IPv4 address": (
        {"type": "AAAA", "address": "192.0.2.1"},
        "Supplied address for AAAA record is invalid",
    ),
    # CNAME
    "CNAME one label": ({"type": "CNAME", "cname": "localhost"}, "Supplied CNAME is invalid."),
    "CNAME a bad label": (
        {"type": "CNAME", "cname": "bad-.example.net"},
        "Supplied CNAME is invalid.",
    ),
    "CNAME an IPv4 address": (
        {"type": "CNAME", "cname": "192.0.2.1"},
        "CNAMEs can not point to an IPv4 address",
    ),
    # MX
    "MX an IP address": (
        {"type": "MX", "exchange": "192.0.2.1", "preference": "10"},
        "IP addresses are not allowable exchange values.",
    ),
    "MX a bad exchange": (
        {"type": "MX", "exchange": "_mx.example.net", "preference": "10"},
        "Supplied exchange for MX record is invalid",
    ),
    "MX no priority": (
        {"type": "MX", "exchange": "mx.example.net"},
        "Supplied preference for MX record is invalid.",
    ),
    "MX a negative priority": (
        {"type": "MX", "exchange": "mx.example.net", "preference": "-1"},
        "Supplied preference for MX record is invalid.",
    ),
    "MX priority over 65535": (
        {"type": "MX", "exchange": "mx.example.net", "preference": "65536"},
        "Supplied preference for MX record is out of range.",
    ),
    # NS, PTR
    "NS a bad name": ({"type": "NS", "nsdname": "ns_1.example.net"}, "Supplied NS is invalid."),
    "PTR a bad name": (
        {"type": "PTR", "ptrdname": "p!.example.net"},
        "Supplied ptrdname is invalid.",
    ),
    # SRV
    "SRV a bad target": (
        {
            "type": "SRV",
            "target": "_sip.example.net",
            "port": "5060",
            "weight": "0",
            "priority": "0",
        },
        "Supplied target for SRV record is invalid",
    ),
    "SRV an IPv4 target": (
        {"type": "SRV", "target": "192.0.2.1", "port": "5060", "weight": "0", "priority": "0"},
        "Supplied target can not point to an IPv4 address",
    ),
    "SRV port over 65535": (
        {
            "type": "SRV",
            "target": "sip.example.net",
            "port": "65536",
            "weight": "0",
            "priority": "0",
        },
        "Supplied port for SRV record is out of range.",
    ),
    "SRV a negative weight": (
        {
            "type": "SRV",
            "target": "sip.example.net",
            "port": "5060",
            "weight": "-1",
            "priority": "0",
        },
        "Supplied weight for SRV record is out of range.",
    ),
    "SRV priority over 65535": (
        {
            "type": "SRV",
            "target": "sip.example.net",
            "port": "5060",
            "weight": "0",
            "priority": "70000",
        },
        "Supplied priority for SRV record is out of range.",
    ),
    # CAA (flag 0 or 128, a tag, a value fit for the tag)
    "CAA a bad flag": (
        {"type": "CAA", "flag": "1", "tag": "issue", "value": "ca.example.net"},
        "Supplied “flag” value for CAA record is invalid",
    ),
    "CAA a bad tag": (
        {"type": "CAA", "flag": "0", "tag": "is-sue", "value": "ca.example.net"},
        "Supplied “tag” value for CAA record is invalid",
    ),
    "CAA critical unknown tag": (
        {"type": "CAA", "flag": "128", "tag": "future", "value": "x"},
        "Supplied “tag” value for CAA record is invalid",
    ),
    "CAA issue not a host": (
        {"type": "CAA", "flag": "0", "tag": "issue", "value": "not a host"},
        "Supplied “issue” value for CAA record is invalid",
    ),
    "CAA iodef not a web URL": (
        {"type": "CAA", "flag": "0", "tag": "iodef", "value": "ftp://ca.example.net/"},
        "Supplied “iodef” value for CAA record is invalid",
    ),
    "CAA iodef bad mailto": (
        {"type": "CAA", "flag": "0", "tag": "iodef", "value": "mailto:nobody"},
        "Supplied “iodef” value for CAA record is invalid",
    ),
    # The name, class and TTL of any record (_base_record_is_valid: every issue, in order)
    "name @": ({"type": "A", "name": "@", "address": "192.0.2.1"}, "Invalid name provided."),
    "name with a blank": (
        {"type": "A", "name": "bad name", "address": "192.0.2.1"},
        "Invalid name provided.",
    ),
    "name with an empty label": (
        {"type": "A", "name": "a..b", "address": "192.0.2.1"},
        "Invalid name provided.",
    ),
    "name wildcard not leftmost": (
        {"type": "A", "name": "a.*", "address": "192.0.2.1"},
        "Contains a malformed wildcard name.",
    ),
    "name too long": (
        {"type": "A", "name": TOO_LONG_NAME, "address": "192.0.2.1"},
        "Provided name is too long.",
    ),
    "class in lower case": (
        {"type": "A", "class": "in", "address": "192.0.2.1"},
        "Invalid class specified.",
    ),
    "TTL letters": ({"type": "A", "ttl": "soon", "address": "192.0.2.1"}, "Bad TTL provided."),
    "TTL negative": ({"type": "A", "ttl": "-1", "address": "192.0.2.1"}, "Bad TTL provided."),
    "TTL empty": ({"type": "A", "ttl": "", "address": "192.0.2.1"}, "Bad TTL provided."),
    "TTL over 2^31-1": (
        {"type": "A", "ttl": "2147483648", "address": "192.0.2.1"},
        "Provided TTL exceeds the maximum allowed value.",
    ),
    "TTL bad and over": (
        {"type": "A", "ttl": "99999999999s", "address": "192.0.2.1"},
        "Bad TTL provided. Provided TTL exceeds the maximum allowed value.",
    ),
    "name and TTL both": (
        {"type": "A", "name": "@", "ttl": "x", "address": "192.0.2.1"},
        "Invalid name provided. Bad TTL provided.",
    ),
    "base before the type": ({"type": "A", "ttl": "x", "address": "nope"}, "Bad TTL provided."),
}
# Refusals that are not sanitize_record's (no `Invalid DNS record: ` before them).
PLAIN: dict[str, tuple[dict[str, str], str]] = {
    "TXT over 65535 bytes": (
        {"type": "TXT", "txtdata": "x" * 70_000},
        "Records may not exceed 65535 bytes",
    ),
    "name outside the zone": (
        {"type": "A", "name": "x.example.org.", "address": "192.0.2.1"},
        "x.example.org. is outside the current dns zone: {zone}.",
    ),
}
# validate_dnszone_with_changes: no CNAME beside other data (the template's `www` is a CNAME,
# `ftp` an A record).
CNAME_RULES: dict[str, tuple[dict[str, str], str]] = {
    "a second CNAME": (
        {"type": "CNAME", "name": "www", "cname": "example.net"},
        "www.{zone}. already has a CNAME record.\nYou have multiple CNAME records.",
    ),
    "a CNAME beside an A record": (
        {"type": "CNAME", "name": "ftp", "cname": "example.net"},
        "ftp.{zone}. already has a A record.\nYou may not mix CNAME records with other "
        "records for the same name.",
    ),
    "a TXT record beside a CNAME": (
        {"type": "TXT", "name": "www", "txtdata": "v"},
        "www.{zone}. already has a CNAME record.\nYou may not mix CNAME records with other "
        "records (TXT).",
    ),
    "an absolute name beside a CNAME": (
        {"type": "TXT", "name": "www.{zone}.", "txtdata": "v"},
        "www.{zone}. already has a CNAME record.\nYou may not mix CNAME records with other "
        "records (TXT).",
    ),
}
# Only an addition: an edit keeps what it is not given.
ADD_ONLY: dict[str, tuple[dict[str, str], str]] = {
    "TXT no value": ({"type": "TXT"}, "No value supplied for TXT record."),
    "no name": ({"type": "A", "address": "192.0.2.1"}, "Invalid name provided."),
}
# What the account's functions may not touch at all (zone.pm's type lists): their own refusal.
API2_ADD_TYPES = {"A", "AAAA", "CAA", "CNAME", "NS", "SRV", "TXT"}
API2_EDIT_TYPES = {"A", "AAAA", "CAA", "CNAME", "MX", "SRV", "TXT"}


class Zone:
    """An account's zone with a TXT record `keep` to edit, and the ways to change it."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.user, password = server.account()
        self.token = server.cpanel_token(self.user, password)
        self.name = f"{self.user}.example.com"
        server.ok(
            "addzonerecord",
            params={"domain": self.name, "name": "keep", "type": "TXT", "txtdata": "v"},
        )
        records = server.ok("dumpzone", params={"domain": self.name})["zone"][0]["record"]
        self.line = next(r["Line"] for r in records if r.get("name") == f"keep.{self.name}.")

    def text(self) -> str:
        return str(self.server.sql("SELECT text FROM zones WHERE name = :n", n=self.name)[0][0])

    def serial(self) -> str:
        return str(self.server.sql("SELECT serial FROM zones WHERE name = :n", n=self.name)[0][0])

    def whm(self, function: str, params: dict[str, Any]) -> str:
        """A WHM API 1 call POSTed as a form (a value may be too long for a URL) that must be
        refused: its reason."""
        response = httpx.post(
            f"{self.server.url}/json-api/{function}?api.version=1",
            data={k: str(v) for k, v in params.items()},
            headers={"Authorization": f"whm root:{self.server.root_token}"},
            timeout=30,
        )
        body = response.json()
        assert response.status_code == 200 and body["metadata"]["result"] == 0, body
        return str(body["metadata"]["reason"])

    def api2(self, func: str, params: dict[str, Any]) -> str:
        """An API 2 ZoneEdit write POSTed as a form that must be refused: its statusmsg."""
        query = {
            "cpanel_jsonapi_apiversion": "2",
            "cpanel_jsonapi_module": "ZoneEdit",
            "cpanel_jsonapi_func": func,
        }
        response = httpx.post(
            f"{self.server.cpanel_url}/json-api/cpanel",
            data={**query, **{k: str(v) for k, v in params.items()}},
            headers={"Authorization": f"cpanel {self.user}:{self.token}"},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        [item] = response.json()["cpanelresult"]["data"]
        assert item["result"]["status"] == 0, item
        return str(item["result"]["statusmsg"])


def _add_whm(z: Zone, fields: dict[str, str]) -> str:
    return z.whm("addzonerecord", {"domain": z.name, "name": "new", **fields})


def _edit_whm(z: Zone, fields: dict[str, str]) -> str:
    return z.whm("editzonerecord", {"domain": z.name, "Line": z.line, **fields})


def _add_api2(z: Zone, fields: dict[str, str]) -> str:
    return z.api2("add_zone_record", {"domain": z.name, "name": "new", **fields})


def _edit_api2(z: Zone, fields: dict[str, str]) -> str:
    return z.api2("edit_zone_record", {"domain": z.name, "Line": z.line, **fields})


# function id: (call, the types it may handle, whether it edits)
FUNCTIONS: dict[str, tuple[Callable[[Zone, dict[str, str]], str], set[str] | None, bool]] = {
    "WHM addzonerecord": (_add_whm, None, False),
    "WHM editzonerecord": (_edit_whm, None, True),
    "API 2 add_zone_record": (_add_api2, API2_ADD_TYPES, False),
    "API 2 edit_zone_record": (_edit_api2, API2_EDIT_TYPES, True),
}


@pytest.fixture(scope="module")
def zone(server: Server) -> Zone:
    return Zone(server)


def _pairs(cases: dict[str, tuple[dict[str, str], str]]) -> list[Any]:
    """Each case with each function that handles its record type (API 2's functions refuse
    the others by their type: zone.pm's lists, tested in test_cpanel_zoneedit.py)."""
    return [
        pytest.param(case, function, id=f"{case}-{function}")
        for case, (fields, _) in cases.items()
        for function, (_, types, _) in FUNCTIONS.items()
        if types is None or fields["type"] in types
    ]


def _refused(zone: Zone, function: str, fields: dict[str, str], words: str) -> None:
    call = FUNCTIONS[function][0]
    before = zone.text()
    assert call(zone, fields) == words.format(zone=zone.name)
    assert zone.text() == before


@pytest.mark.parametrize(("case", "function"), _pairs(CASES))
def test_a_bad_record_is_refused_in_sanitize_records_words(
    zone: Zone, function: str, case: str
) -> None:
    fields, why = CASES[case]
    _refused(zone, function, fields, INVALID + why)


@pytest.mark.parametrize(("case", "function"), _pairs(PLAIN))
def test_a_record_too_long_or_outside_the_zone_is_refused_in_whostmgr_dns_words(
    zone: Zone, function: str, case: str
) -> None:
    fields, words = PLAIN[case]
    _refused(zone, function, fields, words)


@pytest.mark.parametrize(("case", "function"), _pairs(CNAME_RULES))
def test_a_cname_beside_other_data_is_refused_in_whostmgr_dns_words(
    zone: Zone, function: str, case: str
) -> None:
    fields, words = CNAME_RULES[case]
    fields = {k: v.format(zone=zone.name) for k, v in fields.items()}
    _refused(zone, function, fields, words)


@pytest.mark.parametrize("function", [f for f, (_, _, edits) in FUNCTIONS.items() if not edits])
@pytest.mark.parametrize("case", ADD_ONLY)
def test_an_addition_missing_its_name_or_value_is_refused_in_cpanels_words(
    server: Server, zone: Zone, function: str, case: str
) -> None:
    fields, why = ADD_ONLY[case]
    before = zone.text()
    if case == "no name" and function == "WHM addzonerecord":
        reason = zone.whm("addzonerecord", {"domain": zone.name, **fields})
    elif case == "no name":
        reason = zone.api2("add_zone_record", {"domain": zone.name, **fields})
    else:
        reason = FUNCTIONS[function][0](zone, fields)
    assert reason == INVALID + why
    assert zone.text() == before


# What cPanel's checks let through, and gatehouse then writes.
ACCEPTED: dict[str, dict[str, str]] = {
    "A the meta-address": {"type": "A", "address": "0.0.0.0"},  # noqa: S104
    "A at a wildcard": {"type": "A", "name": "*.wild", "address": "192.0.2.1"},
    "CNAME with underscores": {
        "type": "CNAME",
        "name": "sel._domainkey",
        "cname": "sel._domainkey.example.net",
    },
    "TXT empty": {"type": "TXT", "txtdata": ""},
    "TTL the largest": {"type": "A", "ttl": "2147483647", "address": "192.0.2.1"},
    "CAA issue nobody": {"type": "CAA", "flag": "0", "tag": "issue", "value": ";"},
    "CAA iodef mailto": {
        "type": "CAA",
        "flag": "0",
        "tag": "iodef",
        "value": "mailto:security@example.net",
    },
    "CAA iodef URL": {
        "type": "CAA",
        "flag": "128",
        "tag": "iodef",
        "value": "https://ca.example.net/report",
    },
    "SRV the largest numbers": {
        "type": "SRV",
        "target": "sip.example.net",
        "port": "65535",
        "weight": "65535",
        "priority": "65535",
    },
}


@pytest.mark.parametrize("case", ACCEPTED)
def test_what_cpanels_checks_let_through_is_added(server: Server, case: str) -> None:
    z = Zone(server)
    fields = {"name": "ok", **ACCEPTED[case]}
    server.ok("addzonerecord", params={"domain": z.name, **fields})
    records = server.ok("dumpzone", params={"domain": z.name})["zone"][0]["record"]
    owner = f"{fields['name']}.{z.name}."
    assert [r["type"] for r in records if r.get("name") == owner] == [fields["type"]]


# -- mass edits: Cpanel::ZoneFile::LineEdit's words ------------------------------------------------

# id: (dname, ttl, the refusal; `{zone}` the zone's name)
MASS: dict[str, tuple[str, Any, str]] = {
    "@": ("@", 60, "Contains a malformed DNS label: @.{zone}."),
    "@ absolute": ("@.{zone}.", 60, "Contains a malformed DNS label: @.{zone}."),
    "a blank": ("bad name", 60, "Contains a malformed DNS label: bad name.{zone}."),
    "a wildcard not leftmost": ("a.*", 60, "Contains a malformed wildcard name: a.*.{zone}."),
    "a wildcard inside a label": ("*x", 60, "Contains a malformed wildcard name: *x.{zone}."),
    "TTL letters": ("ok", "x", "Time-To-Live (TTL) values must be positive integers, not “x”."),
    "TTL negative": ("ok", -5, "Time-To-Live (TTL) values must be positive integers, not “-5”."),
    "TTL a fraction": (
        "ok",
        1.5,
        "Time-To-Live (TTL) values must be positive integers, not “1.5”.",
    ),
}


def _mass_edit(z: Zone, face: str, item: dict[str, Any]) -> str:
    params = [("zone", z.name), ("serial", z.serial()), ("add", json.dumps(item))]
    if face == "WHM":
        return z.server.fail("mass_edit_dns_zone", params=params)
    response = z.server.cpanel_get(
        "/execute/DNS/mass_edit_zone", auth=f"cpanel {z.user}:{z.token}", params=params
    )
    body = response.json()
    assert response.status_code == 200 and body["status"] == 0, body
    return str(body["errors"][0])


@pytest.mark.parametrize("face", ["WHM", "UAPI"])
@pytest.mark.parametrize("case", MASS)
def test_a_mass_edit_refuses_a_bad_name_or_ttl_in_line_edits_words(
    zone: Zone, face: str, case: str
) -> None:
    dname, ttl, words = MASS[case]
    item = {"dname": dname.format(zone=zone.name), "ttl": ttl, "record_type": "TXT", "data": ["v"]}
    before = zone.text()
    assert _mass_edit(zone, face, item) == words.format(zone=zone.name)
    assert zone.text() == before


def test_a_mass_edit_adds_at_the_apex_by_its_name(server: Server, zone: Zone) -> None:
    """The apex is named as itself (`example.com.`), as cPanel's LineEdit writes it."""
    item = {"dname": f"{zone.name}.", "ttl": 60, "record_type": "TXT", "data": ["apex"]}
    params = [("zone", zone.name), ("serial", zone.serial()), ("add", json.dumps(item))]
    server.ok("mass_edit_dns_zone", params=params)
    assert zone.text().rstrip("\n").split("\n")[-1] == f'{zone.name}.\t60\tIN\tTXT\t"apex"'
