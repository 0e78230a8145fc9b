"""UAPI `DNS::parse_zone` and `DNS::mass_edit_zone` over real HTTP on the cPanel face, on every
backend: the account-side twins of WHM's parse_dns_zone and mass_edit_dns_zone, as lego's
cPanel mode and acme.sh's dns_cpanel_uapi call them (docs/cpanel-dns.md)."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

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


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def unb64(text: str) -> str:
    return base64.b64decode(text).decode()


def uapi(server: Server, acct: Account, func: str, params: Any = None) -> httpx.Response:
    """GET /execute/DNS/FUNC as the account's token; `params` a dict or a list of pairs."""
    return server.cpanel_get(
        f"/execute/DNS/{func}", auth=f"cpanel {acct.user}:{acct.token}", params=params
    )


def ok(server: Server, acct: Account, func: str, params: Any = None) -> Any:
    response = uapi(server, acct, func, params)
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["status"] == 1 and result["errors"] is None, result
    return result["data"]


def fail(server: Server, acct: Account, func: str, params: Any = None) -> dict[str, Any]:
    """The result object of a call that must fail on HTTP 200."""
    response = uapi(server, acct, func, params)
    assert response.status_code == 200, response.text
    result = dict(response.json())
    assert result["status"] == 0 and len(result["errors"]) == 1, result
    return result


def parse(server: Server, acct: Account) -> list[dict[str, Any]]:
    return list(ok(server, acct, "parse_zone", {"zone": acct.zone}))


def serial_of(payload: list[dict[str, Any]], zone: str) -> str:
    soa = next(
        i
        for i in payload
        if i["type"] == "record" and i["record_type"] == "SOA" and i["dname_b64"] == b64(f"{zone}.")
    )
    return unb64(soa["data_b64"][2])


def records(payload: list[dict[str, Any]]) -> list[tuple[str, str, list[str], int]]:
    return [
        (
            unb64(i["dname_b64"]),
            i["record_type"],
            [unb64(d) for d in i["data_b64"]],
            i["line_index"],
        )
        for i in payload
        if i["type"] == "record"
    ]


def zone_text(server: Server, zone: str) -> str:
    return unstamped(str(server.sql("SELECT text FROM zones WHERE name = :n", n=zone)[0][0]))


def edit(
    server: Server, acct: Account, serial: str, *ops: tuple[str, Any], zone: str | None = None
) -> httpx.Response:
    query: list[tuple[str, str]] = [("zone", zone or acct.zone), ("serial", serial)]
    for op, value in ops:
        query.append((op, value if isinstance(value, str) else json.dumps(value)))
    return uapi(server, acct, "mass_edit_zone", query)


def new_serial(server: Server, acct: Account, serial: str, *ops: tuple[str, Any]) -> str:
    """Apply a mass edit that must succeed; its `new_serial`."""
    result = edit(server, acct, serial, *ops).json()
    assert result["status"] == 1, result
    return str(result["data"]["new_serial"])


def txt(dname: str, value: str, ttl: int = 60) -> tuple[str, dict[str, Any]]:
    return ("add", {"dname": dname, "ttl": ttl, "record_type": "TXT", "data": [value]})


# -- parse_zone ------------------------------------------------------------------------------


def test_parse_zone_gives_the_items_whm_parse_dns_zone_gives(server: Server) -> None:
    acct = new_account(server)
    response = uapi(server, acct, "parse_zone", {"zone": acct.zone})
    assert b'"line_index":0' in response.content and b'"status":1' in response.content
    body = response.json()
    # /execute/ answers with UAPI's flat result object.
    assert set(body) == {"data", "errors", "messages", "metadata", "status", "warnings"}
    assert body["metadata"] == {"transformed": 1}
    whm = server.ok("parse_dns_zone", params={"zone": acct.zone})["payload"]
    assert body["data"] == whm
    soa = next(i for i in whm if i.get("record_type") == "SOA")
    assert len(soa["data_b64"]) == 7 and soa["dname_b64"] == b64(f"{acct.zone}.")


@pytest.mark.parametrize("spelling", ["{zone}.", "{ZONE}"])
def test_parse_zone_accepts_the_zone_with_a_dot_or_in_capitals(
    server: Server, spelling: str
) -> None:
    acct = new_account(server)
    name = spelling.format(zone=acct.zone, ZONE=acct.zone.upper())
    assert ok(server, acct, "parse_zone", {"zone": name}) == parse(server, acct)


def test_parse_zone_refuses_another_accounts_zone_as_a_missing_one(server: Server) -> None:
    acct, other = new_account(server), new_account(server)
    missing = f"nosuch-{uuid.uuid4().hex[:8]}.example.com"
    theirs = fail(server, acct, "parse_zone", {"zone": other.zone})["errors"][0]
    absent = fail(server, acct, "parse_zone", {"zone": missing})["errors"][0]
    assert theirs == f"You do not control a DNS zone named “{other.zone}”."
    assert theirs.replace(other.zone, "Z") == absent.replace(missing, "Z")


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ({}, "Provide the “zone” argument."),
        ({"zone": ""}, "The “zone” argument cannot be empty."),
        ({"zone": "  "}, "The “zone” argument cannot be empty."),
    ],
)
def test_parse_zone_needs_a_zone(server: Server, given: dict[str, str], reason: str) -> None:
    """Cpanel::Args' refusals, as every UAPI function's required argument."""
    acct = new_account(server)
    assert fail(server, acct, "parse_zone", given)["errors"] == [reason]


# -- mass_edit_zone --------------------------------------------------------------------------


def test_mass_edit_zone_adds_with_relative_and_absolute_names(server: Server) -> None:
    acct = new_account(server)
    serial = serial_of(parse(server, acct), acct.zone)
    response = edit(
        server,
        acct,
        serial,
        txt("_acme-challenge", "rel"),
        txt(f"_acme-challenge.sub.{acct.zone}.", "abs"),
        ("add", {"dname": "mx9", "ttl": 300, "record_type": "MX", "data": ["5", "m.example.net."]}),
    )
    answered = response.json()["data"]["new_serial"]
    assert response.json()["metadata"] == {"transformed": 1}  # as lego's recorded fixture
    assert isinstance(answered, str) and int(answered) > int(serial)
    assert f'"new_serial":"{answered}"'.encode() in response.content
    payload = parse(server, acct)
    assert serial_of(payload, acct.zone) == answered
    found = {(name, rtype, tuple(data)) for name, rtype, data, _line in records(payload)}
    assert ("_acme-challenge", "TXT", ("rel",)) in found
    # Cpanel::ZoneFile::Parse gives owners under the zone relative, however written.
    assert ("_acme-challenge.sub", "TXT", ("abs",)) in found
    assert ("mx9", "MX", ("5", "m.example.net.")) in found


def test_mass_edit_zone_edits_and_removes_by_line_index(server: Server) -> None:
    acct = new_account(server)
    serial = serial_of(parse(server, acct), acct.zone)
    serial2 = new_serial(server, acct, serial, txt("a", "1"), txt("b", "2"))
    lines = {name: line for name, rtype, _d, line in records(parse(server, acct)) if rtype == "TXT"}
    changed = {"line_index": lines["a"], "dname": "a", "ttl": 90, "record_type": "TXT",
               "data": ["changed"]}  # fmt: skip
    ok(
        server, acct, "mass_edit_zone",
        [("zone", acct.zone), ("serial", serial2), ("edit", json.dumps(changed)),
         ("remove", str(lines["b"]))],
    )  # fmt: skip
    now = records(parse(server, acct))
    assert ("a", "TXT", ["changed"], lines["a"]) in now
    assert not any(name == "b" for name, *_ in now)


def test_dns01_round_trip_leaves_the_zone_byte_for_byte(server: Server) -> None:
    acct = new_account(server)
    before = zone_text(server, acct.zone)
    serial = serial_of(parse(server, acct), acct.zone)
    value = secrets.token_urlsafe(32)
    serial2 = new_serial(server, acct, serial, txt(f"_acme-challenge.{acct.zone}.", value))
    [line] = [
        line
        for name, rtype, data, line in records(parse(server, acct))
        if rtype == "TXT" and data == [value]
    ]
    serial3 = ok(
        server, acct, "mass_edit_zone",
        [("zone", acct.zone), ("serial", serial2), ("remove", str(line))],
    )["new_serial"]  # fmt: skip
    assert zone_text(server, acct.zone) == before.replace(serial, serial3, 1)


def test_stale_serial_is_refused_and_nothing_changes(server: Server) -> None:
    acct = new_account(server)
    serial = serial_of(parse(server, acct), acct.zone)
    before = zone_text(server, acct.zone)
    result = edit(server, acct, str(int(serial) - 1), txt("x", "v")).json()
    assert (
        result["status"] == 0
        and "does not match the DNS zone’s serial number" in result["errors"][0]
    )
    assert zone_text(server, acct.zone) == before


def test_stale_and_invalid_zone_errors_carry_cpanels_payload(server: Server) -> None:
    acct = new_account(server)
    serial = serial_of(parse(server, acct), acct.zone)
    stale = edit(server, acct, str(int(serial) - 1), txt("x", "v")).json()
    assert stale["data"] == {"type": "Stale", "detail": None}
    bad = ("add", {"dname": "bad", "ttl": 60, "record_type": "A", "data": ["not-an-ip"]})
    invalid = edit(server, acct, serial, bad).json()
    assert invalid["data"]["type"] == "InvalidZoneFile"
    assert invalid["data"]["detail"]["by_line"][0][0] > 0


def test_concurrent_edits_with_one_serial_exactly_one_wins(server: Server) -> None:
    acct = new_account(server)
    serial = serial_of(parse(server, acct), acct.zone)
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        body = edit(server, acct, serial, txt(f"c{n}", f"v{n}")).json()
        with lock:
            results.append(body)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r["status"] for r in results) == 1, results
    assert all(
        "does not match the DNS zone’s serial number" in r["errors"][0]
        for r in results
        if r["status"] == 0
    )
    assert len([r for r in records(parse(server, acct)) if r[1] == "TXT"]) == 1


@pytest.mark.parametrize(
    ("ops", "words"),
    [
        ([], "You must provide at least one change to the DNS zone."),
        ([("add", "{nope")], "not valid JSON"),
        # Cpanel::Args::get_length_multiple and Cpanel::APICommon::DNS, in their words.
        ([("add", "")], "The “add” arguments cannot be empty."),
        ([("remove", "3"), ("remove", "")], "The “remove” arguments cannot be empty."),
        ([("remove", "x")], "Each “remove” must be a nonnegative integer."),
        ([("remove", " 3")], "Each “remove” must be a nonnegative integer."),
        ([("add", "[1]")], "Each “add” must be an object."),
        ([("add", {"dname": "s", "ttl": 60, "record_type": "A"})],
         "Each “add” requires “dname”, “ttl”, “record_type”, and “data”."),
        ([("edit", {"dname": "s", "ttl": 60, "record_type": "A", "data": ["192.0.2.1"]})],
         "Each “edit” requires “line_index”, “dname”, “ttl”, “record_type”, and “data”."),
        ([("add", {"dname": "", "ttl": 60, "record_type": "A", "data": ["192.0.2.1"]})],
         "Each “add” requires"),
        ([("add", {"dname": "s", "ttl": 60, "record_type": "A", "data": "192.0.2.1"})],
         "“data” must be an array."),
        ([("remove", "9999")], "No record exists at line 9,999 in the"),
        ([("add", {"dname": "bad", "ttl": 60, "record_type": "A", "data": ["not-an-ip"]})],
         "invalid"),
        ([("add", {"dname": "out.example.org.", "ttl": 60, "record_type": "A",
                   "data": ["192.0.2.1"]})], "not in"),
        ([("add", {"dname": "s", "ttl": "x", "record_type": "A", "data": ["192.0.2.1"]})],
         "Time-To-Live (TTL) values must be positive integers, not “x”."),
        ([("add", {"dname": "s", "ttl": 60, "record_type": "A", "data": []})], "data"),
        ([("add", {"dname": "www", "ttl": 60, "record_type": "TXT", "data": ["v"]})], "CNAME"),
    ],
    ids=["nothing", "bad json", "empty add", "empty remove", "remove not a number",
         "remove with a blank", "add not an object", "add without data", "edit without line",
         "add with an empty dname", "data not a list", "remove past the end", "bad address",
         "outside the zone", "bad ttl", "no data", "beside a CNAME"],
)  # fmt: skip
def test_mass_edit_zone_refusals_change_nothing(
    server: Server, ops: list[tuple[str, Any]], words: str
) -> None:
    acct = new_account(server)
    serial = serial_of(parse(server, acct), acct.zone)
    before = zone_text(server, acct.zone)
    result = edit(server, acct, serial, *ops).json()
    assert result["status"] == 0 and words in result["errors"][0], result
    assert zone_text(server, acct.zone) == before


@pytest.mark.parametrize(
    ("given", "error"),
    [
        (None, "Provide the “serial” argument."),
        ("", "The “serial” argument cannot be empty."),
        ("soon", "The given serial number (soon) does not match the DNS zone’s serial number "
                 "({serial}). Refresh your view of the DNS zone, then resubmit."),
        # cPanel compares the serials as strings (Cpanel/ZoneFile/LineEdit.pm).
        ("0{serial}", "The given serial number (0{serial}) does not match the DNS zone’s "
                      "serial number ({serial}). Refresh your view of the DNS zone, then "
                      "resubmit."),
        (" {serial}", "The given serial number ( {serial}) does not match the DNS zone’s "
                      "serial number ({serial}). Refresh your view of the DNS zone, then "
                      "resubmit."),
    ],
    ids=["missing", "empty", "not a number", "leading zero", "leading space"],
)  # fmt: skip
def test_mass_edit_zone_serial_must_be_the_zones_as_written(
    server: Server, given: str | None, error: str
) -> None:
    acct = new_account(server)
    serial = serial_of(parse(server, acct), acct.zone)
    before = zone_text(server, acct.zone)
    params: dict[str, Any] = {"zone": acct.zone, "remove": "0"}
    if given is not None:
        params["serial"] = given.format(serial=serial)
    answer = fail(server, acct, "mass_edit_zone", params)
    assert answer["errors"] == [error.format(serial=serial)]
    assert zone_text(server, acct.zone) == before


def test_mass_edit_zone_names_a_line_that_is_no_record_as_cpanel_does(server: Server) -> None:
    acct = new_account(server)
    serial = serial_of(parse(server, acct), acct.zone)
    assert edit(server, acct, serial, ("remove", "0")).json()["errors"] == [
        f"No record exists at line 0 in the “{acct.zone}” DNS zone."
    ]


# An account's mass edit may create, edit and remove only A, AAAA, CAA, CNAME, MX, SRV and TXT
# records (cPanel's Cpanel::ZoneEdit::User): never its NS or SOA records. Each case builds its
# operations from the line index of the first record of the `target` type.
def _ns(dname: str) -> dict[str, Any]:
    return {"dname": dname, "ttl": 60, "record_type": "NS", "data": ["ns.example.net."]}


@pytest.mark.parametrize(
    ("ops", "target", "words"),
    [
        (lambda line: [("add", _ns("d"))], "NS", "This interface cannot create “NS” records."),
        (
            lambda line: [("add", {"dname": "p", "ttl": 60, "record_type": "PTR",
                                   "data": ["h.example.net."]})],
            "NS",
            "cannot create “PTR”",
        ),
        (lambda line: [("remove", str(line))], "NS", "contains a record of type “NS”"),
        (lambda line: [("remove", str(line))], "SOA", "contains a record of type “SOA”"),
        (
            lambda line: [("edit", {**txt("t", "x")[1], "line_index": line})],
            "NS",
            "contains a record of type “NS”",
        ),
        (lambda line: [("edit", {**_ns("t"), "line_index": line})], "TXT", "cannot create “NS”"),
    ],
    ids=["add NS", "add PTR", "remove NS", "remove SOA", "edit NS", "edit TXT into NS"],
)  # fmt: skip
def test_account_record_type_rules(server: Server, ops: Any, target: str, words: str) -> None:
    acct = new_account(server)
    new_serial(server, acct, serial_of(parse(server, acct), acct.zone), txt("t", "v"))
    payload = parse(server, acct)
    line = next(ln for _n, rtype, _d, ln in records(payload) if rtype == target)
    before = zone_text(server, acct.zone)
    result = edit(server, acct, serial_of(payload, acct.zone), *ops(line)).json()
    assert result["status"] == 0 and words in result["errors"][0], result
    assert "A, AAAA, CAA, CNAME, MX, SRV, and TXT" in result["errors"][0]
    assert zone_text(server, acct.zone) == before


def test_mass_edit_zone_refuses_another_accounts_zone_as_a_missing_one(server: Server) -> None:
    acct, other = new_account(server), new_account(server)
    serial = serial_of(parse(server, other), other.zone)
    before = zone_text(server, other.zone)
    missing = f"nosuch-{uuid.uuid4().hex[:8]}.example.com"
    theirs = edit(server, acct, serial, txt("x", "v"), zone=other.zone).json()
    absent = edit(server, acct, serial, txt("x", "v"), zone=missing).json()
    assert theirs["status"] == 0 and absent["status"] == 0
    assert theirs["errors"][0].replace(other.zone, "Z") == absent["errors"][0].replace(missing, "Z")
    assert zone_text(server, other.zone) == before


def test_mass_edit_zone_is_audited(server: Server) -> None:
    acct = new_account(server)
    serial = serial_of(parse(server, acct), acct.zone)
    serial2 = new_serial(server, acct, serial, txt("aud", "x"))
    rows = server.sql(
        "SELECT actor, detail FROM audit_log WHERE action = 'EDITDNSZONE' AND subject = :z",
        z=acct.zone,
    )
    assert [(r[0], r[1]) for r in rows] == [
        (acct.user, f"serial {serial} -> {serial2}: 1 added, 0 edited, 0 removed "
                    "(DNS::mass_edit_zone)")
    ]  # fmt: skip


def test_uapi_dns_through_whm_cpanel_function(server: Server) -> None:
    acct = new_account(server)
    response = server.get(
        "cpanel",
        params={"cpanel_jsonapi_user": acct.user, "cpanel_jsonapi_apiversion": "3",
                "cpanel_jsonapi_module": "DNS", "cpanel_jsonapi_func": "parse_zone",
                "zone": acct.zone},
    )  # fmt: skip
    body = response.json()
    assert body["result"]["status"] == 1 and body["result"]["data"] == parse(server, acct)
