"""The zone-text engine without a server: the entries save() validates a mass edit from are
exactly what a fresh parse of the new text gives, and the quick structural check refuses what
the whole-zone dnspython read refuses."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatehouse.api import zone_wire
from gatehouse.dns import changes, errors, parsed, template, validate, zones
from gatehouse.dns import serial as zone_serial
from gatehouse.dns import text as zone_text
from gatehouse.errors import InvalidParameter

ZONE = "example.com"


def base_text() -> str:
    text = template.template(
        ZONE,
        ip="192.0.2.1",
        nameservers=["ns1.example.com"],
        serial=1,
        hostname="host.example.com",
        update_time=1,
    )
    extra = [
        'multi\t300\tIN\tTXT\t( "a" ; split over lines',
        '\t"b" )',
        "\t300\tIN\tA\t192.0.2.2",  # no owner: takes `multi`
        'txt\t300\tIN\tTXT\t"v=spf1 -all; x" ; a comment',
        "; a comment line",
        "",
        "$TTL 300",
        "late\tIN\tA\t192.0.2.3",
    ]
    return text + "\n".join(extra) + "\n"


def key(e: zone_text.Entry) -> tuple[Any, ...]:
    return (e.kind, e.line_index, e.line_count, e.raw, e.dname, e.ttl, e.record_type, e.data)


def change(dname: str, rtype: str = "A", data: str = "192.0.2.9", **kw: Any) -> changes.Change:
    raw = {"dname": dname, "ttl": 60, "record_type": rtype, "data": [data], **kw}
    return zone_wire.change_from_item(ZONE, raw, edit="line_index" in kw)


@settings(max_examples=60, deadline=None)
@given(
    removes=st.sets(st.integers(min_value=0, max_value=20), max_size=3),
    adds=st.integers(min_value=0, max_value=2),
)
def test_entries_derived_from_an_edit_equal_a_fresh_parse(removes: set[int], adds: int) -> None:
    text = base_text()
    zone = zones.Zone(ZONE, 1, text, 1)
    starts = {
        e.line_index
        for e in parsed.parse(ZONE, text)
        if e.kind == "record" and e.record_type != "SOA"
    }
    removable = sorted(i for i in removes if i in starts)
    new = changes.apply_edits(zone, [change(f"add{i}") for i in range(adds)], [], removable)
    cached = parsed.PARSED.get(ZONE, new)
    fresh = zone_text.parse_entries(ZONE, new)
    if cached is not None and cached[1] is not None:
        assert [key(e) for e in cached[0]] == [key(e) for e in fresh]
    else:
        # Only when a record without an owner followed a removed one (its owner changed).
        assert any(e.raw[:1] in " \t" for e in parsed.parse(ZONE, text) if e.kind == "record")


def origin_text() -> str:
    """base_text() and records under `$ORIGIN` lines (the last one in force at its end)."""
    extra = [
        f"$ORIGIN sub.{ZONE}.",
        "www\t300\tIN\tA\t192.0.2.80",
        "alias\t300\tIN\tCNAME\twww",
        '\t300\tIN\tTXT\t"alias again"',  # no owner: takes alias.sub
        "$ORIGIN deeper",  # relative to the origin in force: deeper.sub.example.com.
        "rel\t300\tIN\tMX\t10 mail",
    ]
    return base_text() + "\n".join(extra) + "\n"


@settings(max_examples=60, deadline=None)
@given(
    removes=st.sets(st.integers(min_value=0, max_value=30), max_size=3),
    adds=st.integers(min_value=0, max_value=2),
    edit=st.booleans(),
)
def test_entries_derived_from_an_edit_under_an_origin_equal_a_fresh_parse(
    removes: set[int], adds: int, edit: bool
) -> None:
    """Additions after `$ORIGIN deeper.sub.` and an edit of `www.sub` land where the caller
    named them (relative to the zone), and the entries save() validates from are a fresh
    parse's."""
    text = origin_text()
    zone = zones.Zone(ZONE, 1, text, 1)
    entries = parsed.parse(ZONE, text)
    www = next(e.line_index for e in entries if e.dname == f"www.sub.{ZONE}.")
    starts = {e.line_index for e in entries if e.kind == "record" and e.record_type != "SOA"}
    removable = sorted(i for i in removes if i in starts and not (edit and i == www))
    edits = [change("www.sub", data="192.0.2.99", line_index=www)] if edit else []
    new = changes.apply_edits(zone, [change(f"add{i}") for i in range(adds)], edits, removable)
    fresh = zone_text.parse_entries(ZONE, new)
    owners = {zone_text.absolute(ZONE, e.dname) for e in fresh if e.kind == "record"}
    assert {f"add{i}.{ZONE}." for i in range(adds)} <= owners
    if edit:
        assert next(e.data for e in fresh if e.dname == f"www.sub.{ZONE}.") == ["192.0.2.99"]
    cached = parsed.PARSED.get(ZONE, new)
    if cached is not None and cached[1] is not None:
        assert [key(e) for e in cached[0]] == [key(e) for e in fresh]


@pytest.mark.parametrize(
    ("lines", "why"),
    [
        (["www\t300\tIN\tA\t192.0.2.5"], "CNAME record cannot share the name “www.example.com.”"),
        (["example.com.\t300\tIN\tSOA\ta. b. 1 2 3 4 5"], "exactly one SOA"),
    ],
)
def test_quick_structure_check_refuses_what_dnspython_refuses(lines: list[str], why: str) -> None:
    text = base_text() + "\n".join(lines) + "\n"
    with pytest.raises(errors.InvalidZone) as quick:
        validate.check_structure(ZONE, zone_text.parse_entries(ZONE, text))
    assert why in quick.value.reason
    with pytest.raises(errors.InvalidZone) as full:
        validate.validate(ZONE, text)
    assert why in full.value.reason


def test_removing_every_apex_ns_is_refused() -> None:
    text = base_text()
    ns = [e.line_index for e in parsed.parse(ZONE, text) if e.record_type == "NS"]
    entries = [e for e in zone_text.parse_entries(ZONE, text) if e.line_index not in ns]
    with pytest.raises(errors.InvalidZone, match="at least one NS record"):
        validate.check_structure(ZONE, entries)


def test_save_path_sets_the_serial_in_place_and_keeps_every_other_byte() -> None:
    text = base_text()
    entries = zone_serial.with_serial(ZONE, zone_text.parse_entries(ZONE, text), 2026112399)
    new = zone_serial.join_soa(text, entries)
    assert new == text.replace(" 1 3600 1800", " 2026112399 3600 1800")
    assert [key(e) for e in entries] == [key(e) for e in zone_text.parse_entries(ZONE, new)]


@pytest.mark.parametrize(
    ("add", "why"),
    [
        ({"dname": "www", "record_type": "A"}, "CNAME record cannot share the name “www."),
        ({"dname": "txt", "record_type": "CNAME", "data": "example.net."}, "“txt.example.com.”"),
        ({"dname": "fresh", "record_type": "A"}, None),
    ],
)
def test_an_edit_is_checked_at_the_owners_it_touched(add: dict[str, str], why: str | None) -> None:
    text = base_text()
    zone = zones.Zone(ZONE, 1, text, 1)
    new = changes.apply_edits(zone, [change(**add)], [], [])
    cached = parsed.PARSED.get(ZONE, new)
    assert cached is not None and cached[1] is not None
    assert f"{add['dname']}.example.com." in cached[1]
    if why is None:
        validate.check_structure(ZONE, cached[0], owners=cached[1])
        return
    with pytest.raises(errors.InvalidZone) as quick:
        validate.check_structure(ZONE, cached[0], owners=cached[1])
    assert why in quick.value.reason


# A record's data must fit its 16-bit length on the wire (RDLENGTH): 65,535 bytes. A TXT
# string of n bytes takes n + 1.
FULL = '"' + "a" * 255 + '"'  # 256 bytes on the wire
SIZES = [
    ("exactly 65,535 bytes", [FULL] * 255 + ['"' + "a" * 254 + '"'], None),
    ("65,536 bytes", [FULL] * 256, "would be 65,536 bytes on the wire"),
    ("4,000 full strings", [FULL] * 4000, "would be 1,024,000 bytes on the wire"),
    ("two-byte characters", ['"' + "é" * 127 + '"'] * 300, "would be 76,500 bytes on the wire"),
    ("a long DKIM-sized key", ['"' + "k" * 250 + '"'] * 9, None),
]


@pytest.mark.parametrize(("case", "strings", "why"), SIZES, ids=[s[0] for s in SIZES])
def test_a_record_over_65535_bytes_on_the_wire_is_refused_by_the_whole_zone_check(
    case: str, strings: list[str], why: str | None
) -> None:
    line = "big\t300\tIN\tTXT\t" + " ".join(strings)
    text = base_text() + line + "\n"
    if why is None:
        validate.validate(ZONE, text)
        return
    with pytest.raises(errors.InvalidZone) as refused:
        validate.validate(ZONE, text)
    line_number = text.count("\n")
    assert refused.value.reason.startswith(f"The DNS zone “{ZONE}” would be invalid (line ")
    assert why in refused.value.reason and "at most 65,535" in refused.value.reason
    assert refused.value.data["detail"]["by_line"][0][0] == line_number


@pytest.mark.parametrize(("case", "strings", "why"), SIZES, ids=[s[0] for s in SIZES])
def test_a_record_over_65535_bytes_on_the_wire_is_refused_by_the_edit_check(
    case: str, strings: list[str], why: str | None
) -> None:
    zone = zones.Zone(ZONE, 1, base_text(), 1)
    data = [s.strip('"') for s in strings]
    raw = {"dname": "big", "ttl": 60, "record_type": "TXT", "data": data}
    new = changes.apply_edits(zone, [zone_wire.change_from_item(ZONE, raw, edit=False)], [], [])
    cached = parsed.PARSED.get(ZONE, new)
    assert cached is not None and cached[1] is not None  # the quick path, not the whole read
    if why is None:
        validate.check_structure(ZONE, cached[0], owners=cached[1])
        return
    with pytest.raises(errors.InvalidZone) as refused:
        validate.check_structure(ZONE, cached[0], owners=cached[1])
    assert why in refused.value.reason


def test_a_record_without_an_owner_is_measured_too() -> None:
    """A line that continues the owner before it (leading blank) is read on its own."""
    text = base_text() + "host\t300\tIN\tA\t192.0.2.9\n\t300\tIN\tTXT\t" + " ".join([FULL] * 300)
    with pytest.raises(errors.InvalidZone, match="would be 76,800 bytes on the wire"):
        validate.validate(ZONE, text + "\n")


# -- a line replaced or removed (WHM editzonerecord / removezonerecord on comments, $TTL) ---


def _line_entry(zone: zones.Zone, raw: str) -> zone_text.Entry:
    return next(e for e in parsed.parse(ZONE, zone.text) if e.raw == raw)


@pytest.mark.parametrize(
    ("raw", "new_line"),
    [
        ("$TTL 300", None),  # `late` takes its TTL from it
        ("$TTL 300", "$TTL 600"),
        ("$TTL 300", "; a comment now"),
    ],
    ids=["remove", "change", "made a comment"],
)
def test_a_ttl_line_a_record_relies_on_stays(raw: str, new_line: str | None) -> None:
    # cPanel writes every record with its own TTL when it saves, so no record's TTL changes;
    # gatehouse keeps the lines, so it refuses what would change one (and names it).
    zone = zones.Zone(ZONE, 1, base_text(), 1)
    late = next(e for e in parsed.parse(ZONE, zone.text) if e.dname == "late")
    with pytest.raises(InvalidParameter) as refused:
        changes.replace_entry(zone, _line_entry(zone, raw), new_line)
    # `late`'s 1-based line in the new text (one up when the line before it went).
    line = late.line_index + (0 if new_line is None else 1)
    assert refused.value.reason.startswith(f"The record on line {line} has no TTL of its own")
    assert "from 300 to" in refused.value.reason


@pytest.mark.parametrize(
    ("raw", "new_line"),
    [("$TTL 14400", None), ("$TTL 14400", "$TTL 60"), ("; a comment line", "; other words")],
    ids=["remove", "change", "a comment"],
)
def test_a_line_no_record_relies_on_is_replaced_in_place(raw: str, new_line: str | None) -> None:
    # The template's records each give their TTL: its `$TTL` line may go.
    zone = zones.Zone(ZONE, 1, base_text(), 1)
    new = changes.replace_entry(zone, _line_entry(zone, raw), new_line)
    old_lines = zone.text.split("\n")
    index = old_lines.index(raw)
    middle = [] if new_line is None else [new_line]
    assert new.split("\n") == [*old_lines[:index], *middle, *old_lines[index + 1 :]]


def test_record_hashes_leave_out_origin_lines_and_show_targets_without_the_dot() -> None:
    # Cpanel/Net/DNS/ZoneFile/LDNS.pm: `$ORIGIN` lines are dropped; the CNAME, MX, NS, PTR,
    # SRV and SOA callbacks strip the final dot of the (absolute, lower-cased) name.
    text = base_text() + "\n".join(
        [
            f"$ORIGIN {ZONE}.",
            "rel\t60\tIN\tCNAME\tMail",
            "abs\t60\tIN\tCNAME\tTarget.Example.NET.",
            "_sip._tcp\t60\tIN\tSRV\t0 5 5060 sip.example.net.",
            "_none._tcp\t60\tIN\tSRV\t0 0 0 .",
            "",
        ]
    )
    items = zone_wire.record_items(ZONE, parsed.parse(ZONE, text))
    assert not any(i["type"] == "$ORIGIN" for i in items)
    shown = {i["name"]: i for i in items if "name" in i}
    assert shown[f"rel.{ZONE}."]["cname"] == f"mail.{ZONE}"
    assert shown[f"abs.{ZONE}."]["cname"] == "target.example.net"
    assert shown[f"_sip._tcp.{ZONE}."]["target"] == "sip.example.net"
    assert shown[f"_none._tcp.{ZONE}."]["target"] == ""
    soa = next(i for i in items if i["type"] == "SOA")
    assert (soa["mname"], soa["rname"]) == (f"ns1.{ZONE}", f"hostmaster.{ZONE}")


@pytest.mark.parametrize(
    ("line", "fields"),
    [
        # LDNS.pm's TXT callback and Cpanel::DnsUtils::RR::cp_zonefile_fast_post_process.
        (
            'txt\t60\tIN\tTXT\t"a b" "c"',
            {"char_str_list": ["a b", "c"], "txtdata": "a bc", "unencoded": 1},
        ),
        ('one\t60\tIN\tTXT\t"x"', {"char_str_list": ["x"], "txtdata": "x", "unencoded": 1}),
        # LDNS.pm's CAA callback: value_legacy, the rdata as Cpanel::DnsUtils::GenericRdata.
        (
            'caa\t60\tIN\tCAA\t0 issue "letsencrypt.org"',
            {
                "flag": "0",
                "tag": "issue",
                "value": "letsencrypt.org",
                "value_legacy": "\\# 22 000569737375656C657473656E63727970742E6F7267",
            },
        ),
        (
            'crit\t60\tIN\tCAA\t128 iodef "mailto:a@example.com"',
            {
                "flag": "128",
                "tag": "iodef",
                "value": "mailto:a@example.com",
                "value_legacy": "\\# 27 8005696F6465666D61696C746F3A61406578616D706C652E636F6D",
            },
        ),
    ],
)
def test_record_hashes_of_txt_and_caa_carry_cpanels_keys(line: str, fields: dict[str, Any]) -> None:
    text = base_text() + line + "\n"
    items = zone_wire.record_items(ZONE, parsed.parse(ZONE, text))
    item = items[-1]
    assert {k: item[k] for k in fields} == fields
    assert set(item) == {"Line", "name", "class", "ttl", "type", *fields}


def test_parse_dns_zone_gives_owners_and_targets_as_cpanels_parser() -> None:
    # Cpanel::ZoneFile::Parse: libldns's absolute owner with `.<zone>.` taken off (the apex
    # stays absolute), and the names in a record's data absolute.
    text = base_text() + f"abs.{ZONE}.\t60\tIN\tCNAME\tMail\nrel\t60\tIN\tMX\t5 @\n"
    items = {
        (base64.b64decode(i["dname_b64"]).decode(), i["record_type"]): [
            base64.b64decode(d).decode() for d in i["data_b64"]
        ]
        for i in zone_wire.payload(ZONE, text)
        if i["type"] == "record"
    }
    assert items[("abs", "CNAME")] == [f"Mail.{ZONE}."]
    assert items[("rel", "MX")] == ["5", f"{ZONE}."]
    assert items[(f"{ZONE}.", "SOA")][:2] == [f"ns1.{ZONE}.", f"hostmaster.{ZONE}."]
    assert items[("localhost", "A")] == ["127.0.0.1"]
