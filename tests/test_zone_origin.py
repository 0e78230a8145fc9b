"""`$ORIGIN` lines in a zone: the owners (and the relative names in record data) that follow are
read under the origin they set, as BIND reads them (RFC 1035 5.1) and cPanel's parser does
(libldns through Cpanel::ZoneFile::Parse and Cpanel::Net::DNS::ZoneFile::LDNS) — in dumpzone,
API 2's fetchzone_records, parse_dns_zone and UAPI DNS::parse_zone, lookupnsip(s) and the
nameserver's answers; and a record written where such an origin is in force is written with
absolute names, so that it means what the caller meant. Real HTTP on both stores; the zone
text with `$ORIGIN` lines is put in the store directly (no API writes directives)."""

from __future__ import annotations

import base64
import json
from typing import Any

import dns.message
import dns.query
import pytest

from conftest import Server

# Appended to an account's zone `Z` (the template's records first). The relative `$ORIGIN`
# is relative to the one in force (BIND's reading): `deeper` is deeper.sub.<zone>.
ORIGIN_TEXT = """$ORIGIN sub.{zone}.
www\t300\tIN\tA\t192.0.2.80
@\t300\tIN\tTXT\t"at sub"
alias\t300\tIN\tCNAME\twww
mx\t300\tIN\tMX\t10 mail
\t300\tIN\tTXT\t"mx again"
$ORIGIN deeper
rel\t300\tIN\tA\t192.0.2.82
$ORIGIN {zone}.
back\t300\tIN\tA\t192.0.2.81
"""
# (name, type, the field dumpzone shows, its value): `{zone}` the zone's name.
READ: list[tuple[str, str, str, str]] = [
    ("www.sub.{zone}.", "A", "address", "192.0.2.80"),
    ("sub.{zone}.", "TXT", "txtdata", "at sub"),
    ("alias.sub.{zone}.", "CNAME", "cname", "www.sub.{zone}"),
    ("mx.sub.{zone}.", "MX", "exchange", "mail.sub.{zone}"),
    ("mx.sub.{zone}.", "TXT", "txtdata", "mx again"),
    ("rel.deeper.sub.{zone}.", "A", "address", "192.0.2.82"),
    ("back.{zone}.", "A", "address", "192.0.2.81"),
]


def _with_text(server: Server, zone: str, extra: str) -> None:
    ((text, serial),) = server.sql("SELECT text, serial FROM zones WHERE name = :n", n=zone)
    server.sql(
        "UPDATE zones SET text = :t, serial = :s WHERE name = :n",
        t=text + extra.format(zone=zone),
        s=serial + 1,
        n=zone,
    )


class Account:
    def __init__(self, server: Server, extra: str = ORIGIN_TEXT) -> None:
        self.server = server
        self.user, password = server.account()
        self.token = server.cpanel_token(self.user, password)
        self.zone = f"{self.user}.example.com"
        _with_text(server, self.zone, extra)

    def dumpzone(self) -> list[dict[str, Any]]:
        return list(self.server.ok("dumpzone", params={"domain": self.zone})["zone"][0]["record"])

    def api2(self, func: str, **params: Any) -> Any:
        response = self.server.api2(self.user, "ZoneEdit", func, token=self.token, **params)
        body = response.json()["cpanelresult"]
        assert body["event"]["result"] == 1, body
        return body["data"]


@pytest.fixture(scope="module")
def account(server: Server) -> Account:
    return Account(server)


def _found(items: list[dict[str, Any]], name: str, rtype: str) -> list[dict[str, Any]]:
    return [i for i in items if i.get("name") == name and i.get("type") == rtype]


@pytest.mark.parametrize(("name", "rtype", "field", "value"), READ)
def test_dumpzone_reads_owners_and_targets_under_the_origin(
    account: Account, name: str, rtype: str, field: str, value: str
) -> None:
    [item] = _found(account.dumpzone(), name.format(zone=account.zone), rtype)
    assert item[field] == value.format(zone=account.zone)


@pytest.mark.parametrize(("name", "rtype", "field", "value"), READ)
def test_api2_fetchzone_records_finds_them_by_their_names(
    account: Account, name: str, rtype: str, field: str, value: str
) -> None:
    full = name.format(zone=account.zone)
    items = account.api2("fetchzone_records", domain=account.zone, name=full, type=rtype)
    assert [i[field] for i in items] == [value.format(zone=account.zone)]


def test_no_record_is_read_under_the_zone_by_mistake(account: Account) -> None:
    """Without `$ORIGIN` applied, `www` would be read as the template's www (a CNAME) and
    `rel` and `alias` under the zone itself."""
    names = {i.get("name") for i in account.dumpzone()}
    for wrong in ("rel", "alias", "mx", "rel.deeper", "www.sub.sub"):
        assert f"{wrong}.{account.zone}." not in names


def _unb64(value: str) -> str:
    return base64.b64decode(value).decode()


# (dname as Cpanel::ZoneFile::Parse gives it, type, its data)
PARSED: list[tuple[str, str, list[str]]] = [
    ("www.sub", "A", ["192.0.2.80"]),
    ("sub", "TXT", ["at sub"]),
    ("alias.sub", "CNAME", ["www.sub.{zone}."]),
    ("mx.sub", "MX", ["10", "mail.sub.{zone}."]),
    ("rel.deeper.sub", "A", ["192.0.2.82"]),
    ("back", "A", ["192.0.2.81"]),
]


@pytest.mark.parametrize("face", ["WHM parse_dns_zone", "UAPI DNS::parse_zone"])
def test_parse_dns_zone_gives_the_names_under_the_origin(account: Account, face: str) -> None:
    if face.startswith("WHM"):
        payload = account.server.ok("parse_dns_zone", params={"zone": account.zone})["payload"]
    else:
        response = account.server.uapi(
            account.user, "DNS", "parse_zone", token=account.token, zone=account.zone
        )
        payload = response.json()["data"]
    got = [
        (_unb64(i["dname_b64"]), i["record_type"], [_unb64(d) for d in i["data_b64"]])
        for i in payload
        if i["type"] == "record"
    ]
    for dname, rtype, data in PARSED:
        assert (dname, rtype, [d.format(zone=account.zone) for d in data]) in got
    controls = [_unb64(i["text_b64"]) for i in payload if i["type"] == "control"]
    assert controls[-3:] == [
        f"$ORIGIN sub.{account.zone}.",
        "$ORIGIN deeper",
        f"$ORIGIN {account.zone}.",
    ]


def _answer(acct: Account, name: str, rtype: str) -> set[str]:
    """The nameserver's answer to `name` `rtype`, as text."""
    query = dns.message.make_query(name, rtype)
    query.flags = 0
    response = dns.query.udp(query, "127.0.0.1", port=acct.server.dns_port, timeout=5)
    return {rd.to_text() for rrset in response.answer for rd in rrset}


@pytest.mark.parametrize(
    ("name", "expected"),
    [("www.sub", "192.0.2.80"), ("rel.deeper.sub", "192.0.2.82"), ("back", "192.0.2.81")],
)
def test_the_nameserver_answers_the_names_under_the_origin(
    account: Account, name: str, expected: str
) -> None:
    assert _answer(account, f"{name}.{account.zone}", "A") == {expected}


@pytest.mark.parametrize("function", ["lookupnsip", "lookupnsips"])
def test_lookupnsip_finds_a_nameserver_under_the_origin(account: Account, function: str) -> None:
    data = account.server.ok(function, params={"host": f"www.sub.{account.zone}"})
    assert "192.0.2.80" in data.values()


# -- writing where another origin is in force ---------------------------------------------------

# The zone ends under `$ORIGIN sub.<zone>.`: what is appended is read under it.
ENDS_UNDER_SUB = "$ORIGIN sub.{zone}.\nwww\t300\tIN\tA\t192.0.2.80\n"


def _added_by(acct: Account, how: str) -> None:
    if how == "WHM mass_edit_dns_zone":
        item = {"dname": "new", "ttl": 300, "record_type": "CNAME", "data": ["target"]}
        serial = str(acct.server.sql("SELECT serial FROM zones WHERE name = :n", n=acct.zone)[0][0])
        pairs = [("zone", acct.zone), ("serial", serial), ("add", json.dumps(item))]
        acct.server.ok("mass_edit_dns_zone", params=pairs)
    elif how == "WHM addzonerecord":
        params = {"domain": acct.zone, "name": "new", "type": "CNAME", "cname": "t.example.net"}
        acct.server.ok("addzonerecord", params=params)
    else:
        [item] = acct.api2(
            "add_zone_record", domain=acct.zone, name="new", type="CNAME", cname="t.example.net"
        )
        assert item["result"]["status"] == 1, item


@pytest.mark.parametrize(
    ("how", "target"),
    [
        # A mass edit's data is written as given: `target` relative to the zone.
        ("WHM mass_edit_dns_zone", "target.{zone}"),
        # The one-record functions write targets absolute, as cPanel does.
        ("WHM addzonerecord", "t.example.net"),
        ("API 2 add_zone_record", "t.example.net"),
    ],
)
def test_an_addition_after_another_origin_lands_under_the_zone(
    server: Server, how: str, target: str
) -> None:
    acct = Account(server, ENDS_UNDER_SUB)
    _added_by(acct, how)
    [item] = _found(acct.dumpzone(), f"new.{acct.zone}.", "CNAME")
    assert item["cname"] == target.format(zone=acct.zone)
    assert not _found(acct.dumpzone(), f"new.sub.{acct.zone}.", "CNAME")
    # And so it is served (the nameserver reads the text as BIND does).
    assert _answer(acct, f"new.{acct.zone}", "CNAME") == {target.format(zone=acct.zone) + "."}
    assert _answer(acct, f"new.sub.{acct.zone}", "CNAME") == set()


@pytest.mark.parametrize("how", ["WHM editzonerecord", "API 2 edit_zone_record"])
def test_an_edit_under_another_origin_keeps_the_records_name(server: Server, how: str) -> None:
    acct = Account(server, ENDS_UNDER_SUB)
    [www] = _found(acct.dumpzone(), f"www.sub.{acct.zone}.", "A")
    if how.startswith("WHM"):
        params = {"domain": acct.zone, "Line": www["Line"], "address": "192.0.2.99"}
        acct.server.ok("editzonerecord", params=params)
    else:
        [item] = acct.api2(
            "edit_zone_record", domain=acct.zone, Line=www["Line"], address="192.0.2.99"
        )
        assert item["result"]["status"] == 1, item
    [edited] = _found(acct.dumpzone(), f"www.sub.{acct.zone}.", "A")
    assert (edited["Line"], edited["address"]) == (www["Line"], "192.0.2.99")
    assert not _found(acct.dumpzone(), f"www.sub.sub.{acct.zone}.", "A")
    assert _answer(acct, f"www.sub.{acct.zone}", "A") == {"192.0.2.99"}
