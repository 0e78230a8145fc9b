"""The DNS zone functions over real HTTP, on every backend: parse_dns_zone, mass_edit_dns_zone,
listzones, dumpzone, adddns, killdns, resetzone, and the zones createacct/removeacct manage."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import uuid
from typing import Any

import pytest

from conftest import Server
from gatehouse.passwords import generate_password
from zone_helpers import unstamped

ALL_DNS = ["create-acct", "kill-acct", "list-accts", "manage-dns-records", "create-dns", "kill-dns"]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def unb64(text: str) -> str:
    return base64.b64decode(text).decode()


def new_account(server: Server, **kw: Any) -> tuple[str, str]:
    """(username, its zone)."""
    username, _password = server.account(**kw)
    return username, f"{username}.example.com"


def parse(server: Server, zone: str, **kw: Any) -> list[dict[str, Any]]:
    data = server.ok("parse_dns_zone", params={"zone": zone}, **kw)
    return list(data["payload"])


def serial_of(payload: list[dict[str, Any]], zone: str) -> str:
    for item in payload:
        if (
            item["type"] == "record"
            and item["record_type"] == "SOA"
            and item["dname_b64"] == b64(f"{zone}.")
        ):
            return unb64(item["data_b64"][2])
    raise AssertionError("no SOA")


def zone_text(server: Server, zone: str) -> str | None:
    rows = server.sql("SELECT text FROM zones WHERE name = :n", n=zone)
    return unstamped(str(rows[0][0])) if rows else None


def edit(server: Server, zone: str, serial: str, *ops: tuple[str, Any], **kw: Any) -> Any:
    query: list[tuple[str, str]] = [("zone", zone), ("serial", serial)]
    for op, value in ops:
        query.append((op, value if isinstance(value, str) else json.dumps(value)))
    return server.get("mass_edit_dns_zone", params=query, **kw)


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


def test_createacct_makes_a_zone_parse_dns_zone_reads_it(server: Server) -> None:
    _user, zone = new_account(server)
    response = server.get("parse_dns_zone", params={"zone": zone})
    assert '"line_index":0' in response.text  # compact JSON, as shell clients grep it
    payload = response.json()["data"]["payload"]
    assert payload[0]["type"] == "comment" and set(payload[0]) == {"type", "line_index", "text_b64"}
    # cPanel's version line, then the template's own comment (dns/version_line.py)
    assert base64.b64decode(payload[0]["text_b64"]).startswith(b"; cPanel first:")
    assert payload[1]["type"] == "comment"
    assert payload[2] == {"line_index": 2, "type": "control", "text_b64": b64("$TTL 14400")}
    soa = payload[3]
    assert set(soa) == {"line_index", "type", "dname_b64", "ttl", "record_type", "data_b64"}
    assert soa["record_type"] == "SOA" and soa["dname_b64"] == b64(f"{zone}.")
    assert len(soa["data_b64"]) == 7 and isinstance(soa["ttl"], int)
    serial = serial_of(payload, zone)
    assert len(serial) == 10 and serial.isdigit()
    found = {(name, rtype) for name, rtype, _data, _line in records(payload)}
    for expected in [
        (f"{zone}.", "NS"),
        (f"{zone}.", "A"),
        (f"{zone}.", "MX"),
        ("www", "CNAME"),
        ("mail", "CNAME"),
        ("ftp", "A"),
    ]:
        assert expected in found
    assert [i["line_index"] for i in payload] == sorted(i["line_index"] for i in payload)


def test_add_edit_remove_with_relative_and_absolute_names(server: Server) -> None:
    _user, zone = new_account(server)
    serial = serial_of(parse(server, zone), zone)
    response = edit(
        server,
        zone,
        serial,
        ("add", {"dname": "host1", "ttl": 300, "record_type": "A", "data": ["192.0.2.1"]}),
        ("add", {"dname": f"host2.{zone}.", "ttl": 300, "record_type": "A", "data": ["192.0.2.2"]}),
    )
    body = response.json()
    assert body["metadata"]["result"] == 1, body
    new_serial = body["data"]["new_serial"]
    assert isinstance(new_serial, str) and int(new_serial) > int(serial)
    assert f'"new_serial":"{new_serial}"' in response.text
    payload = parse(server, zone)
    assert serial_of(payload, zone) == new_serial
    recs = {name: (data, line) for name, rtype, data, line in records(payload) if rtype == "A"}
    # Cpanel::ZoneFile::Parse gives owners under the zone relative, however written.
    assert recs["host1"][0] == ["192.0.2.1"]
    assert recs["host2"][0] == ["192.0.2.2"]
    host1_line, host2_line = recs["host1"][1], recs["host2"][1]
    new2 = server.ok(
        "mass_edit_dns_zone",
        params=[
            ("zone", zone),
            ("serial", new_serial),
            (
                "edit",
                json.dumps(
                    {
                        "line_index": host1_line,
                        "dname": "host1",
                        "ttl": 600,
                        "record_type": "A",
                        "data": ["192.0.2.9"],
                    }
                ),
            ),
            ("remove", str(host2_line)),
        ],
    )["new_serial"]
    recs2 = records(parse(server, zone))
    assert ("host1", "A", ["192.0.2.9"], host1_line) in recs2
    assert not any(name == f"host2.{zone}." for name, *_ in recs2)
    assert int(new2) == int(new_serial) + 1


def test_stale_serial_is_refused_and_nothing_changes(server: Server) -> None:
    _user, zone = new_account(server)
    serial = serial_of(parse(server, zone), zone)
    before = zone_text(server, zone)
    add = {"dname": "x", "ttl": 300, "record_type": "TXT", "data": ["v"]}
    body = edit(server, zone, str(int(serial) - 1), ("add", add)).json()
    assert body["metadata"]["result"] == 0
    assert body["metadata"]["reason"] == (
        f"The given serial number ({int(serial) - 1}) does not match the DNS zone’s serial "
        f"number ({serial}). Refresh your view of the DNS zone, then resubmit."
    )
    assert body["data"]["type"] == "Stale"
    assert zone_text(server, zone) == before


def test_invalid_record_is_refused_and_nothing_changes(server: Server) -> None:
    _user, zone = new_account(server)
    serial = serial_of(parse(server, zone), zone)
    before = zone_text(server, zone)
    good = {"dname": "ok", "ttl": 300, "record_type": "A", "data": ["192.0.2.1"]}
    bad = {"dname": "bad", "ttl": 300, "record_type": "A", "data": ["not-an-ip"]}
    body = edit(server, zone, serial, ("add", good), ("add", bad)).json()
    assert body["metadata"]["result"] == 0
    assert "invalid" in body["metadata"]["reason"]
    assert body["data"]["type"] == "InvalidZoneFile"
    assert body["data"]["detail"]["by_line"][0][0] > 0
    assert zone_text(server, zone) == before
    # A name outside the zone, a type that may not be added, a bad ttl, no data.
    for item, words in [
        (
            {"dname": "out.example.org.", "ttl": 1, "record_type": "A", "data": ["192.0.2.1"]},
            "not in",
        ),
        ({"dname": "s", "ttl": 1, "record_type": "SOA", "data": ["a"]}, "cannot create"),
        (
            {"dname": "s", "ttl": "x", "record_type": "A", "data": ["192.0.2.1"]},
            "Time-To-Live (TTL) values must be positive integers, not “x”.",
        ),
        ({"dname": "s", "ttl": 1, "record_type": "A", "data": []}, "data"),
    ]:
        reason = server.fail(
            "mass_edit_dns_zone",
            params=[("zone", zone), ("serial", serial), ("add", json.dumps(item))],
        )
        assert words in reason, reason
    assert "not valid JSON" in server.fail(
        "mass_edit_dns_zone", params=[("zone", zone), ("serial", serial), ("add", "{nope")]
    )
    assert (
        server.fail(
            "mass_edit_dns_zone", params=[("zone", zone), ("serial", serial), ("remove", "9999")]
        )
        == f"No record exists at line 9,999 in the “{zone}” DNS zone."
    )
    assert zone_text(server, zone) == before


def test_at_least_one_change(server: Server) -> None:
    _user, zone = new_account(server)
    serial = serial_of(parse(server, zone), zone)
    reason = server.fail("mass_edit_dns_zone", params={"zone": zone, "serial": serial})
    assert reason == "You must provide at least one change to the DNS zone."
    assert "serial" in server.fail("mass_edit_dns_zone", params={"zone": zone})


def test_concurrent_edits_with_one_serial_exactly_one_wins(server: Server) -> None:
    _user, zone = new_account(server)
    serial = serial_of(parse(server, zone), zone)
    results: list[dict[str, Any]] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        add = {"dname": f"c{n}", "ttl": 60, "record_type": "TXT", "data": [f"v{n}"]}
        body = edit(server, zone, serial, ("add", add)).json()
        with lock:
            results.append(body)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = [r for r in results if r["metadata"]["result"] == 1]
    assert len(wins) == 1, results
    assert all(r["data"]["type"] == "Stale" for r in results if r["metadata"]["result"] == 0)
    txt = [name for name, rtype, *_ in records(parse(server, zone)) if rtype == "TXT"]
    assert len(txt) == 1


def test_ownership(server: Server) -> None:
    reseller_a, token_a = server.reseller(ALL_DNS)
    reseller_b, token_b = server.reseller(ALL_DNS)
    user = "z" + uuid.uuid4().hex[:10]
    zone = f"{user}.example.net"
    server.ok(
        "createacct",
        user=reseller_a,
        token=token_a,
        params={"username": user, "domain": zone, "password": generate_password()},
    )
    serial = serial_of(parse(server, zone, user=reseller_a, token=token_a), zone)
    add = {"dname": "r", "ttl": 60, "record_type": "TXT", "data": ["x"]}
    # B neither reads nor edits A's account zone, nor learns that it exists.
    denied = server.fail("parse_dns_zone", user=reseller_b, token=token_b, params={"zone": zone})
    missing = server.fail(
        "parse_dns_zone", user=reseller_b, token=token_b, params={"zone": "nosuch.example.net"}
    )
    assert denied == f"You do not have access to a domain named “{zone}”."  # Whostmgr::Authz
    assert denied.replace(zone, "Z") == missing.replace("nosuch.example.net", "Z")
    body = edit(server, zone, serial, ("add", add), user=reseller_b, token=token_b).json()
    assert body["metadata"]["result"] == 0 and "do not have access" in body["metadata"]["reason"]
    for fn in ("dumpzone", "killdns", "resetzone"):
        server.fail(fn, user=reseller_b, token=token_b, params={"domain": zone})
    listed_b = server.ok("listzones", user=reseller_b, token=token_b)["zone"]
    assert zone not in [z["domain"] for z in listed_b]
    listed_a = server.ok("listzones", user=reseller_a, token=token_a)["zone"]
    assert {"domain": zone, "zonefile": f"{zone}.db"} in listed_a
    # A may edit; root may edit anything.
    serial2 = edit(server, zone, serial, ("add", add), user=reseller_a, token=token_a).json()
    assert serial2["metadata"]["result"] == 1
    server.ok(
        "mass_edit_dns_zone",
        params=[
            ("zone", zone),
            ("serial", serial2["data"]["new_serial"]),
            ("add", json.dumps(add)),
        ],
    )
    # adddns for another reseller's account is refused; for its own account it works.
    assert "do not have access" in server.fail(
        "adddns",
        user=reseller_b,
        token=token_b,
        params={"domain": f"b-{user}.example.net", "ip": "192.0.2.5", "trueowner": user},
    )
    server.ok(
        "adddns",
        user=reseller_a,
        token=token_a,
        params={"domain": f"a-{user}.example.net", "ip": "192.0.2.5", "trueowner": user},
    )
    # Without the privilege, nothing: a reseller holding only list-accts.
    reseller_c, token_c = server.reseller(["list-accts"])
    response = server.get("parse_dns_zone", user=reseller_c, token=token_c, params={"zone": zone})
    assert response.json()["metadata"]["result"] == 0


def test_dns01_round_trip_leaves_the_zone_as_it_was(server: Server) -> None:
    _user, zone = new_account(server)
    before = zone_text(server, zone)
    assert before is not None
    serial = serial_of(parse(server, zone), zone)
    value = secrets.token_urlsafe(32)
    add = {"dname": f"_acme-challenge.{zone}.", "ttl": 300, "record_type": "TXT", "data": [value]}
    serial2 = server.ok(
        "mass_edit_dns_zone",
        params=[("zone", zone), ("serial", serial), ("add", json.dumps(add))],
    )["new_serial"]
    payload = parse(server, zone)
    found = [
        (name, data, line)
        for name, rtype, data, line in records(payload)
        if rtype == "TXT" and name == "_acme-challenge"
    ]
    assert len(found) == 1 and found[0][1] == [value]
    serial3 = server.ok(
        "mass_edit_dns_zone",
        params=[("zone", zone), ("serial", serial2), ("remove", str(found[0][2]))],
    )["new_serial"]
    after = zone_text(server, zone)
    assert after is not None and after != before
    assert after == before.replace(serial, serial3, 1)
    assert int(serial3) > int(serial2) > int(serial)


def test_listzones_dumpzone_adddns_killdns_resetzone(server: Server) -> None:
    user, zone = new_account(server)
    extra = f"extra-{user}.example.org"
    reason = server.get(
        "adddns", params={"domain": extra, "ip": "192.0.2.7", "trueowner": user}
    ).json()["metadata"]["reason"]
    assert extra in reason
    assert server.fail(
        "adddns", params={"domain": extra, "ip": "192.0.2.7", "trueowner": "root"}
    ) == (f"Sorry, the domain {extra} is owned by another user ({user})")
    assert server.fail("adddns", params={"domain": "q." + extra, "ip": "x"}) == (
        "Sorry, the IP address appears to be invalid."
    )
    names = [z["domain"] for z in server.ok("listzones")["zone"]]
    assert zone in names and extra in names
    dump = server.get("dumpzone", params={"domain": extra}).json()
    assert dump["metadata"]["reason"] == "Zone Serialized"
    recs = dump["data"]["zone"][0]["record"]
    a = [r for r in recs if r.get("type") == "A" and r["name"] == f"{extra}."]
    assert a and a[0]["address"] == "192.0.2.7"
    soa = next(r for r in recs if r.get("type") == "SOA")
    assert soa["serial"].isdigit()
    assert server.ok("dumpzone", params={"zone": f"{extra}.db"})["zone"][0]["record"] == recs
    # resetzone drops added records and moves the serial on.
    serial = serial_of(parse(server, extra), extra)
    add = {"dname": "gone", "ttl": 60, "record_type": "TXT", "data": ["x"]}
    server.ok(
        "mass_edit_dns_zone",
        params=[("zone", extra), ("serial", serial), ("add", json.dumps(add))],
    )
    server.ok("resetzone", params={"domain": extra})
    payload = parse(server, extra)
    assert not any(name == "gone" for name, *_ in records(payload))
    assert int(serial_of(payload, extra)) > int(serial) + 1
    # killdns
    server.ok("killdns", params={"domain": extra})
    assert zone_text(server, extra) is None
    assert "does not exist" in server.fail("killdns", params={"domain": extra})
    assert server.fail("parse_dns_zone", params={"zone": extra}) == (
        f"This system does not have a domain named “{extra}”."
    )


def a_records(server: Server, zone: str) -> list[str]:
    recs = server.ok("dumpzone", params={"domain": zone})["zone"][0]["record"]
    return [r["address"] for r in recs if r.get("type") == "A" and r["name"] == f"{zone}."]


def test_adddns_by_root_rewrites_the_owners_existing_zone(server: Server) -> None:
    # Cpanel::DnsUtils::Add::doadddns with allowoverwrite (hasroot): the template again,
    # the owner kept, "Added D ok" (no "belonging to user": the domain was the owner's).
    user, zone = new_account(server)
    server.ok(
        "addzonerecord", params={"domain": zone, "name": "old", "type": "TXT", "txtdata": "x"}
    )
    serial = serial_of(parse(server, zone), zone)
    reason = server.get(
        "adddns", params={"domain": zone, "ip": "192.0.2.99", "trueowner": user}
    ).json()["metadata"]["reason"]
    assert reason == f"Added {zone} ok"
    assert a_records(server, zone) == ["192.0.2.99"]
    payload = parse(server, zone)
    assert not any(name == f"old.{zone}." for name, *_ in records(payload))
    assert int(serial_of(payload, zone)) > int(serial)
    owner = server.sql(
        "SELECT u.username FROM zones z JOIN users u ON u.id = z.user_id WHERE z.name = :n", n=zone
    )
    assert owner == [(user,)]


@pytest.mark.parametrize("api_version", ["1", None], ids=["api1", "api0"])
def test_adddns_by_root_refuses_a_zone_another_user_owns(
    server: Server, api_version: str | None
) -> None:
    user, zone = new_account(server)
    before = zone_text(server, zone)
    words = f"Sorry, the domain {zone} is owned by another user ({user})"
    params = {"domain": zone, "ip": "192.0.2.98"}  # trueowner: the caller, root
    response = server.get("adddns", params=params, api_version=api_version).json()
    if api_version is None:
        assert response == {"result": [{"status": 0, "statusmsg": words}]}
    else:
        assert response["metadata"]["reason"] == words
    assert zone_text(server, zone) == before


def test_adddns_by_a_reseller_never_overwrites(server: Server) -> None:
    # doadddns without allowoverwrite (not hasroot): its own words, the zone unchanged.
    reseller, token = server.reseller(ALL_DNS)
    zone = f"r-{uuid.uuid4().hex[:8]}.example.net"
    params = {"domain": zone, "ip": "192.0.2.7"}
    server.ok("adddns", user=reseller, token=token, params=params)
    before = zone_text(server, zone)
    assert server.fail("adddns", user=reseller, token=token, params=params) == (
        f"Sorry, a DNS entry for {zone} already exists\n"
    )
    assert zone_text(server, zone) == before


_NO_DOMAIN = "Sorry, you must enter a domain.  Please try again."
_NO_IP = "Sorry, you must enter an ip.  Please try again."
_NEW = "new-{n}.example.org"


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"ip": "192.0.2.7"}, _NO_DOMAIN),
        ({"domain": " ", "ip": "192.0.2.7"}, _NO_DOMAIN),
        ({"domain": _NEW}, _NO_IP),
        ({"domain": _NEW, "ip": ""}, _NO_IP),
        ({"domain": _NEW, "ip": "x"}, "Sorry, the IP address appears to be invalid."),
        # doadddns: `ip` is IPv4 (Cpanel::Validate::IP::v4); an IPv6 address goes in `ipv6`.
        ({"domain": _NEW, "ip": "2001:db8::7"}, "Sorry, the IP address appears to be invalid."),
        (
            {"domain": _NEW, "ip": "192.0.2.7", "ipv6": "192.0.2.8"},
            "Sorry, that (192.0.2.8) appears to be an invalid IPv6 address.",
        ),
        (
            {"domain": _NEW, "ip": "192.0.2.7", "ipv6": ""},
            "Sorry, that () appears to be an invalid IPv6 address.",
        ),
    ],
    ids=["no domain", "blank domain", "no ip", "empty ip", "bad ip", "ipv6 in ip", "bad ipv6",
         "empty ipv6"],
)  # fmt: skip
@pytest.mark.parametrize("api_version", ["1", None], ids=["api1", "api0"])
def test_adddns_refuses_in_doadddns_words(
    server: Server, params: dict[str, str], words: str, api_version: str | None
) -> None:
    n = uuid.uuid4().hex[:8]
    given = {k: v.format(n=n) for k, v in params.items()}
    response = server.get("adddns", params=given, api_version=api_version).json()
    if api_version is None:
        assert response == {"result": [{"status": 0, "statusmsg": words}]}
    else:
        assert response["metadata"]["result"] == 0
        assert response["metadata"]["reason"] == words
    assert zone_text(server, f"new-{n}.example.org") is None


@pytest.mark.parametrize(
    ("ipv6", "aaaa"),
    [(None, set()), ("n/a", set()), ("2001:DB8:0::7", {"", "ipv6"})],
    ids=["none", "n/a", "given"],
)
def test_adddns_writes_aaaa_records_for_ipv6(
    server: Server, ipv6: str | None, aaaa: set[str]
) -> None:
    # cPanel's standard template: `%domain%. IN AAAA %ipv6%` and `ipv6 IN AAAA %ipv6%`, left out
    # without an address (`n/a` is Cpanel::IPv6::Normalize's "none").
    name = f"v6-{uuid.uuid4().hex[:8]}.example.org"
    params = {"domain": name, "ip": "192.0.2.7", **({"ipv6": ipv6} if ipv6 else {})}
    server.ok("adddns", params=params)
    records = server.ok("dumpzone", params={"domain": name})["zone"][0]["record"]
    found = {r["name"].removesuffix(f"{name}.").rstrip(".") for r in records if r["type"] == "AAAA"}
    assert found == aaaa
    assert all(r["address"] == "2001:db8::7" for r in records if r["type"] == "AAAA")
    server.ok("killdns", params={"domain": name})


def test_removeacct_removes_zones_unless_keepdns(server: Server) -> None:
    user1, zone1 = new_account(server)
    user2, zone2 = new_account(server)
    server.ok("adddns", params={"domain": f"more-{zone1}", "ip": "192.0.2.8", "trueowner": user1})
    server.get("removeacct", params={"username": user1})
    assert zone_text(server, zone1) is None and zone_text(server, f"more-{zone1}") is None
    server.get("removeacct", params={"username": user2, "keepdns": "1"})
    assert zone_text(server, zone2) is not None
    owner = server.sql(
        "SELECT u.username FROM zones z JOIN users u ON u.id = z.user_id WHERE z.name = :n",
        n=zone2,
    )
    assert owner[0][0] == "root"
    # The zone still blocks a new account with that domain until it is killed.
    assert "already exists" in server.fail(
        "createacct",
        params={
            "username": "n" + uuid.uuid4().hex[:8],
            "domain": zone2,
            "password": "Zone-Exists-9xQ!",
        },
    )
    server.ok("killdns", params={"domain": zone2})


def test_one_record_functions(server: Server) -> None:
    _user, zone = new_account(server)
    before = zone_text(server, zone)
    assert before is not None
    server.ok(
        "addzonerecord",
        params={"domain": zone, "name": "one", "type": "TXT", "txtdata": "hello", "ttl": "60"},
    )
    server.ok(
        "addzonerecord",
        params={"domain": zone, "name": f"two.{zone}.", "type": "MX", "exchange": f"{zone}.",
                "preference": "5"},
    )  # fmt: skip
    recs = server.ok("dumpzone", params={"domain": zone})["zone"][0]["record"]
    one = next(r for r in recs if r.get("name") == f"one.{zone}.")
    two = next(r for r in recs if r.get("name") == f"two.{zone}.")
    assert one["txtdata"] == "hello" and one["ttl"] == 60
    # The exchange as Cpanel::ZoneFile shows it: absolute, without its final dot.
    assert two["preference"] == "5" and two["exchange"] == zone
    got = server.ok("getzonerecord", params={"domain": zone, "line": one["Line"]})
    assert got["record"] == [one]
    assert server.fail("addzonerecord", params={"domain": zone, "name": "x", "type": "A"}) == (
        "Invalid DNS record: Supplied address for A record is invalid"
    )
    # Whostmgr::DNS::add_zone_record reads no serial: a stale one changes nothing.
    server.ok(
        "addzonerecord",
        params={"domain": zone, "name": "x", "type": "A", "address": "192.0.2.1", "serialnum": "1"},
    )
    added = server.ok("dumpzone", params={"domain": zone})["zone"][0]["record"]
    x_line = next(r["Line"] for r in added if r.get("name") == f"x.{zone}.")
    server.ok("removezonerecord", params={"zone": zone, "line": x_line})  # the last line
    server.ok(
        "editzonerecord",
        params={"domain": zone, "line": one["Line"], "name": "one", "type": "TXT",
                "txtdata": "changed", "ttl": "60"},
    )  # fmt: skip
    got = server.ok("getzonerecord", params={"domain": zone, "line": one["Line"]})
    assert got["record"][0]["txtdata"] == "changed"
    server.ok("removezonerecord", params={"zone": zone, "line": two["Line"]})
    server.ok("removezonerecord", params={"zone": zone, "line": one["Line"]})
    serial = serial_of(parse(server, zone), zone)
    before_serial = before.split("\tSOA\t", 1)[1].split()[2]
    assert zone_text(server, zone) == before.replace(before_serial, serial, 1)
    soa_line = next(r for r in recs if r.get("type") == "SOA")["Line"]
    assert "SOA" in server.fail("removezonerecord", params={"zone": zone, "line": soa_line})
    reseller, token = server.reseller(ALL_DNS)
    assert "do not have access" in server.fail(
        "getzonerecord", user=reseller, token=token, params={"domain": zone, "line": 1}
    )


def test_cname_beside_other_data_is_refused_with_its_line(server: Server) -> None:
    _user, zone = new_account(server)
    before = zone_text(server, zone)
    assert before is not None
    serial = serial_of(parse(server, zone), zone)
    # `www` is a CNAME in the template: an A record beside it is not allowed (RFC 1034 §3.6.2).
    body = edit(
        server,
        zone,
        serial,
        ("add", {"dname": "www", "ttl": 300, "record_type": "A", "data": ["192.0.2.7"]}),
    ).json()
    assert body["metadata"]["result"] == 0
    assert "CNAME record cannot share the name “www." in body["metadata"]["reason"]
    detail = body["data"]["detail"]["by_line"][0]
    assert body["data"]["type"] == "InvalidZoneFile"
    assert detail[0] == len(before.splitlines()) + 1  # the added line, 1-based
    assert zone_text(server, zone) == before


def test_txt_string_over_255_bytes_is_refused_and_255_plus_more_strings_accepted(
    server: Server,
) -> None:
    _user, zone = new_account(server)
    before = zone_text(server, zone)
    serial = serial_of(parse(server, zone), zone)
    too_long = {"dname": "big", "ttl": 300, "record_type": "TXT", "data": ["a" * 256]}
    body = edit(server, zone, serial, ("add", too_long)).json()
    assert body["metadata"]["result"] == 0
    assert "at most 255 bytes" in body["metadata"]["reason"]
    assert zone_text(server, zone) == before
    split = {"dname": "big", "ttl": 300, "record_type": "TXT", "data": ["a" * 255, "b" * 100]}
    assert edit(server, zone, serial, ("add", split)).json()["metadata"]["result"] == 1
    added = [r for r in records(parse(server, zone)) if r[0] == "big"]
    assert added[0][2] == ["a" * 255, "b" * 100]


def test_modifyacct_domain_change_renames_the_zone(server: Server) -> None:
    username, zone = new_account(server)
    serial = serial_of(parse(server, zone), zone)
    added = {"dname": f"_acme-challenge.{zone}.", "ttl": 60, "record_type": "TXT", "data": ["v"]}
    assert edit(server, zone, serial, ("add", added)).json()["metadata"]["result"] == 1
    before = zone_text(server, zone)
    assert before is not None
    new_domain = f"renamed-{username}.example.net"
    data = server.ok("modifyacct", params={"user": username, "domain": new_domain})
    assert data["domain"] == new_domain
    assert zone_text(server, zone) is None
    after = zone_text(server, new_domain)
    assert after is not None
    # Names under the old apex moved; relative names (the one added too: LineEdit writes
    # `X.zone.` as `X`) and the rest stayed as written.
    assert "\n_acme-challenge\t60\tIN\tTXT" in after and f"\n{new_domain}.\t" in after
    assert f"{zone}." not in after
    assert "\nwww\t" in after and "\nwww\t" in before
    assert int(serial_of(parse(server, new_domain), new_domain)) > int(serial)
    listed = server.ok("listzones")["zone"]
    assert {"domain": new_domain, "zonefile": f"{new_domain}.db"} in listed


def test_modifyacct_refuses_a_domain_whose_zone_exists(server: Server) -> None:
    username, zone = new_account(server)
    other = f"taken-{uuid.uuid4().hex[:8]}.example.org"
    server.ok("adddns", params={"domain": other, "ip": "192.0.2.1"})
    reason = server.fail("modifyacct", params={"user": username, "domain": other})
    assert reason == f"A DNS zone for “{other}” already exists on this server."
    assert zone_text(server, zone) is not None
    rows = server.sql("SELECT domain FROM users WHERE username = :u", u=username)
    assert rows[0][0] == zone


_DNS = "Whostmgr::API::1::DNS"


@pytest.mark.parametrize(
    ("function", "params", "reason"),
    [
        ("parse_dns_zone", {},
         f"Provide the “zone” parameter for the “{_DNS}::parse_dns_zone” function."),
        ("parse_dns_zone", {"zone": ""}, "The value of “zone” may not be empty."),
        ("mass_edit_dns_zone", {"serial": "1"},
         f"Provide the “zone” parameter for the “{_DNS}::mass_edit_dns_zone” function."),
        ("mass_edit_dns_zone", {"zone": "{zone}"},
         f"Provide the “serial” parameter for the “{_DNS}::mass_edit_dns_zone” function."),
        ("mass_edit_dns_zone", {"zone": "{zone}", "serial": ""},
         "The value of “serial” may not be empty."),
        ("parse_dns_zone", {"zone": "nosuch-{zone}"},
         "This system does not have a domain named “nosuch-{zone}”."),
        ("mass_edit_dns_zone", {"zone": "nosuch-{zone}", "serial": "1", "remove": "3"},
         "This system does not have a domain named “nosuch-{zone}”."),
    ],
    ids=["parse: no zone", "parse: empty zone", "edit: no zone", "edit: no serial",
         "edit: empty serial", "parse: no such domain", "edit: no such domain"],
)  # fmt: skip
def test_parse_and_mass_edit_refuse_in_cpanels_words(
    server: Server, function: str, params: dict[str, str], reason: str
) -> None:
    """Whostmgr::API::1::Utils's required arguments (a MissingParameter names the API function
    it is raised in) and Whostmgr::Authz's DomainDoesNotExist, as root."""
    _user, zone = new_account(server)
    given = {k: v.format(zone=zone) for k, v in params.items()}
    assert server.fail(function, params=given) == reason.format(zone=zone)


def test_mass_edit_refuses_a_line_that_is_no_record_or_the_soa_as_cpanel_does(
    server: Server,
) -> None:
    # Cpanel/ZoneFile/LineEdit.pm: _verify_lineidx_for_new_op, then remove()'s SOA rule.
    _user, zone = new_account(server)
    payload = parse(server, zone)
    serial = serial_of(payload, zone)
    soa = next(i for i in payload if i.get("record_type") == "SOA")["line_index"]
    for remove, reason in [
        ("0", f"No record exists at line 0 in the “{zone}” DNS zone."),
        (str(soa), "Every DNS zone must contain an SOA record."),
    ]:
        params = [("zone", zone), ("serial", serial), ("remove", remove)]
        assert server.fail("mass_edit_dns_zone", params=params) == reason
    some = next(i for i in payload if i.get("record_type") == "NS")["line_index"]
    twice = [("zone", zone), ("serial", serial), ("remove", str(some)), ("remove", str(some))]
    assert server.fail("mass_edit_dns_zone", params=twice) == (
        f"You submitted multiple edits for line index {some}. This interface forbids multiple "
        "edits per line."
    )


SOA_DATA = ["ns1.example.net.", "hostmaster.example.net.", "{serial}", "3600", "1800", "1209600",
            "86400"]  # fmt: skip


@pytest.mark.parametrize(
    ("line", "record_type", "data", "reason"),
    [
        # Cpanel/ZoneFile/LineEdit.pm edit(): the SOA keeps its type; no second SOA.
        ("SOA", "A", ["192.0.2.1"], "The SOA record’s type cannot change."),
        ("NS", "SOA", SOA_DATA, "Only one SOA record can exist in a given DNS zone."),
        # Choice: cPanel lets the SOA be rewritten (its serial kept); gatehouse owns it.
        ("SOA", "SOA", SOA_DATA, "This interface cannot edit or remove the SOA record."),
    ],
    ids=["soa to another type", "another type to soa", "soa rewritten"],
)
def test_mass_edit_rules_on_the_soa_as_cpanel_does(
    server: Server, line: str, record_type: str, data: list[str], reason: str
) -> None:
    _user, zone = new_account(server)
    payload = parse(server, zone)
    serial = serial_of(payload, zone)
    index = next(i for i in payload if i.get("record_type") == line)["line_index"]
    item = {"line_index": index, "dname": f"{zone}.", "ttl": 60, "record_type": record_type,
            "data": [d.format(serial=serial) for d in data]}  # fmt: skip
    params = [("zone", zone), ("serial", serial), ("edit", json.dumps(item))]
    assert server.fail("mass_edit_dns_zone", params=params) == reason
    assert serial_of(parse(server, zone), zone) == serial
