"""UAPI `DNS`: parse_zone and mass_edit_zone — the cPanel-account face of WHM's parse_dns_zone
and mass_edit_dns_zone, with the same items, the same rules and the same domain code
(gatehouse.dns, gatehouse.api.zone_wire; docs/cpanel-dns.md).

cPanel 11.120's Cpanel/API/DNS.pm: the zone must be one the account controls ("You do not
control a DNS zone named “Z”.", for another account's zone and a missing one alike); a mass
edit needs `serial` (the zone's current one, else the Stale error) and at least one `add`,
`edit` or `remove`; an account may create, edit and remove only A, AAAA, CAA, CNAME, MX, SRV
and TXT records (Cpanel::ZoneEdit::User). The answer is `{"new_serial":"…"}`, the serial as
a string (compatibility.md).
"""

from __future__ import annotations

from typing import Any

from gatehouse.api import zone_wire
from gatehouse.api.call import Call
from gatehouse.cpanel import args
from gatehouse.cpanel.registry import UapiResult, uapi
from gatehouse.dns import changes, zones
from gatehouse.dns.edits import apply_mass_edit
from gatehouse.domain import access

MODULE = "DNS"


def _own_zone(call: Call, raw: str, *, lock: bool = False) -> zones.Zone:
    """The account's own zone `raw` (domain/access.py, in cPanel's UAPI wording)."""
    actor = access.Actor(call.principal.user, call.principal.privileges)
    return access.own_zone(call.conn, actor, raw, access.UAPI_ZONE, lock=lock)


def _zone_name(call: Call) -> str:
    # Cpanel::Args' refusals: "Provide the “zone” argument." / "… cannot be empty."
    raw = args.length_required(call, "zone").strip()
    if not raw:
        raise args.empty("zone")
    return raw


@uapi(
    MODULE,
    "parse_zone",
    "The account's zone as items: records (base64 name and data), comments and control lines, "
    "each with its 0-based line_index.",
    readonly=True,
    slow=True,
)
def parse_zone(call: Call) -> list[dict[str, Any]]:
    zone = _own_zone(call, _zone_name(call))
    return zone_wire.payload(zone.name, zone.text)


@uapi(
    MODULE,
    "mass_edit_zone",
    "Add, edit and remove records of the account's zone in one change, if its serial still "
    "matches.",
    slow=True,
)
def mass_edit_zone(call: Call) -> UapiResult:
    name = _zone_name(call)
    serial = zone_wire.require_serial(call.params, args.missing, args.empty)
    zone = _own_zone(call, name, lock=True)
    edit = zone_wire.parse_mass_edit(zone.name, call.params)
    changes.check_account_types(zone, edit)
    new_serial = apply_mass_edit(call, zone, serial, edit)
    # cPanel marks this answer transformed (lego's fixture recorded from a real server).
    return UapiResult(data={"new_serial": str(new_serial)}, metadata={"transformed": 1})
