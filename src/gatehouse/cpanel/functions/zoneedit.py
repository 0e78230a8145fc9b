"""cPanel API 2 `ZoneEdit`: fetchzones, fetchzone, fetchzone_records, get_zone_record,
add_zone_record, edit_zone_record and remove_zone_record (docs/cpanel-dns.md).

These are what ACME DNS-01 clients call with an account's token (certbot-dns-cpanel, whose
exact sequence the tests replay): fetchzones → add_zone_record → fetchzone_records (name,
type, txtdata, ttl) → remove_zone_record for every `line` returned, highest first. The last
step deletes whatever the filters let through, so fetchzone_records applies EVERY filter given.

Shapes follow cPanel 11.120 (Cpanel/ZoneEdit.pm, Cpanel/Admin/Modules/Cpanel/zone.pm,
Whostmgr/DNS.pm): the read functions answer items as Cpanel::ZoneFile shows records (`Line`
and `line`, 1-based); the write functions report their own outcome inside the one item,
`[{"result":{"status":1|0,"statusmsg":...,"newserial":...}}]`, and the call itself succeeds —
certbot-dns-cpanel reads `data[0].result.status` and `statusmsg`. An account reaches only its
own zones; another account's zone and a zone that does not exist get the same refusal.

Every change goes through gatehouse.dns.zones (lock, whole-zone validation, serial bump,
compare-and-swap): the same code as WHM's addzonerecord/editzonerecord/removezonerecord.
"""

from __future__ import annotations

from typing import Any

from gatehouse.api import zone_wire
from gatehouse.api.call import Call
from gatehouse.cpanel.registry import api2
from gatehouse.dns import changes, zones
from gatehouse.dns.edits import save_edit
from gatehouse.domain import access
from gatehouse.errors import GatehouseError, InvalidParameter, missing_parameter
from gatehouse.numerals import perl_abs_int

MODULE = "ZoneEdit"

# The record types each function may touch (Cpanel::Admin::Modules::Cpanel::zone ADD, DELETE
# and EDIT for an account holding the zoneedit and changemx features: gatehouse does not model
# features). cPanel's lists, so an account cannot add an MX or remove one through API 2 —
# DNS::mass_edit_zone can.
ADD_TYPES = ("A", "AAAA", "CAA", "CNAME", "NS", "SRV", "TXT")
REMOVE_TYPES = ADD_TYPES
EDIT_TYPES = ("A", "AAAA", "CAA", "CNAME", "MX", "SRV", "TXT")
_TYPE_WORDS: dict[tuple[str, ...], str] = {
    ADD_TYPES: "A, AAAA, CAA, CNAME, NS, SRV or TXT",
    EDIT_TYPES: "A, AAAA, CAA, CNAME, SRV or TXT",  # zone.pm's words leave out MX (changemx's)
}


def _zone(call: Call, *, lock: bool = False) -> zones.Zone:
    raw = (call.params.get("domain") or "").strip()
    if not raw:
        raise missing_parameter("domain")
    # The account's own zone (domain/access.py), refused in cPanel's API 2 wording for a zone
    # of another account and for one that does not exist alike.
    actor = access.Actor(call.principal.user, call.principal.privileges)
    return access.own_zone(call.conn, actor, raw, access.API2_ZONE, lock=lock)


# -- reading ---------------------------------------------------------------------------------


@api2(
    MODULE,
    "fetchzones",
    "The account's zones, each as its zone file's lines.",
    readonly=True,
    slow=True,
)
def fetchzones(call: Call) -> list[dict[str, Any]]:
    out: dict[str, list[str]] = {}
    for name in zones.names_of_user(call.conn, call.principal.user.id):
        zone = zones.get(call.conn, name)
        if zone is None:  # deleted between the two reads: not the account's any more
            continue
        lines = zone.text.split("\n")
        while lines and lines[-1] == "":
            lines.pop()  # Perl's split drops trailing empty fields
        out[zone.name] = lines
    # Cpanel::Admin::Modules::Cpanel::zone RAWFETCHALL. Choice: cPanel also lists, with an
    # empty list, every parent domain that could hold records of the account's domains;
    # gatehouse lists only zones that exist and are the account's.
    return [{"status": 1, "statusmsg": "Zones fetched", "zones": out}]


@api2(
    MODULE,
    "fetchzone_records",
    "A zone's entries, filtered by every field given (name, type, txtdata, ttl, line, ...).",
    readonly=True,
    slow=True,
)
def fetchzone_records(call: Call) -> list[dict[str, Any]]:
    return _records(call)


def _records(call: Call) -> list[dict[str, Any]]:
    # Choice: cPanel answers `[]` when the zone is not the account's (its FETCH error is
    # swallowed); gatehouse says why, in API 2's error shape — a client then stops instead of
    # concluding that the record is gone.
    zone = _zone(call)
    return zone_wire.filter_items(zone.name, zone_wire.items(zone), call.params)


@api2(
    MODULE,
    "get_zone_record",
    "The same as fetchzone_records (cPanel maps it there), e.g. with `line`.",
    readonly=True,
    slow=True,
)
def get_zone_record(call: Call) -> list[dict[str, Any]]:
    return _records(call)


@api2(
    MODULE,
    "fetchzone",
    "A zone's entries and serial (filters as fetchzone_records).",
    readonly=True,
    slow=True,
)
def fetchzone(call: Call) -> list[dict[str, Any]]:
    # Cpanel::ZoneEdit::api2_fetchzone: one item with the adminbin's own status.
    try:
        zone = _zone(call)
    except GatehouseError as exc:
        return [{"status": 0, "statusmsg": exc.reason}]
    records = zone_wire.filter_items(zone.name, zone_wire.items(zone), call.params)
    return [
        {
            "record": records,
            "serialnum": str(zone.serial),
            "status": 1,
            "statusmsg": "Zone Serialized",
        }
    ]


# -- changing --------------------------------------------------------------------------------


def _result(status: int, statusmsg: str, newserial: int | None) -> list[dict[str, Any]]:
    # Choice: `newserial` is a string, as mass_edit_zone's `new_serial` (a typed client fails
    # on a number), and null when nothing changed (cPanel: undef on a refusal).
    return [
        {
            "result": {
                "newserial": None if newserial is None else str(newserial),
                "status": status,
                "statusmsg": statusmsg,
            }
        }
    ]


def _only(record_type: str, allowed: tuple[str, ...], verb: str) -> None:
    if record_type not in allowed:
        raise InvalidParameter(f"You may only {verb} {_TYPE_WORDS[allowed]} records.")


def _save(call: Call, zone: zones.Zone, text: str, what: str) -> list[dict[str, Any]]:
    new_serial = save_edit(call, zone, text, what)
    # Choice: cPanel's statusmsg is dnsadmin's reload output; gatehouse says what it did.
    return _result(1, f"The DNS zone “{zone.name}” was saved with serial {new_serial}.", new_serial)


@api2(
    MODULE, "add_zone_record", "Add one record (name relative to the zone, or absolute).", slow=True
)
def add_zone_record(call: Call) -> list[dict[str, Any]]:
    # zone.pm ADD, then Whostmgr::DNS::add_zone_record, which reads no serial: a `serialnum`
    # is ignored, as in cPanel (an addition goes at the end whatever changed).
    try:
        zone = _zone(call, lock=True)
        _only(zone_wire.request_type(call.params.get), ADD_TYPES, "add")
        change = zone_wire.change_from_fields(zone, call.params.get)
        text = changes.apply_edits(zone, [change], [], [])
        return _save(call, zone, text, "1 added")
    except GatehouseError as exc:
        return _result(0, exc.reason, None)


def _line(raw: str | None) -> int:
    """A line as Cpanel/ZoneEdit.pm and zone.pm read it, `x && abs int x`: 0 for a missing,
    empty or non-numeric one, `-5` as 5, `13=192.0.2.1` as 13."""
    return perl_abs_int(raw) if raw else 0


@api2(
    MODULE, "edit_zone_record", "Change the record on a line; fields not given are kept.", slow=True
)
def edit_zone_record(call: Call) -> list[dict[str, Any]]:
    # zone.pm EDIT, in its order: the zone, the line (`Line`, else `line`), the record on it
    # (Cpanel::ZoneFile::get_record: a comment or `$TTL` line is found, and refused by type),
    # the types of the record and of what it becomes, then Whostmgr::DNS::edit_zone_record
    # (the serial, the record).
    try:
        zone = _zone(call, lock=True)
        given_line = call.params.get("Line")
        line = _line(given_line if given_line is not None else call.params.get("line"))
        if line <= 0:
            raise InvalidParameter("You must specify a valid line when you call EDIT.")
        entry = zone_wire.entry_on_line(zone, line)
        if entry is None:
            raise InvalidParameter(f"Failed to fetch record on line: {line}")
        _only(entry.record_type, EDIT_TYPES, "edit")
        # Whostmgr::DNS::edit_zone_record: the fields given replace the record's own.
        given = zone_wire.given_over(zone.name, entry, call.params.get)
        _only(zone_wire.request_type(given), EDIT_TYPES, "edit")
        zone_wire.check_serialnum(zone, call.params)
        change = zone_wire.edit_change(zone, entry, call.params.get)
        text = changes.apply_edits(zone, [], [change], [])
        return _save(call, zone, text, "1 edited")
    except GatehouseError as exc:
        return _result(0, exc.reason, None)


@api2(MODULE, "remove_zone_record", "Remove the record on a line.", slow=True)
def remove_zone_record(call: Call) -> list[dict[str, Any]]:
    # Cpanel/ZoneEdit.pm api2_remove_zone_record (`line` if not 0, else `Line`), then zone.pm
    # DELETE: the zone, the line, the record's type (a comment, `$TTL` line or nothing on the
    # line is refused so). It passes no serial on: a `serialnum` is ignored, as in cPanel.
    try:
        zone = _zone(call, lock=True)
        line = _line(call.params.get("line")) or _line(call.params.get("Line"))
        if not line:
            raise InvalidParameter("You must specify a valid line when you call DELETE: ")
        entry = zone_wire.entry_on_line(zone, line)
        _only(entry.record_type if entry is not None else "", REMOVE_TYPES, "delete")
        text = changes.apply_edits(zone, [], [], [line - 1])
        return _save(call, zone, text, "1 removed")
    except GatehouseError as exc:
        return _result(0, exc.reason, None)
