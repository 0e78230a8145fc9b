"""cPanel API 2 `ZoneEdit` over real HTTP on the cPanel face, on every backend: fetchzones,
fetchzone, fetchzone_records (and its filters), get_zone_record, add_zone_record,
edit_zone_record, remove_zone_record — and the exact call sequence of certbot-dns-cpanel,
which deletes every line fetchzone_records returns (docs/cpanel-dns.md)."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from acme_harness import Unavailable, certbot_venv
from conftest import Server
from zone_helpers import unstamped


@dataclass(frozen=True)
class Account:
    user: str
    password: str
    token: str

    @property
    def zone(self) -> str:
        return f"{self.user}.example.com"


def new_account(server: Server) -> Account:
    user, password = server.account()
    return Account(user, password, server.cpanel_token(user, password))


def api2(server: Server, acct: Account, func: str, **params: Any) -> httpx.Response:
    return server.api2(acct.user, "ZoneEdit", func, token=acct.token, **params)


def data(server: Server, acct: Account, func: str, **params: Any) -> list[dict[str, Any]]:
    """`cpanelresult.data` of a call that must succeed as a call."""
    response = api2(server, acct, func, **params)
    assert response.status_code == 200, response.text
    body = response.json()["cpanelresult"]
    assert body["event"]["result"] == 1, body
    assert isinstance(body["data"], list)
    return list(body["data"])


def result(server: Server, acct: Account, func: str, **params: Any) -> dict[str, Any]:
    """`data[0].result` of a write function (its own status inside)."""
    items = data(server, acct, func, **params)
    assert len(items) == 1
    return dict(items[0]["result"])


def records(server: Server, acct: Account, **filters: Any) -> list[dict[str, Any]]:
    return data(server, acct, "fetchzone_records", domain=acct.zone, **filters)


def zone_text(server: Server, zone: str) -> str:
    rows = server.sql("SELECT text FROM zones WHERE name = :n", n=zone)
    return unstamped(str(rows[0][0]))


def zone_serial(server: Server, zone: str) -> str:
    return str(server.sql("SELECT serial FROM zones WHERE name = :n", n=zone)[0][0])


def without_serial(server: Server, zone: str) -> str:
    return zone_text(server, zone).replace(zone_serial(server, zone), "SERIAL", 1)


def add_txt(server: Server, acct: Account, name: str, value: str, ttl: int = 60) -> dict[str, Any]:
    out = result(
        server, acct, "add_zone_record", domain=acct.zone, name=name, type="TXT",
        txtdata=value, ttl=ttl,
    )  # fmt: skip
    assert out["status"] == 1, out
    return out


# -- fetchzones ---------------------------------------------------------------------------------


def test_fetchzones_lists_the_accounts_zones_as_lines(server: Server) -> None:
    acct = new_account(server)
    extra = f"more-{acct.user}.example.org"
    server.ok("adddns", params={"domain": extra, "ip": "192.0.2.7", "trueowner": acct.user})
    other = new_account(server)
    response = api2(server, acct, "fetchzones")
    assert b'"status":1' in response.content
    item = response.json()["cpanelresult"]["data"][0]
    assert item["status"] == 1 and item["statusmsg"] == "Zones fetched"
    assert set(item["zones"]) == {acct.zone, extra}
    assert other.zone not in item["zones"]
    text = zone_text(server, acct.zone)
    assert unstamped("\n".join(item["zones"][acct.zone])) == text.rstrip("\n")


# acme.sh's dnsapi/dns_cpanel.sh `_get_root`: the zones are the keys whose first line is
# cPanel's version line (`_egrep_o '"[a-z0-9\.\-]*":\["; cPanel first'`).
ACME_SH_ZONES = re.compile(rb'"([a-z0-9.\-]*)":\["; cPanel first')


def test_fetchzones_answers_each_zone_as_acme_sh_finds_it(server: Server) -> None:
    acct = new_account(server)
    extra = f"more-{acct.user}.example.org"
    server.ok("adddns", params={"domain": extra, "ip": "192.0.2.7", "trueowner": acct.user})
    response = api2(server, acct, "fetchzones")
    found = {m.group(1).decode() for m in ACME_SH_ZONES.finditer(response.content)}
    assert found == {acct.zone, extra}


# -- fetchzone_records: items -----------------------------------------------------------------


def test_every_item_carries_line_and_Line_numbering_the_zone_file(server: Server) -> None:
    acct = new_account(server)
    lines = zone_text(server, acct.zone).split("\n")
    items = records(server, acct)
    assert [i["Line"] for i in items] == [n + 1 for n, text in enumerate(lines) if text.strip()]
    for item in items:
        assert item["line"] == item["Line"] and isinstance(item["line"], int)
        text = lines[item["Line"] - 1]
        if item["type"] == ":RAW":
            assert unstamped(item["raw"]) == text
        elif item["type"] == "$TTL":
            assert text.startswith("$TTL") and item["ttl"] == text.split()[1]
        else:
            assert item["name"].endswith(f"{acct.zone}.") and item["class"] == "IN"
            assert f"\t{item['type']}\t" in text and isinstance(item["ttl"], int)
            # Cpanel/Net/DNS/ZoneFile/LDNS.pm: only the SOA has `Lines`.
            assert ("Lines" in item) == (item["type"] == "SOA")
    soa = next(i for i in items if i.get("type") == "SOA")
    assert soa["serial"] == zone_serial(server, acct.zone) and soa["Lines"] == 1


# Cpanel/ZoneEdit.pm lines 55-56: `record` is `address || cname || txtdata`, else null.
RECORD_KEY_TABLE = [
    ("A", "address"),
    ("CNAME", "cname"),
    ("SOA", None),
    ("NS", None),
    ("MX", None),
    (":RAW", None),
    ("$TTL", None),
]


@pytest.mark.parametrize(("rtype", "field"), RECORD_KEY_TABLE)
def test_item_record_key_is_cpanels(server: Server, rtype: str, field: str | None) -> None:
    acct = new_account(server)
    found = [i for i in records(server, acct) if i["type"] == rtype]
    assert found
    for item in found:
        assert item["record"] == (None if field is None else item[field]), item


def test_an_added_txt_record_is_found_with_its_fields(server: Server) -> None:
    acct = new_account(server)
    add_txt(server, acct, "_acme-challenge", "token-value")
    [item] = records(server, acct, name=f"_acme-challenge.{acct.zone}.")
    assert item["type"] == "TXT" and item["txtdata"] == "token-value"
    assert item["record"] == "token-value" and item["ttl"] == 60
    assert zone_text(server, acct.zone).split("\n")[item["line"] - 1] == (
        '_acme-challenge\t60\tIN\tTXT\t"token-value"'
    )


# -- fetchzone_records: filters ------------------------------------------------------------------

# The records the filter table's zone holds beside the template's: (label, type, value, ttl),
# target names as cPanel's record hashes show them: absolute, without the final dot.
MINE = {
    ("_acme-challenge", "TXT", "alpha", 60),
    ("_acme-challenge", "TXT", "beta", 60),
    ("_acme-challenge", "TXT", "alpha", 300),
    ("other", "TXT", "alpha", 60),
    ("host", "A", "192.0.2.10", 60),
    ("host6", "AAAA", "2001:db8::1", 60),
    ("alias", "CNAME", "target.example.net", 60),
    ("mx2", "MX", "mail.example.net", 60),
}
ACME = {r for r in MINE if r[0] == "_acme-challenge"}
TXT = {r for r in MINE if r[1] == "TXT"}
MY_LABELS = {r[0] for r in MINE}


@pytest.fixture(scope="module")
def filter_zone(server: Server) -> Account:
    acct = new_account(server)
    for label, rtype, value, ttl in sorted(MINE):
        # Target names given without their trailing dot are absolute, as cPanel writes them.
        field = {"TXT": "txtdata", "A": "address", "AAAA": "address", "CNAME": "cname"}
        if rtype == "MX":
            # API 2 may not add MX records (cPanel's rule): root adds it through WHM.
            server.ok(
                "addzonerecord",
                params={"domain": acct.zone, "name": label, "type": "MX", "exchange": value,
                        "preference": "10", "ttl": str(ttl)},
            )  # fmt: skip
            continue
        params = {"name": label, "type": rtype, field[rtype]: value, "ttl": ttl}
        out = result(server, acct, "add_zone_record", domain=acct.zone, **params)
        assert out["status"] == 1, out
    return acct


def key(zone: str, item: dict[str, Any]) -> tuple[str, str, str, int] | str:
    """A record as (label, type, value, ttl); the template's records with value "*"; comments
    and control lines as their type."""
    if "name" not in item:
        return str(item["type"])
    label = item["name"].removesuffix(f"{zone}.").rstrip(".")
    value = item.get("txtdata") or item.get("address") or item.get("cname") or item.get("exchange")
    if label not in MY_LABELS:
        value = "*"
    return (label, item["type"], str(value), int(item["ttl"]))


def template(*wanted: tuple[str, str, int]) -> set[tuple[str, str, str, int]]:
    return {(label, rtype, "*", ttl) for label, rtype, ttl in wanted}


TEMPLATE_A = template(("", "A", 14400), ("localhost", "A", 14400), ("ftp", "A", 14400))
TEMPLATE_CNAME = template(("mail", "CNAME", 14400), ("www", "CNAME", 14400))


def by(*want: str, among: set[tuple[str, str, str, int]] = MINE) -> set[tuple[str, str, str, int]]:
    return {r for r in among if any(w in r for w in want)}


FQDN = "_acme-challenge.{zone}."
FILTER_TABLE: list[tuple[str, dict[str, str], set[Any]]] = [
    # name: exactly the item's (lower case, absolute, trailing dot), as cPanel compares it.
    ("name fqdn", {"name": FQDN}, ACME),
    ("name no dot", {"name": "_acme-challenge.{zone}"}, set()),
    ("name other case", {"name": "_ACME-Challenge.{zone}."}, set()),
    ("name relative", {"name": "_acme-challenge"}, set()),
    ("name unknown", {"name": "nosuch.{zone}."}, set()),
    ("name empty", {"name": ""}, set()),
    ("name alternatives", {"name": "host.{zone}.|host6.{zone}."}, by("host", "host6")),
    # type: case-insensitive; "|" and "," list alternatives.
    ("type", {"type": "TXT"}, TXT),
    ("type lower case", {"type": "txt"}, TXT),
    ("type alternatives |", {"type": "TXT|A"}, TXT | by("A") | TEMPLATE_A),
    ("type alternatives ,", {"type": "TXT,AAAA"}, TXT | by("AAAA")),
    ("type none", {"type": "SPF"}, set()),
    # txtdata: exactly, as one whole value.
    ("txtdata", {"txtdata": "alpha"}, by("alpha")),
    ("txtdata case", {"txtdata": "ALPHA"}, set()),
    ("txtdata is one value", {"txtdata": "alpha|beta"}, set()),
    # ttl, address, exchange, preference, class.
    ("ttl", {"ttl": "60"}, {r for r in MINE if r[3] == 60}),
    ("ttl other", {"ttl": "300"}, {("_acme-challenge", "TXT", "alpha", 300)}),
    ("ttl none", {"ttl": "7"}, set()),
    ("address v4", {"address": "192.0.2.10"}, by("host")),
    ("address v6 spelled long", {"address": "2001:0db8:0:0:0:0:0:1"}, by("host6")),
    ("exchange no dot", {"exchange": "mail.example.net"}, by("mx2")),
    ("exchange with dot", {"exchange": "mail.example.net."}, by("mx2")),
    ("preference", {"preference": "10"}, by("mx2")),
    ("preference template", {"preference": "0"}, template(("", "MX", 14400))),
    ("class other", {"class": "CH"}, set()),
    # Fields cPanel ignores are applied when given a value; empty, they are ignored.
    ("cname", {"cname": "target.example.net"}, by("alias")),
    ("cname empty ignored", {"type": "CNAME", "cname": ""}, by("alias") | TEMPLATE_CNAME),
    ("unknown key ignored", {"type": "TXT", "bogus": "1"}, TXT),
    # customonly leaves out the template's names and every nameless entry.
    ("customonly", {"customonly": "1"}, MINE),
    ("customonly and type", {"customonly": "1", "type": "TXT"}, TXT),
    # Combined: every filter applies (certbot-dns-cpanel's query first).
    (
        "certbot query",
        {"name": FQDN, "type": "TXT", "txtdata": "alpha", "ttl": "60"},
        {("_acme-challenge", "TXT", "alpha", 60)},
    ),
    (
        "name and txtdata",
        {"name": FQDN, "txtdata": "beta"},
        {("_acme-challenge", "TXT", "beta", 60)},
    ),
    ("name, txtdata, other ttl", {"name": FQDN, "txtdata": "beta", "ttl": "300"}, set()),
    ("name and other type", {"name": FQDN, "type": "A"}, set()),
    ("type and address", {"type": "A", "address": "192.0.2.10"}, by("host")),
    ("type and wrong address", {"type": "AAAA", "address": "192.0.2.10"}, set()),
]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [pytest.param(f, e, id=i) for i, f, e in FILTER_TABLE],
)
def test_fetchzone_records_applies_every_filter(
    server: Server, filter_zone: Account, filters: dict[str, str], expected: set[Any]
) -> None:
    zone = filter_zone.zone
    query = {k: v.format(zone=zone) for k, v in filters.items()}
    got = [key(zone, i) for i in records(server, filter_zone, **query)]
    assert len(got) == len(set(got)), got  # no item twice
    assert set(got) == expected


def test_filter_class_in_keeps_every_record_and_drops_comments(
    server: Server, filter_zone: Account
) -> None:
    everything = records(server, filter_zone)
    assert {i["type"] for i in everything} >= {":RAW", "$TTL", "SOA"}
    with_class = records(server, filter_zone, **{"class": "IN"})
    assert with_class == [i for i in everything if "name" in i]


def test_repeated_filter_keys_must_all_match(server: Server, filter_zone: Account) -> None:
    response = server.cpanel_get(
        "/json-api/cpanel",
        auth=f"cpanel {filter_zone.user}:{filter_zone.token}",
        params=[
            ("cpanel_jsonapi_apiversion", "2"),
            ("cpanel_jsonapi_module", "ZoneEdit"),
            ("cpanel_jsonapi_func", "fetchzone_records"),
            ("domain", filter_zone.zone),
            ("type", "TXT"),
            ("type", "A"),
        ],
    )
    assert response.json()["cpanelresult"]["data"] == []


@pytest.mark.parametrize("key_name", ["line", "Line"])
def test_line_filter_picks_one_record(server: Server, filter_zone: Account, key_name: str) -> None:
    zone = filter_zone.zone
    [beta] = records(server, filter_zone, name=f"_acme-challenge.{zone}.", txtdata="beta")
    assert records(server, filter_zone, **{key_name: str(beta["line"])}) == [beta]
    assert records(server, filter_zone, **{key_name: str(beta["line"]), "type": "A"}) == []
    assert records(server, filter_zone, **{key_name: "9999"}) == []


def test_get_zone_record_is_fetchzone_records(server: Server, filter_zone: Account) -> None:
    [host] = records(server, filter_zone, name=f"host.{filter_zone.zone}.")
    got = data(server, filter_zone, "get_zone_record", domain=filter_zone.zone, line=host["line"])
    assert got == [host]


def test_fetchzone_gives_records_and_serial(server: Server, filter_zone: Account) -> None:
    [item] = data(server, filter_zone, "fetchzone", domain=filter_zone.zone, type="AAAA")
    assert item["status"] == 1 and item["statusmsg"] == "Zone Serialized"
    assert item["serialnum"] == zone_serial(server, filter_zone.zone)
    assert [r["address"] for r in item["record"]] == ["2001:db8::1"]
    [refused] = data(server, filter_zone, "fetchzone", domain="nosuch.example.com")
    assert refused["status"] == 0 and "nosuch.example.com" in refused["statusmsg"]


# -- add_zone_record ------------------------------------------------------------------------------


# (name given, the item's name, the owner written on the zone-file line): cPanel saves through
# Cpanel::ZoneFile, which writes names in lower case and `X.zone.` as `X` (_collapse_name).
@pytest.mark.parametrize(
    ("name", "fqdn", "written"),
    [
        ("_acme-challenge", "_acme-challenge.{zone}.", "_acme-challenge"),
        ("_acme-challenge.sub", "_acme-challenge.sub.{zone}.", "_acme-challenge.sub"),
        ("deep.er.name", "deep.er.name.{zone}.", "deep.er.name"),
        ("abs.{zone}.", "abs.{zone}.", "abs"),
        ("_ACME-Challenge.{zone}.", "_acme-challenge.{zone}.", "_acme-challenge"),
        # Without its final dot a full name is relative too: cPanel writes it as given.
        ("nodot.{zone}", "nodot.{zone}.{zone}.", "nodot.{zone}"),
        ("*.wild", "*.wild.{zone}.", "*.wild"),
        ("{zone}.", "{zone}.", "{zone}."),
    ],
)
def test_add_zone_record_names(server: Server, name: str, fqdn: str, written: str) -> None:
    acct = new_account(server)
    value = secrets.token_urlsafe(16)
    add_txt(server, acct, name.format(zone=acct.zone), value)
    [item] = records(server, acct, txtdata=value)
    assert item["name"] == fqdn.format(zone=acct.zone)
    line = zone_text(server, acct.zone).split("\n")[item["line"] - 1]
    assert line == f'{written.format(zone=acct.zone)}\t60\tIN\tTXT\t"{value}"'


def test_add_zone_record_answers_status_and_newserial(server: Server) -> None:
    acct = new_account(server)
    before = zone_serial(server, acct.zone)
    response = api2(
        server, acct, "add_zone_record", domain=acct.zone, name="www2", type="A",
        address="192.0.2.44", ttl="120",
    )  # fmt: skip
    assert b'"status":1' in response.content
    body = response.json()["cpanelresult"]
    assert body["event"] == {"result": 1} and body["func"] == "add_zone_record"
    out = body["data"][0]["result"]
    assert out["newserial"] == zone_serial(server, acct.zone) and int(out["newserial"]) > int(
        before
    )
    assert acct.zone in out["statusmsg"]
    [item] = records(server, acct, name=f"www2.{acct.zone}.")
    assert (item["type"], item["address"], item["ttl"]) == ("A", "192.0.2.44", 120)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        # Whostmgr::DNS::sanitize_record's words (tests/test_dns_record_wordings.py has more).
        ({"type": "TXT", "txtdata": "v"}, "Invalid DNS record: Invalid name provided."),
        ({"name": "x", "type": "TXT"}, "Invalid DNS record: No value supplied for TXT record."),
        ({"name": "x", "txtdata": "v"}, "Missing parameter: type"),
        (
            {"name": "x", "type": "A", "address": "not-an-ip"},
            "Invalid DNS record: Supplied address for A record is invalid",
        ),
        (
            {"name": "x", "type": "AAAA", "address": "192.0.2.1"},
            "Invalid DNS record: Supplied address for AAAA record is invalid",
        ),
        ({"name": "x", "type": "MX", "exchange": "m.example.net", "preference": "1"}, "only add"),
        ({"name": "x", "type": "PTR", "ptrdname": "p.example.net"}, "only add"),
        (
            {"name": "x", "type": "TXT", "txtdata": "v", "ttl": "soon"},
            "Invalid DNS record: Bad TTL provided.",
        ),
        ({"name": "x", "type": "TXT", "txtdata": "v", "class": "CH"}, "IN"),
        (
            {"name": "out.example.org.", "type": "TXT", "txtdata": "v"},
            "out.example.org. is outside the current dns zone: ",
        ),
        (
            {"name": "bad name!", "type": "TXT", "txtdata": "v"},
            "Invalid DNS record: Invalid name provided.",
        ),
        ({"name": "@", "type": "TXT", "txtdata": "v"}, "Invalid DNS record: Invalid name provided"),
        ({"name": "www", "type": "TXT", "txtdata": "v"}, "CNAME"),  # www is a CNAME already
    ],
)
def test_add_zone_record_refusals_change_nothing(
    server: Server, params: dict[str, str], words: str
) -> None:
    acct = new_account(server)
    before = zone_text(server, acct.zone)
    response = api2(server, acct, "add_zone_record", domain=acct.zone, **params)
    assert b'"status":0' in response.content
    out = response.json()["cpanelresult"]["data"][0]["result"]
    assert out["status"] == 0 and out["newserial"] is None
    assert words in out["statusmsg"], out
    assert zone_text(server, acct.zone) == before


def test_a_long_txt_value_is_split_into_strings_and_read_back_whole(server: Server) -> None:
    acct = new_account(server)
    value = "v=DKIM1; k=rsa; p=" + "A" * 600
    add_txt(server, acct, "sel._domainkey", value, ttl=300)
    [item] = records(server, acct, txtdata=value)
    assert item["txtdata"] == value
    assert [len(s) for s in item["char_str_list"]] == [255, 255, len(value) - 510]
    assert zone_text(server, acct.zone).count('" "') == 2


# -- remove_zone_record ---------------------------------------------------------------------------


def test_remove_after_add_leaves_the_zone_byte_for_byte(server: Server) -> None:
    acct = new_account(server)
    before = without_serial(server, acct.zone)
    add_txt(server, acct, "_acme-challenge", "to-remove")
    [item] = records(server, acct, txtdata="to-remove")
    out = result(server, acct, "remove_zone_record", domain=acct.zone, line=item["line"])
    assert out["status"] == 1 and out["newserial"] == zone_serial(server, acct.zone)
    assert without_serial(server, acct.zone) == before
    assert records(server, acct, txtdata="to-remove") == []


@pytest.mark.parametrize("function", ["add_zone_record", "remove_zone_record"])
def test_add_and_remove_ignore_serialnum(server: Server, function: str) -> None:
    # zone.pm ADD and DELETE reach Whostmgr::DNS without a serial check (DELETE passes only
    # the domain and the line): a stale `serialnum` changes nothing, as in cPanel.
    acct = new_account(server)
    add_txt(server, acct, "gone", "x")
    [item] = records(server, acct, txtdata="x")
    params = (
        {"Line": item["Line"]}
        if function == "remove_zone_record"
        else {"name": "more", "type": "TXT", "txtdata": "y"}
    )
    out = result(server, acct, function, domain=acct.zone, serialnum="1", **params)
    assert out["status"] == 1, out
    assert len(records(server, acct, txtdata="x")) == (0 if function == "remove_zone_record" else 1)


def _line_of(server: Server, acct: Account, rtype: str) -> int:
    return int(next(i["line"] for i in records(server, acct) if i["type"] == rtype))


@pytest.mark.parametrize(
    ("line", "words"),
    [
        # zone.pm DELETE: what get_record finds (a comment, nothing) is refused by its type;
        # a line that reads as 0 (`abs int`) is no line.
        (lambda s, a: 1, "You may only delete A, AAAA, CAA, CNAME, NS, SRV or TXT records."),
        (lambda s, a: 9999, "You may only delete"),
        (lambda s, a: "x", "You must specify a valid line when you call DELETE: "),
        (lambda s, a: "=5", "You must specify a valid line when you call DELETE: "),
        (lambda s, a: "-9999", "You may only delete"),  # read as 9999
        (lambda s, a: 0, "You must specify a valid line when you call DELETE: "),
        (lambda s, a: _line_of(s, a, "SOA"), "only delete"),
        (lambda s, a: _line_of(s, a, "MX"), "only delete"),
    ],
    ids=[
        "comment",
        "past the end",
        "not a number",
        "no digits first",
        "negative",
        "zero",
        "SOA",
        "MX",
    ],
)
def test_remove_refusals_change_nothing(server: Server, line: Any, words: str) -> None:
    acct = new_account(server)
    before = zone_text(server, acct.zone)
    out = result(server, acct, "remove_zone_record", domain=acct.zone, line=line(server, acct))
    assert out["status"] == 0 and words in out["statusmsg"], out
    assert zone_text(server, acct.zone) == before


def test_removing_the_last_ns_record_fails_whole_zone_validation(server: Server) -> None:
    acct = new_account(server)
    ns = [i for i in records(server, acct, type="NS")]
    for item in sorted(ns, key=lambda i: -int(i["line"]))[:-1]:
        assert (
            result(server, acct, "remove_zone_record", domain=acct.zone, line=item["line"])[
                "status"
            ]
            == 1
        )
    before = zone_text(server, acct.zone)
    [last] = records(server, acct, type="NS")
    out = result(server, acct, "remove_zone_record", domain=acct.zone, line=last["line"])
    assert out["status"] == 0 and "NS" in out["statusmsg"], out
    assert zone_text(server, acct.zone) == before


# -- edit_zone_record -----------------------------------------------------------------------------


def test_edit_keeps_the_fields_not_given(server: Server) -> None:
    acct = new_account(server)
    add_txt(server, acct, "ed", "first", ttl=120)
    [item] = records(server, acct, txtdata="first")
    out = result(
        server, acct, "edit_zone_record", domain=acct.zone, line=item["line"], txtdata="second"
    )
    assert out["status"] == 1, out
    [edited] = records(server, acct, line=item["line"])
    assert (edited["name"], edited["ttl"], edited["txtdata"]) == (
        f"ed.{acct.zone}.",
        120,
        "second",
    )
    # The name kept is written relative, as cPanel writes it (not made absolute).
    line = zone_text(server, acct.zone).split("\n")[item["line"] - 1]
    assert line == 'ed\t120\tIN\tTXT\t"second"'


def test_edit_ttl_only_keeps_a_long_txt_records_strings(server: Server) -> None:
    acct = new_account(server)
    value = "k=" + "B" * 400
    add_txt(server, acct, "long", value)
    [item] = records(server, acct, txtdata=value)
    out = result(server, acct, "edit_zone_record", domain=acct.zone, Line=item["Line"], ttl="900")
    assert out["status"] == 1, out
    [edited] = records(server, acct, line=item["line"])
    assert edited["ttl"] == 900 and edited["char_str_list"] == item["char_str_list"]


def test_edit_changes_type_and_name(server: Server) -> None:
    acct = new_account(server)
    add_txt(server, acct, "was-txt", "x")
    [item] = records(server, acct, txtdata="x")
    out = result(
        server, acct, "edit_zone_record", domain=acct.zone, line=item["line"], name="now-a",
        type="A", address="192.0.2.55",
    )  # fmt: skip
    assert out["status"] == 1, out
    [edited] = records(server, acct, line=item["line"])
    assert (edited["name"], edited["type"], edited["address"]) == (
        f"now-a.{acct.zone}.",
        "A",
        "192.0.2.55",
    )


@pytest.mark.parametrize(
    "written",
    ["{n}={old}", " {n}", "+{n}", "{n}.0", "{n}abc", "-{n}"],
    ids=["line=address", "space", "plus", "decimal", "trailing letters", "negative: abs"],
)
def test_a_line_is_read_as_cpanel_reads_a_number(server: Server, written: str) -> None:
    """cPanel (Perl) reads a number's leading digits: its own Dynamic DNS script
    (CpanelInc/cpanel-dynamic-dns) sends `Line=13=192.0.2.1`, the line and the old address."""
    acct = new_account(server)
    out = result(
        server, acct, "add_zone_record", domain=acct.zone, name="dyn", type="A",
        address="192.0.2.1", ttl="300",
    )  # fmt: skip
    assert out["status"] == 1, out
    [item] = [i for i in records(server, acct) if i.get("name") == f"dyn.{acct.zone}."]
    line = written.format(n=item["Line"], old=item["address"])
    out = result(
        server, acct, "edit_zone_record", Line=line, domain=acct.zone, name="dyn", type="A",
        address="192.0.2.2", ttl="300",
    )  # fmt: skip
    assert out["status"] == 1 and out["newserial"], out
    [edited] = records(server, acct, line=item["line"])
    assert (edited["name"], edited["address"]) == (f"dyn.{acct.zone}.", "192.0.2.2")


@pytest.mark.parametrize(
    ("line", "words"),
    [
        # zone.pm EDIT: the line read as `x && abs int x`, then what get_record finds on it.
        ("0", "You must specify a valid line when you call EDIT."),
        ("x", "You must specify a valid line when you call EDIT."),
        ("1", "You may only edit A, AAAA, CAA, CNAME, SRV or TXT records."),  # a comment
        ("9999", "Failed to fetch record on line: 9999"),
    ],
    ids=["zero", "no number", "a comment", "past the end"],
)
def test_edit_of_a_line_without_a_record_is_refused(server: Server, line: str, words: str) -> None:
    acct = new_account(server)
    before = zone_text(server, acct.zone)
    out = result(server, acct, "edit_zone_record", domain=acct.zone, Line=line, ttl="60")
    assert (out["status"], out["statusmsg"]) == (0, words)
    assert zone_text(server, acct.zone) == before


@pytest.mark.parametrize(
    ("target", "params", "words"),
    [
        ("NS", {"ttl": "60"}, "only edit"),
        ("SOA", {"ttl": "60"}, "only edit"),
        ("TXT", {"type": "NS", "nsdname": "ns9.example.net"}, "only edit"),
        ("TXT", {"type": "A", "address": "nope"}, "Supplied address for A record is invalid"),
        ("TXT", {"serialnum": "1", "txtdata": "y"}, "changed since last read"),
        ("TXT", {"name": "x.example.org.", "txtdata": "y"}, "is outside the current dns zone"),
        ("TXT", {"name": "@", "txtdata": "y"}, "Invalid DNS record: Invalid name provided."),
    ],
)
def test_edit_refusals_change_nothing(
    server: Server, target: str, params: dict[str, str], words: str
) -> None:
    acct = new_account(server)
    add_txt(server, acct, "keep", "x")
    line = _line_of(server, acct, target)
    before = zone_text(server, acct.zone)
    out = result(server, acct, "edit_zone_record", domain=acct.zone, line=line, **params)
    assert out["status"] == 0 and words in out["statusmsg"], out
    assert zone_text(server, acct.zone) == before


# -- ownership ------------------------------------------------------------------------------------


def test_another_accounts_zone_is_refused_as_a_missing_one(server: Server) -> None:
    acct, other = new_account(server), new_account(server)
    before = zone_text(server, other.zone)
    missing = "nosuch-" + uuid.uuid4().hex[:8] + ".example.com"
    [line] = [i["line"] for i in records(server, other, type="A") if i["name"].startswith("ftp.")]

    def error(zone: str) -> str:
        body = api2(server, acct, "fetchzone_records", domain=zone).json()["cpanelresult"]
        assert body["event"]["result"] == 0 and body["data"] == []
        return str(body["error"])

    assert error(other.zone).replace(other.zone, "Z") == error(missing).replace(missing, "Z")
    assert "permission" in error(other.zone)
    for zone in (other.zone, missing):
        for func, params in [
            ("add_zone_record", {"name": "x", "type": "TXT", "txtdata": "v"}),
            ("edit_zone_record", {"line": line, "txtdata": "v"}),
            ("remove_zone_record", {"line": line}),
        ]:
            out = result(server, acct, func, domain=zone, **params)
            assert out["status"] == 0 and out["statusmsg"] == error(zone), out
    assert zone_text(server, other.zone) == before


def test_missing_domain_is_refused(server: Server) -> None:
    acct = new_account(server)
    body = api2(server, acct, "fetchzone_records").json()["cpanelresult"]
    assert body["error"] == "Missing parameter: domain"
    out = result(server, acct, "add_zone_record", name="x", type="TXT", txtdata="v")
    assert out == {"newserial": None, "status": 0, "statusmsg": "Missing parameter: domain"}


# -- the audit trail ------------------------------------------------------------------------------


def test_each_change_is_audited_with_the_account_and_token(server: Server) -> None:
    acct = new_account(server)
    token_name = f"audit-{uuid.uuid4().hex[:8]}"
    token = server.cpanel_token(acct.user, acct.password, name=token_name)
    named = Account(acct.user, acct.password, token)
    add_txt(server, named, "aud", "x")
    [item] = records(server, named, txtdata="x")
    result(server, named, "remove_zone_record", domain=acct.zone, line=item["line"])
    rows = server.sql(
        "SELECT action, actor, subject, detail FROM audit_log "
        "WHERE token_name = :t AND action <> 'CREATEAPITOKEN' ORDER BY id",
        t=token_name,
    )
    assert [(r[0], r[1], r[2]) for r in rows] == [("EDITDNSZONE", acct.user, acct.zone)] * 2
    assert "1 added (ZoneEdit::add_zone_record)" in rows[0][3]
    assert "1 removed (ZoneEdit::remove_zone_record)" in rows[1][3]


# -- certbot-dns-cpanel, replayed -------------------------------------------------------------


class CertbotClient:
    """The requests certbot_dns_cpanel 0.4.0's _CPanelClient sends, byte for byte: GET
    <url>/json-api/cpanel?<urlencode(data)> with its Authorization header."""

    def __init__(self, url: str, username: str, password: str | None, token: str | None) -> None:
        self.request_url = f"{url}/json-api/cpanel"
        self.data = {"cpanel_jsonapi_user": username, "cpanel_jsonapi_apiversion": "2"}
        if token:
            self.headers = {"Authorization": f"cpanel {username}:{token}"}
        else:
            basic = base64.b64encode(f"{username}:{password}".encode()).decode("utf8")
            self.headers = {"Authorization": f"Basic {basic}"}
        self.calls: list[str] = []

    def _get(self, data: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(str(data["cpanel_jsonapi_func"]))
        response = httpx.get(
            f"{self.request_url}?{urlencode(data)}", headers=self.headers, timeout=30
        )
        assert response.status_code == 200, response.text
        return dict(json.loads(response.content)["cpanelresult"])

    def _get_zone_and_name(self, record_domain: str) -> tuple[str, str]:
        data = {
            **self.data,
            "cpanel_jsonapi_module": "ZoneEdit",
            "cpanel_jsonapi_func": "fetchzones",
        }
        response_data = self._get(data)
        matching = {
            zone
            for zone in response_data["data"][0]["zones"]
            if record_domain == zone or record_domain.endswith("." + zone)
        }
        assert matching, "Could not get the zone"
        zone = max(matching, key=len)
        return zone, record_domain[: -len(zone) - 1]

    def add_txt_record(self, record_name: str, content: str, ttl: int = 60) -> None:
        zone, name = self._get_zone_and_name(record_name)
        data = {
            **self.data, "cpanel_jsonapi_module": "ZoneEdit",
            "cpanel_jsonapi_func": "add_zone_record", "domain": zone, "name": name,
            "type": "TXT", "txtdata": content, "ttl": ttl,
        }  # fmt: skip
        response_data = self._get(data)
        assert response_data["data"][0]["result"]["status"] == 1, response_data["data"][0]

    def _get_record_line(self, zone: str, name: str, content: str, ttl: int) -> list[int]:
        data = {
            **self.data, "cpanel_jsonapi_module": "ZoneEdit",
            "cpanel_jsonapi_func": "fetchzone_records", "domain": zone,
            "name": name + "." if not name.endswith(".") else "",
            "type": "TXT", "txtdata": content, "ttl": ttl,
        }  # fmt: skip
        return [int(d["line"]) for d in self._get(data)["data"]]

    def del_txt_record(self, record_name: str, content: str, ttl: int = 60) -> list[int]:
        zone, _ = self._get_zone_and_name(record_name)
        lines = self._get_record_line(zone, record_name, content, ttl)
        data: dict[str, Any] = {
            **self.data, "cpanel_jsonapi_module": "ZoneEdit",
            "cpanel_jsonapi_func": "remove_zone_record", "domain": zone,
        }  # fmt: skip
        lines.sort(reverse=True)
        for line in lines:
            data["line"] = line
            result = self._get(data)["data"][0]["result"]
            assert result["status"] == 1, result["statusmsg"]
        return lines


@pytest.mark.parametrize("auth", ["token", "password"])
def test_certbot_dns_cpanel_sequence_leaves_the_zone_as_it_was(server: Server, auth: str) -> None:
    acct = new_account(server)
    # A TXT at the challenge name that is NOT ours: its value differs, so it must survive.
    add_txt(server, acct, "_acme-challenge", "someone-elses")
    before = without_serial(server, acct.zone)
    client = CertbotClient(
        server.cpanel_url,
        acct.user,
        acct.password if auth == "password" else None,
        acct.token if auth == "token" else None,
    )
    record = f"_acme-challenge.{acct.zone}"
    values = [secrets.token_urlsafe(32), secrets.token_urlsafe(32)]  # a wildcard + apex order
    for value in values:
        client.add_txt_record(record, value)
    found = records(server, acct, name=f"{record}.", type="TXT")
    assert sorted(i["txtdata"] for i in found) == sorted([*values, "someone-elses"])
    removed = [client.del_txt_record(record, value) for value in values]
    assert [len(lines) for lines in removed] == [1, 1]
    assert client.calls == [
        "fetchzones", "add_zone_record", "fetchzones", "add_zone_record",
        "fetchzones", "fetchzone_records", "remove_zone_record",
        "fetchzones", "fetchzone_records", "remove_zone_record",
    ]  # fmt: skip
    assert without_serial(server, acct.zone) == before


def test_certbot_cleanup_of_duplicate_values_removes_each_highest_first(server: Server) -> None:
    acct = new_account(server)
    before = without_serial(server, acct.zone)
    client = CertbotClient(server.cpanel_url, acct.user, None, acct.token)
    record = f"_acme-challenge.sub.{acct.zone}"
    value = secrets.token_urlsafe(32)
    client.add_txt_record(record, value)
    client.add_txt_record(record, value)  # a retried run adds the same value twice
    lines = client.del_txt_record(record, value)
    assert len(lines) == 2 and lines[0] > lines[1]
    assert without_serial(server, acct.zone) == before


# The real plugin (certbot-dns-cpanel, pinned) in the virtualenv the ACME tests use
# (tests/acme_harness.py makes `.cache/certbot-venv` from PyPI once, then reuses it): its
# _CPanelClient, unmodified, against the server.
CERTBOT_SCRIPT = """
import sys
from certbot_dns_cpanel.dns_cpanel import _CPanelClient
action, url, user, token, record, *values = sys.argv[1:]
client = _CPanelClient(url, user, None, token)
for value in values:
    getattr(client, action)(record, value)
"""


@pytest.fixture(scope="session")
def certbot_python() -> Path:
    """The python of the certbot virtualenv; where PyPI cannot be reached the test skips, or
    fails when CI=true (as tests/test_acme_certbot.py does)."""
    try:
        return certbot_venv().parent / "python"
    except Unavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the real certbot-dns-cpanel client: {exc}")
        pytest.skip(str(exc))


def run_certbot_client(python: Path, action: str, *args: str) -> None:
    done = subprocess.run(
        [str(python), "-c", CERTBOT_SCRIPT, action, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_real_certbot_dns_cpanel_client_adds_and_cleans_up(
    server: Server, certbot_python: Path
) -> None:
    acct = new_account(server)
    before = without_serial(server, acct.zone)
    record = f"_acme-challenge.{acct.zone}"
    values = [secrets.token_urlsafe(32), secrets.token_urlsafe(32)]
    common = (server.cpanel_url, acct.user, acct.token, record)
    run_certbot_client(certbot_python, "add_txt_record", *common, *values)
    found = records(server, acct, name=f"{record}.", type="TXT", ttl="60")
    assert sorted(i["txtdata"] for i in found) == sorted(values)
    run_certbot_client(certbot_python, "del_txt_record", *common, *values)
    assert without_serial(server, acct.zone) == before


# -- through WHM's `cpanel` function ----------------------------------------------------------


def test_root_reaches_zoneedit_through_whm_cpanel_function(server: Server) -> None:
    acct = new_account(server)
    base = {
        "cpanel_jsonapi_user": acct.user,
        "cpanel_jsonapi_apiversion": "2",
        "cpanel_jsonapi_module": "ZoneEdit",
    }
    added = server.get(
        "cpanel",
        params={**base, "cpanel_jsonapi_func": "add_zone_record", "domain": acct.zone,
                "name": "_acme-challenge", "type": "TXT", "txtdata": "via-whm", "ttl": "60"},
    )  # fmt: skip
    assert b'"status":1' in added.content, added.text
    fetched = server.get(
        "cpanel",
        params={**base, "cpanel_jsonapi_func": "fetchzone_records", "domain": acct.zone,
                "txtdata": "via-whm"},
    ).json()  # fmt: skip
    [item] = fetched["cpanelresult"]["data"]
    assert item["name"] == f"_acme-challenge.{acct.zone}." and item["line"] == item["Line"]
