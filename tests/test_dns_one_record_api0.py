"""The one-record DNS functions as scripts call them without `api.version` (WHM API 0) and as
cPanel's Whostmgr::DNS edits a record: only the fields given change (docs/api.md).

The API 0 shapes are cPanel's Whostmgr/XMLUI/DNS.pm: `{"result":[{"status","statusmsg"}]}`,
with dumpzone's `record` list and getzonerecord's one `record` beside them. WHMCS's AddDns
reads `result[0].status` of addzonerecord; dynamic-DNS scripts read dumpzone's
`result[0].record` and send `editzonerecord?zone=Z&Line=N&address=IP&type=A` (no name)."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import Server


@pytest.fixture
def zone(server: Server) -> str:
    user, _ = server.account()
    return f"{user}.example.com"


def api0(server: Server, function: str, **params: Any) -> Any:
    response = server.get(function, api_version=None, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def records_of(server: Server, zone: str) -> list[dict[str, Any]]:
    return list(server.ok("dumpzone", params={"domain": zone})["zone"][0]["record"])


def a_record(server: Server, zone: str, name: str) -> dict[str, Any]:
    return next(
        r
        for r in records_of(server, zone)
        if r.get("name") == f"{name}.{zone}." and r["type"] == "A"
    )


def test_addzonerecord_answers_in_the_result_list(server: Server, zone: str) -> None:
    body = api0(
        server, "addzonerecord", zone=zone, name="home", type="A", address="192.0.2.10",
        **{"class": "IN", "ttl": "300"},
    )  # fmt: skip
    assert body == {"result": [{"status": 1, "statusmsg": "OK"}]}
    assert a_record(server, zone, "home")["address"] == "192.0.2.10"


def test_a_refused_addzonerecord_says_so_where_api0_clients_look(server: Server, zone: str) -> None:
    body = api0(server, "addzonerecord", domain=zone, name="bad", type="A", address="nope")
    (item,) = body["result"]
    assert item["status"] == 0
    assert "invalid" in item["statusmsg"]
    assert set(item) == {"status", "statusmsg"}


def test_dumpzone_gives_the_records_beside_the_status(server: Server, zone: str) -> None:
    body = api0(server, "dumpzone", domain=zone)
    (item,) = body["result"]
    assert (item["status"], item["statusmsg"]) == (1, "Zone Serialized")
    assert item["record"] == records_of(server, zone)


def test_getzonerecord_gives_one_record_as_a_hash(server: Server, zone: str) -> None:
    soa = next(r for r in records_of(server, zone) if r["type"] == "SOA")
    body = api0(server, "getzonerecord", domain=zone, line=soa["Line"])
    assert body == {"result": [{"record": soa, "status": 1, "statusmsg": "Record obtained."}]}
    assert (
        server.get("getzonerecord", params={"domain": zone, "line": soa["Line"]}).json()[
            "metadata"
        ]["reason"]
        == "Record obtained."
    )


def test_getzonerecord_on_a_line_without_a_record(server: Server, zone: str) -> None:
    past_the_end = max(r["Line"] for r in records_of(server, zone)) + 5
    body = api0(server, "getzonerecord", domain=zone, line=past_the_end)
    assert body == {"result": [{"status": 0, "statusmsg": "No record available on selected line."}]}


def test_an_edit_changes_only_the_fields_given(server: Server, zone: str) -> None:
    server.ok(
        "addzonerecord",
        params={
            "domain": zone,
            "name": "router",
            "type": "A",
            "address": "192.0.2.1",
            "ttl": "120",
        },
    )
    line = a_record(server, zone, "router")["Line"]
    # As a dynamic-DNS script sends it: the line and the new address, no name.
    body = api0(server, "editzonerecord", zone=zone, Line=line, address="192.0.2.99", type="A")
    assert body == {"result": [{"status": 1, "statusmsg": "OK"}]}
    edited = a_record(server, zone, "router")
    assert (edited["Line"], edited["address"], edited["ttl"]) == (line, "192.0.2.99", 120)
    server.ok("editzonerecord", params={"domain": zone, "line": line, "ttl": "60"})
    assert a_record(server, zone, "router")["address"] == "192.0.2.99"
    assert a_record(server, zone, "router")["ttl"] == 60


def test_an_edit_keeps_a_txt_records_strings(server: Server, zone: str) -> None:
    long_value = "v" * 300  # stored as two strings
    server.ok(
        "addzonerecord",
        params={"domain": zone, "name": "txt", "type": "TXT", "txtdata": long_value},
    )
    record = next(r for r in records_of(server, zone) if r.get("name") == f"txt.{zone}.")
    server.ok("editzonerecord", params={"domain": zone, "line": record["Line"], "ttl": "90"})
    after = next(r for r in records_of(server, zone) if r.get("name") == f"txt.{zone}.")
    assert after["char_str_list"] == record["char_str_list"]
    assert after["ttl"] == 90


EDIT_REFUSALS = [
    # Whostmgr::DNS::edit_zone_record; a line without a record is edited as an empty record,
    # which Cpanel::ZoneFile::serialize_single_record refuses without a type (lumberg's
    # recording: Line=200&ttl=86400) and a comment without its text.
    ({"line": "{past}", "ttl": "60"}, "Failed to serialize record: unknown error"),
    ({"line": "{comment}", "type": ":RAW", "raw": ""}, "Failed to serialize record: unknown error"),
    # Choice: a `:RAW` line gatehouse writes must be a comment.
    (
        {"line": "{comment}", "raw": "evil\t60\tIN\tA\t192.0.2.5"},
        "A “:RAW” line must be one comment line, starting with “;”.",
    ),
    (
        {"line": "{soa}", "type": ":RAW", "raw": "; gone"},
        "This interface cannot edit or remove the SOA record.",
    ),
    ({"ttl": "60"}, "Must specify a line to edit."),
    ({"Line": "0", "ttl": "60"}, "Must specify a line to edit."),
    ({"line": "{soa}", "serialnum": "1"}, "Zone file changed since last read."),
]
GET_REFUSALS = [
    # Whostmgr::DNS::get_zone_record.
    ({"line": "{past}"}, "No record available on selected line."),
    ({}, "Must specify a record line."),
    ({"Line": "x"}, "Must specify a record line."),
]


def _marked_lines(records: list[dict[str, Any]]) -> dict[str, str]:
    """The lines the tables name: `past` (beyond the zone's end), `soa`, `comment` (the
    template's "; Zone file for" line) and `ttl` (its `$TTL` line)."""
    return {
        "past": str(max(r["Line"] for r in records) + 5),
        "soa": str(next(r["Line"] for r in records if r["type"] == "SOA")),
        "comment": str(
            next(r["Line"] for r in records if r.get("raw", "").startswith("; Zone file"))
        ),
        "ttl": str(next(r["Line"] for r in records if r["type"] == "$TTL")),
    }


@pytest.mark.parametrize(
    ("function", "given", "words"),
    [("editzonerecord", g, w) for g, w in EDIT_REFUSALS]
    + [("getzonerecord", g, w) for g, w in GET_REFUSALS],
    ids=["edit: past the end", "edit: a comment without text", "edit: a :RAW record",
         "edit: the SOA into a comment", "edit: no line", "edit: line 0",
         "edit: stale serial", "get: past the end", "get: no line", "get: not a number"],
)  # fmt: skip
def test_one_record_refusals_in_cpanels_words(
    server: Server, zone: str, function: str, given: dict[str, str], words: str
) -> None:
    before = records_of(server, zone)
    lines = _marked_lines(before)
    params = {k: v.format(**lines) for k, v in given.items()}
    assert api0(server, function, domain=zone, **params) == {
        "result": [{"status": 0, "statusmsg": words}]
    }
    assert server.fail(function, params={"domain": zone, **params}) == words
    assert records_of(server, zone) == before


def _serial(records: list[dict[str, Any]]) -> int:
    return int(next(r["serial"] for r in records if r["type"] == "SOA"))


def _without_soa(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """dumpzone's items but the SOA and the version line (a save renews both)."""
    return [
        r
        for r in records
        if r["type"] != "SOA" and not r.get("raw", "").startswith("; cPanel first")
    ]


# Whostmgr::DNS::edit_zone_record edits whatever Cpanel::ZoneFile::get_record finds on the
# line — a comment (`:RAW`) and the `$TTL` line too — with the fields given laid over its own
# (lumberg's recording: Line=1&ttl=86400 on a comment answers success). (the fields given,
# what dumpzone shows on that line after.)
LINE_EDITS = [
    ({"ttl": "86400"}, {"type": ":RAW", "raw": "; Zone file for {zone}"}),
    ({"raw": "; our own words"}, {"type": ":RAW", "raw": "; our own words"}),
    (
        {"type": "A", "name": "made", "address": "192.0.2.8", "ttl": "60"},
        {
            "type": "A",
            "name": "made.{zone}.",
            "address": "192.0.2.8",
            "ttl": 60,
            "class": "IN",
        },
    ),
]


@pytest.mark.parametrize(
    ("given", "after"), LINE_EDITS, ids=["ttl only: kept", "new text", "made a record"]
)
def test_editzonerecord_edits_a_comment_line(
    server: Server, zone: str, given: dict[str, str], after: dict[str, Any]
) -> None:
    before = records_of(server, zone)
    line = int(_marked_lines(before)["comment"])
    body = api0(server, "editzonerecord", domain=zone, Line=line, **given)
    assert body == {"result": [{"status": 1, "statusmsg": "OK"}]}
    now = records_of(server, zone)
    expected = {k: v.format(zone=zone) if isinstance(v, str) else v for k, v in after.items()}
    [edited] = [r for r in now if r["Line"] == line]
    assert edited == {"Line": line, **expected}
    assert [r for r in _without_soa(now) if r["Line"] != line] == [
        r for r in _without_soa(before) if r["Line"] != line
    ]
    assert _serial(now) > _serial(before)


def test_editzonerecord_sets_the_ttl_line(server: Server, zone: str) -> None:
    # A `$TTL` line is edited as cPanel serializes it, `$TTL <ttl>`; no record's TTL changes.
    before = records_of(server, zone)
    line = int(_marked_lines(before)["ttl"])
    server.ok("editzonerecord", params={"domain": zone, "line": line, "ttl": "86400"})
    now = records_of(server, zone)
    assert [r for r in now if r["Line"] == line] == [{"Line": line, "type": "$TTL", "ttl": "86400"}]
    assert [r for r in _without_soa(now) if r["Line"] != line] == [
        r for r in _without_soa(before) if r["Line"] != line
    ]


def test_editzonerecord_given_a_whole_record_where_none_starts_moves_only_the_serial(
    server: Server, zone: str
) -> None:
    # cPanel lays the fields over an empty record, checks it, replaces nothing (no record has
    # that line) and saves: success, and only the serial changes.
    before = records_of(server, zone)
    past = _marked_lines(before)["past"]
    body = api0(
        server, "editzonerecord", domain=zone, Line=past, name="ghost", type="A",
        address="192.0.2.9",
    )  # fmt: skip
    assert body == {"result": [{"status": 1, "statusmsg": "OK"}]}
    now = records_of(server, zone)
    assert _without_soa(now) == _without_soa(before)
    assert _serial(now) > _serial(before)


def test_editzonerecord_where_none_starts_still_checks_the_record(
    server: Server, zone: str
) -> None:
    # The record is checked as if added: an A beside the template's `www` CNAME is refused.
    before = records_of(server, zone)
    past = _marked_lines(before)["past"]
    reason = server.fail(
        "editzonerecord",
        params={"domain": zone, "line": past, "name": "www", "type": "A", "address": "192.0.2.9"},
    )
    assert "CNAME" in reason
    assert records_of(server, zone) == before


@pytest.mark.parametrize("marker", ["comment", "ttl"])
def test_removezonerecord_removes_a_comment_or_the_ttl_line(
    server: Server, zone: str, marker: str
) -> None:
    # Whostmgr::DNS::remove_zone_records removes whatever get_record finds on the line; the
    # lines after it move up one.
    before = records_of(server, zone)
    line = int(_marked_lines(before)[marker])
    body = api0(server, "removezonerecord", zone=zone, Line=line)
    assert body == {"result": [{"status": 1, "statusmsg": "OK"}]}
    now = records_of(server, zone)
    kept = [r for r in _without_soa(before) if r["Line"] != line]
    assert _without_soa(now) == [
        {**r, "Line": r["Line"] - 1} if r["Line"] > line else r for r in kept
    ]


@pytest.mark.parametrize(
    ("function", "words"),
    [
        ("getzonerecord", "Zone does not exist."),
        ("editzonerecord", "Failed to serialize record: unknown error"),
    ],
)
def test_one_record_functions_on_a_zone_that_does_not_exist(
    server: Server, function: str, words: str
) -> None:
    # As root (lumberg's recordings of notexists.com, Line=1).
    params = {"domain": "notexists.example.com", "Line": "1", "ttl": "86400"}
    assert api0(server, function, **params) == {"result": [{"status": 0, "statusmsg": words}]}
    assert server.fail(function, params=params) == words


def test_removezonerecord_and_resetzone(server: Server, zone: str) -> None:
    server.ok(
        "addzonerecord",
        params={"domain": zone, "name": "gone", "type": "A", "address": "192.0.2.3"},
    )
    line = a_record(server, zone, "gone")["Line"]
    assert api0(server, "removezonerecord", zone=zone, line=line) == {
        "result": [{"status": 1, "statusmsg": "OK"}]
    }
    assert not any(r.get("name") == f"gone.{zone}." for r in records_of(server, zone))
    assert api0(server, "resetzone", domain=zone) == {"result": [{"status": 1, "statusmsg": "OK"}]}


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ({"line": "{past}"}, "Unable to find a record on specified line: {past}"),
        ({"line": "0"}, "Unable to find a record on specified line: 0"),
        ({}, "Unable to find a record on specified line: 0"),
        ({"line": "x"}, "Unable to find a record on specified line: 0"),
        ({"Line": "{soa}"}, "You cannot remove the SOA record."),
    ],
    ids=["past the end", "line 0", "no line", "not a number", "the SOA"],
)
def test_removezonerecord_refuses_in_cpanels_words(
    server: Server, zone: str, given: dict[str, str], words: str
) -> None:
    # Whostmgr::DNS::remove_zone_records: the 1-based Line, `abs int` of what was given.
    before = records_of(server, zone)
    lines = _marked_lines(before)
    params = {k: v.format(**lines) for k, v in given.items()}
    expected = words.format(**lines)
    assert api0(server, "removezonerecord", zone=zone, **params) == {
        "result": [{"status": 0, "statusmsg": expected}]
    }
    assert server.fail("removezonerecord", params={"zone": zone, **params}) == expected
    assert records_of(server, zone) == before


def test_removezonerecord_reads_the_line_as_perl_does(server: Server, zone: str) -> None:
    # `abs int $Line`, and `Line` before `line` (Whostmgr/XMLUI/DNS.pm).
    for name in ("one", "two"):
        server.ok(
            "addzonerecord",
            params={"domain": zone, "name": name, "type": "A", "address": "192.0.2.3"},
        )
    one, two = a_record(server, zone, "one")["Line"], a_record(server, zone, "two")["Line"]
    body = api0(server, "removezonerecord", zone=zone, Line=f"-{two}.9", line="1")
    assert body == {"result": [{"status": 1, "statusmsg": "OK"}]}
    server.ok("removezonerecord", params={"domain": zone, "line": f" {one}abc"})
    names = {r.get("name") for r in records_of(server, zone)}
    assert not names & {f"one.{zone}.", f"two.{zone}."}


def test_removezonerecord_of_a_zone_that_does_not_exist(server: Server) -> None:
    # As root, cPanel reads a missing zone as an empty one (lumberg's recording).
    body = api0(server, "removezonerecord", zone="notexists.example.com", Line="1")
    assert body == {
        "result": [{"status": 0, "statusmsg": "Unable to find a record on specified line: 1"}]
    }
    assert server.fail(
        "removezonerecord", params={"zone": "notexists.example.com", "line": "3", "serialnum": "1"}
    ) == ("Zone file changed since last read.")


def test_listmxs_and_savemxs(server: Server, zone: str) -> None:
    # Whostmgr/API/1/DNS.pm: the MX records in dumpzone's shape; savemxs replaces them all.
    response = server.get("listmxs", params={"domain": zone})
    assert response.json()["metadata"]["reason"] == "Records obtained."
    [default] = response.json()["data"]["record"]
    assert (default["type"], default["exchange"]) == ("MX", zone)  # shown without its dot
    params = {
        "domain": zone,
        "name1": f"{zone}.", "exchange1": f"mx1.{zone}", "preference1": "10",
        "name2": f"{zone}.", "exchange2": "mx.example.net.", "preference2": "20", "ttl2": "300",
    }  # fmt: skip
    server.ok("savemxs", params=params)
    records = server.ok("listmxs", params={"domain": zone})["record"]
    assert [(r["exchange"], r["preference"], r["ttl"]) for r in records] == [
        (f"mx1.{zone}", "10", 14400),
        ("mx.example.net", "20", 300),
    ]
    # Nothing given: no MX record left, and listmxs answers without data, as cPanel.
    server.ok("savemxs", params={"domain": zone})
    assert "data" not in server.get("listmxs", params={"domain": zone}).json()


def test_savemxs_refusals_change_nothing(server: Server, zone: str) -> None:
    before = server.ok("listmxs", params={"domain": zone})
    reason = server.fail(
        "savemxs", params={"domain": zone, "name1": f"{zone}.", "exchange1": f"mx.{zone}"}
    )
    assert reason == "Invalid DNS record: Supplied preference for MX record is invalid."
    assert server.fail("savemxs", params={"domain": zone, "serialnum": "1"}) == (
        "Zone file changed since last read."
    )
    assert server.ok("listmxs", params={"domain": zone}) == before
