"""The DNS zone functions: parse_dns_zone, mass_edit_dns_zone, listzones, dumpzone, adddns,
killdns, resetzone, addzonerecord, editzonerecord, removezonerecord and getzonerecord
(docs/dns.md).

Shapes and wording follow cPanel 11.120 (Whostmgr/API/1/DNS.pm, Cpanel::ZoneFile::Parse,
Cpanel::APICommon::Error), the WHM API 1 reference (api.docs.cpanel.net, dns-zones) and
compatibility.md's DNS section. Where gatehouse had to choose, the comment says so ("Choice:").

Access (cPanel's Whostmgr::Authz::verify_domain_access): root, or a reseller holding `all`,
reaches every zone; a reseller the zones of its own account and of the accounts it owns. A
zone the caller may not reach and a zone that does not exist get the same refusal, so a
reseller learns nothing about other resellers' domains.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

import sqlalchemy as sa

from gatehouse.domain import audit, lifecycle, users, zones
from gatehouse.errors import InvalidParameter, NotFound, PermissionDenied, no_access_to_account
from gatehouse.store.schema import users as users_table
from gatehouse.whmapi.call import Call
from gatehouse.whmapi.registry import REGISTRY, Param, Reply

# Choice: cPanel does not publish which ACL guards parse_dns_zone and mass_edit_dns_zone (the
# v1 dispatch table is compiled); they read and edit zone records, as the functions that
# `manage-dns-records` guards in WHM API 0 do.
_RECORDS = ("manage-dns-records",)


def _sees_all(call: Call) -> bool:
    return lifecycle.has_root(call.principal.user, call.principal.privileges)


def _no_access(name: str) -> PermissionDenied:
    # Choice: one wording for "not yours" and "does not exist" when the caller is not root.
    return PermissionDenied(f"You do not have access to the DNS zone “{name}”.", code="not_owner")


def _zone_name(call: Call, *keys: str) -> str:
    raw = ""
    for key in keys:
        raw = (call.params.get(key) or "").strip()
        if raw:
            if key == "zone" and raw.endswith(".db"):
                raw = raw[: -len(".db")]  # cPanel accepts the zone file's name
            break
    if not raw:
        raise InvalidParameter(f"Missing parameter: {keys[0]}")
    return users.normalise_domain(raw)


def _zone_for(call: Call, name: str, *, lock: bool = False) -> zones.Zone:
    """The zone `name`, if the caller may reach it. `lock` takes the write lock first (it must
    be the call's first statement: see zones.lock)."""
    if lock:
        zones.lock(call.conn, name)
    zone = zones.get(call.conn, name)
    if zone is None:
        if _sees_all(call):
            raise NotFound(f"The DNS zone “{name}” does not exist.")
        raise _no_access(name)
    if not _sees_all(call):
        caller = call.principal.user
        _uid, username, owner = zones.owner_of(call.conn, zone)
        if username != caller.username and owner != caller.username:
            raise _no_access(name)
    return zone


# -- parse_dns_zone / mass_edit_dns_zone --------------------------------------------------


@REGISTRY.function(
    "parse_dns_zone",
    "Read a DNS zone as items: records (dname, ttl, type, data, base64) with comments and "
    "control lines, each with its 0-based line_index.",
    params=(Param("zone", "The zone, e.g. example.com.", required=True),),
    privileges=_RECORDS,
    readonly=True,
)
def parse_dns_zone(call: Call) -> dict[str, Any]:
    zone = _zone_for(call, _zone_name(call, "zone"))
    return {"payload": zones.payload(zone.name, zone.text)}


def _json_items(call: Call, key: str) -> list[Any]:
    out = []
    for raw in call.params.getlist(key):
        if raw == "":
            continue
        try:
            out.append(json.loads(raw))
        except ValueError:
            raise InvalidParameter(f"The “{key}” value “{raw}” is not valid JSON.") from None
    return out


@REGISTRY.function(
    "mass_edit_dns_zone",
    "Add, edit and remove records of a DNS zone in one change, if its serial still matches.",
    params=(
        Param("zone", "The zone, e.g. example.com.", required=True),
        Param("serial", "The zone's current SOA serial (from parse_dns_zone).", required=True),
        Param(
            "add",
            'JSON `{"dname","ttl","record_type","data":[...]}`; dname relative or absolute.',
            multi=True,
        ),
        Param("edit", "JSON as for `add`, with the `line_index` of the record.", multi=True),
        Param("remove", "The `line_index` of a record to remove.", multi=True),
    ),
    privileges=_RECORDS,
)
def mass_edit_dns_zone(call: Call) -> dict[str, Any]:
    name = _zone_name(call, "zone")
    raw_serial = call.require("serial").strip()
    if not raw_serial.isdigit():
        raise InvalidParameter(f"The serial “{raw_serial}” is not a number.")
    zone = _zone_for(call, name, lock=True)
    raw_removes = [r.strip() for r in call.params.getlist("remove") if r.strip() != ""]
    raw_adds = _json_items(call, "add")
    raw_edits = _json_items(call, "edit")
    if not raw_adds and not raw_edits and not raw_removes:
        raise InvalidParameter("You must provide at least one change to the DNS zone.")
    removes = []
    for r in raw_removes:
        if not r.isdigit():
            raise InvalidParameter(f"The “remove” value “{r}” is not a line index.")
        removes.append(int(r))
    adds = [zones.change_from_json(zone.name, a, edit=False) for a in raw_adds]
    edits = [zones.change_from_json(zone.name, e, edit=True) for e in raw_edits]
    new_serial = zones.mass_edit(
        call.conn,
        zone.name,
        serial=int(raw_serial),
        adds=adds,
        edits=edits,
        removes=removes,
        now=call.now,
    )
    call.audit(
        audit.ZONE_EDIT,
        zone.name,
        f"serial {raw_serial} -> {new_serial}: {len(adds)} added, {len(edits)} edited, "
        f"{len(removes)} removed",
    )
    # compatibility.md: the serial as a STRING (a typed client fails on a number).
    return {"new_serial": str(new_serial)}


# -- listzones / dumpzone ------------------------------------------------------------------


@REGISTRY.function(
    "listzones",
    "List the DNS zones the caller may manage.",
    privileges=("manage-dns-records",),
    readonly=True,
)
def listzones(call: Call) -> dict[str, Any]:
    caller = call.principal.user
    names = zones.list_visible(
        call.conn, all_zones=_sees_all(call), caller_id=caller.id, caller=caller.username
    )
    # Choice: cPanel omits `data` when there is no zone; gatehouse answers an empty list, so
    # that `data.zone` is always there.
    return {"zone": [{"domain": n, "zonefile": f"{n}.db"} for n in names]}


_DUMP_FIELDS: dict[str, tuple[str, ...]] = {
    "A": ("address",),
    "AAAA": ("address",),
    "CNAME": ("cname",),
    "DNAME": ("dname",),
    "NS": ("nsdname",),
    "PTR": ("ptrdname",),
    "MX": ("preference", "exchange"),
    "SRV": ("priority", "weight", "port", "target"),
    "SOA": ("mname", "rname", "serial", "refresh", "retry", "expire", "minimum"),
    "CAA": ("flag", "tag", "value"),
}


def _dump_record(zone: str, entry: zones.Entry) -> dict[str, Any]:
    """One of dumpzone's `record` items (cPanel's Cpanel::ZoneFile record hashes)."""
    line = entry.line_index + 1  # Choice: 1-based `Line`, as the API 2 ZoneEdit functions
    if entry.kind == "comment":
        return {"Line": line, "Lines": 1, "type": ":COMMENT", "raw": entry.raw}
    if entry.kind == "control":
        words = entry.raw.split()
        item: dict[str, Any] = {"Line": line, "Lines": 1, "type": f"${words[0][1:].upper()}"}
        if len(words) > 1:
            item["ttl" if item["type"] == "$TTL" else "value"] = words[1]
        item["raw"] = entry.raw
        return item
    name = entry.dname if entry.dname.endswith(".") else f"{entry.dname}.{zone}."
    record: dict[str, Any] = {
        "Line": line,
        "Lines": entry.line_count,
        "name": name,
        "class": "IN",
        "ttl": entry.ttl,
        "type": entry.record_type,
    }
    fields = _DUMP_FIELDS.get(entry.record_type)
    if entry.record_type in ("TXT", "SPF"):
        record["txtdata"] = "".join(entry.data)
        record["txtdata_list"] = list(entry.data)  # Choice: every string, for multi-part TXT
    elif fields and len(fields) == len(entry.data):
        record.update(dict(zip(fields, entry.data, strict=True)))
    else:
        record["record"] = " ".join(entry.data)
    return record


@REGISTRY.function(
    "dumpzone",
    "A DNS zone's records, one item per line (or record spanning lines).",
    params=(
        Param("domain", "The zone, e.g. example.com.", required=True),
        Param("zone", "Another way to name it (`example.com` or `example.com.db`)."),
    ),
    privileges=("manage-dns-records",),
    readonly=True,
)
def dumpzone(call: Call) -> Reply:
    if not (call.params.get("domain") or call.params.get("zone")):
        raise InvalidParameter("You must specify a zone to dump.")
    zone = _zone_for(call, _zone_name(call, "domain", "zone"))
    records = [_dump_record(zone.name, e) for e in zones.parse(zone.name, zone.text)]
    return Reply(data={"zone": [{"record": records}]}, reason="Zone Serialized")


# -- adddns / killdns / resetzone ----------------------------------------------------------


def _account_ip(call: Call, username: str) -> str:
    """The account's recorded address, else the server's (as createacct records it)."""
    row = call.conn.execute(
        sa.select(users_table.c.ip).where(users_table.c.username == username)
    ).first()
    return (row.ip if row is not None else None) or users.server_ip(call.gatehouse.config.bind)


@REGISTRY.function(
    "adddns",
    "Create a DNS zone from the default template, for an account.",
    params=(
        Param("domain", "The new zone, e.g. example.com.", required=True),
        Param("ip", "The address for the domain's A (or AAAA) records.", required=True),
        Param("trueowner", "The account that owns the zone (default: the caller)."),
    ),
    privileges=("create-dns",),
)
def adddns(call: Call) -> Reply:
    caller = call.principal.user
    domain = users.normalise_domain(call.require("domain"))
    raw_ip = call.require("ip").strip()
    try:
        ip = str(ipaddress.ip_address(raw_ip))
    except ValueError:
        raise InvalidParameter(f"“{raw_ip}” is not a valid IP address.") from None
    owner_name = (call.params.get("trueowner") or "").strip() or caller.username
    owner = users.get(call.conn, owner_name)
    if owner is None:
        if _sees_all(call):
            raise NotFound(f"The user “{owner_name}” does not exist.")
        raise no_access_to_account(owner_name)
    if not _sees_all(call) and owner.id != caller.id and owner.owner != caller.username:
        raise no_access_to_account(owner_name)
    # Choice: cPanel lets root overwrite an existing zone (allowoverwrite); gatehouse never
    # overwrites: killdns first.
    zone = zones.create(
        call.conn,
        domain,
        user_id=owner.id,
        ip=ip,
        nameservers=call.gatehouse.config.nameserver_list,
        now=call.now,
        contact=owner.contact_email,
    )
    call.audit(audit.ZONE_CREATE, zone.name, f"owner {owner.username}, ip {ip}")
    # Choice: cPanel's doadddns status text is not public in full.
    return Reply(has_data=False, reason=f"Added {zone.name} ok belonging to user {owner.username}")


@REGISTRY.function(
    "killdns",
    "Delete a DNS zone.",
    params=(Param("domain", "The zone, e.g. example.com.", required=True),),
    privileges=("kill-dns",),
)
def killdns(call: Call) -> Reply:
    if not (call.params.get("domain") or "").strip():
        raise InvalidParameter("A domain is required.")
    name = _zone_name(call, "domain")
    zone = _zone_for(call, name, lock=True)
    zones.delete(call.conn, zone.name)
    call.audit(audit.ZONE_DELETE, zone.name, f"serial {zone.serial}")
    raw = f"Removing zone {zone.name}...Done\n"
    return Reply(has_data=False, reason="OK", metadata={"output": {"raw": raw}})


@REGISTRY.function(
    "resetzone",
    "Rewrite a DNS zone from the default template (its records are lost; the serial goes on).",
    params=(
        Param("domain", "The zone, e.g. example.com.", required=True),
        Param("zone", "Another way to name it (`example.com` or `example.com.db`)."),
    ),
    privileges=("manage-dns-records",),
)
def resetzone(call: Call) -> Reply:
    name = _zone_name(call, "domain", "zone")
    zone = _zone_for(call, name, lock=True)
    _uid, username, _owner = zones.owner_of(call.conn, zone)
    new_serial = zones.reset(
        call.conn,
        zone,
        ip=_account_ip(call, username),
        nameservers=call.gatehouse.config.nameserver_list,
        now=call.now,
    )
    call.audit(audit.ZONE_RESET, zone.name, f"serial {zone.serial} -> {new_serial}")
    return Reply(has_data=False, reason="OK")


# -- addzonerecord / editzonerecord / removezonerecord / getzonerecord ----------------------
# The older one-record functions. `line` (or `Line`) is the record's 1-based `Line` as dumpzone
# shows it (choice: cPanel's docs do not say; dumpzone and these agree). `serialnum`, when
# given, must be the zone's serial (else the stale error); without it the change applies to
# the zone as it is, still atomically.

_LEGACY_DATA: dict[str, tuple[str, ...]] = {**_DUMP_FIELDS, "TXT": ("txtdata",)}
_LEGACY_PARAMS = (
    Param("domain", "The zone, e.g. example.com (or `zone`).", required=True),
    Param("name", "The record's name: relative, or absolute with a trailing dot."),
    Param("type", "The record type (A, AAAA, CNAME, MX, NS, PTR, SRV, TXT, CAA, ...)."),
    Param("ttl", "The TTL (default 14400)."),
    Param("class", "IN (the only class accepted)."),
    Param("serialnum", "Optional: the zone's current serial; refused as stale if not."),
    *(
        Param(f, "Record data for the types that use it.")
        for f in sorted({f for fields in _LEGACY_DATA.values() for f in fields})
    ),
)


def _legacy_line(call: Call) -> int:
    raw = (call.params.get("line") or call.params.get("Line") or "").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise InvalidParameter("The “line” parameter must be a line number (1 or more).")
    return int(raw)


def _legacy_zone(call: Call) -> zones.Zone:
    name = _zone_name(call, "domain", "zone")
    zone = _zone_for(call, name, lock=True)
    raw = (call.params.get("serialnum") or "").strip()
    if raw and (not raw.isdigit() or int(raw) != zone.serial):
        raise zones.stale(zone.name, int(raw) if raw.isdigit() else 0)
    return zone


def _legacy_change(call: Call, zone: zones.Zone, *, line_index: int | None) -> zones.Change:
    record_type = (call.params.get("type") or "").strip().upper()
    if not record_type:
        raise InvalidParameter("Missing parameter: type")
    if (call.params.get("class") or "IN").upper() != "IN":
        raise InvalidParameter("Only the “IN” class is supported.")
    name = (call.params.get("name") or "").strip()
    lowered = name.lower()
    if not name.endswith(".") and (lowered == zone.name or lowered.endswith(f".{zone.name}")):
        name += "."  # Choice: a full name without its trailing dot is taken as absolute.
    fields = _LEGACY_DATA.get(record_type)
    if fields is None:
        raise InvalidParameter(f"This interface cannot handle “{record_type}” records.")
    data = []
    for f in fields:
        value = (call.params.get(f) or "").strip()
        if not value:
            raise InvalidParameter(f"Missing parameter: {f}")
        data.append(value)
    raw_ttl = (call.params.get("ttl") or str(zones.DEFAULT_TTL)).strip()
    item: dict[str, Any] = {
        "dname": name,
        "ttl": int(raw_ttl) if raw_ttl.isdigit() else raw_ttl,
        "record_type": record_type,
        "data": data,
    }
    if line_index is not None:
        item["line_index"] = line_index
    return zones.change_from_json(zone.name, item, edit=line_index is not None)


@REGISTRY.function(
    "addzonerecord",
    "Add one record to a DNS zone (at its end).",
    params=_LEGACY_PARAMS,
    privileges=("manage-dns-records",),
)
def addzonerecord(call: Call) -> Reply:
    zone = _legacy_zone(call)
    change = _legacy_change(call, zone, line_index=None)
    new_serial = zones.save(call.conn, zone, zones.apply_edits(zone, [change], [], []), call.now)
    call.audit(audit.ZONE_EDIT, zone.name, f"serial {zone.serial} -> {new_serial}: 1 added")
    return Reply(has_data=False, reason="OK")


@REGISTRY.function(
    "editzonerecord",
    "Replace the record at a line of a DNS zone.",
    params=(Param("line", "The record's `Line` (dumpzone).", required=True), *_LEGACY_PARAMS),
    privileges=("manage-dns-records",),
)
def editzonerecord(call: Call) -> Reply:
    line = _legacy_line(call)
    zone = _legacy_zone(call)
    change = _legacy_change(call, zone, line_index=line - 1)
    new_serial = zones.save(call.conn, zone, zones.apply_edits(zone, [], [change], []), call.now)
    call.audit(audit.ZONE_EDIT, zone.name, f"serial {zone.serial} -> {new_serial}: 1 edited")
    return Reply(has_data=False, reason="OK")


@REGISTRY.function(
    "removezonerecord",
    "Remove the record at a line of a DNS zone.",
    params=(
        Param("zone", "The zone, e.g. example.com (or `domain`).", required=True),
        Param("line", "The record's `Line` (dumpzone).", required=True),
        Param("serialnum", "Optional: the zone's current serial; refused as stale if not."),
    ),
    privileges=("manage-dns-records",),
)
def removezonerecord(call: Call) -> Reply:
    line = _legacy_line(call)
    zone = _legacy_zone(call)
    new_serial = zones.save(call.conn, zone, zones.apply_edits(zone, [], [], [line - 1]), call.now)
    call.audit(audit.ZONE_EDIT, zone.name, f"serial {zone.serial} -> {new_serial}: 1 removed")
    return Reply(has_data=False, reason="OK")


@REGISTRY.function(
    "getzonerecord",
    "One record of a DNS zone, by line, in dumpzone's shape.",
    params=(
        Param("domain", "The zone, e.g. example.com (or `zone`).", required=True),
        Param("line", "The record's `Line` (dumpzone).", required=True),
    ),
    privileges=("manage-dns-records",),
    readonly=True,
)
def getzonerecord(call: Call) -> dict[str, Any]:
    line = _legacy_line(call)
    zone = _zone_for(call, _zone_name(call, "domain", "zone"))
    for entry in zones.parse(zone.name, zone.text):
        if entry.line_index == line - 1:
            return {"record": [_dump_record(zone.name, entry)]}
    raise InvalidParameter(f"The DNS zone “{zone.name}” has no record at line {line}.")
