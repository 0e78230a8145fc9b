"""The DNS zone functions: parse_dns_zone, mass_edit_dns_zone, listzones, dumpzone, adddns,
killdns, resetzone, addzonerecord, editzonerecord, removezonerecord and getzonerecord
(docs/dns.md).

Shapes and wording follow cPanel 11.120 (Whostmgr/API/1/DNS.pm, Cpanel::ZoneFile::Parse,
Cpanel::APICommon::Error), the WHM API 1 reference (api.docs.cpanel.net, dns-zones) and
compatibility.md's DNS section. Where gatehouse had to choose, the comment says so ("Choice:").
What these share with the cPanel face's DNS functions (UAPI `DNS`, API 2 `ZoneEdit`) — the
record items, the one-record request fields, the mass-edit parameters — is in
gatehouse.api.zone_wire, so both faces take and show zones the same way.

Access (cPanel's Whostmgr::Authz::verify_domain_access): root, or a reseller holding `all`,
reaches every zone; a reseller the zones of its own account and of the accounts it owns. A
zone the caller may not reach and a zone that does not exist get the same refusal, so a
reseller learns nothing about other resellers' domains.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from gatehouse.api import zone_wire
from gatehouse.api.call import Call
from gatehouse.api.registry import Param, Reply
from gatehouse.dns import changes, parsed, zones
from gatehouse.dns.edits import apply_mass_edit, save_edit, save_serial_only
from gatehouse.dns.text import DEFAULT_TTL
from gatehouse.domain import access, accounts, audit, domain_names, ips, users
from gatehouse.errors import Conflict, InvalidParameter
from gatehouse.whm import api0
from gatehouse.whm.arguments import empty, missing_in
from gatehouse.whm.registry import REGISTRY

# Choice: cPanel does not publish which ACL guards parse_dns_zone and mass_edit_dns_zone (the
# v1 dispatch table is compiled); they read and edit zone records, as the functions that
# `manage-dns-records` guards in WHM API 0 do.
_RECORDS = ("manage-dns-records",)


def _sees_all(call: Call) -> bool:
    return access.actor_of(call.principal).sees_all


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


def _zone_for(
    call: Call, name: str, *, lock: bool = False, wording: access.Wording = access.WHM_ZONE
) -> zones.Zone:
    """The zone `name`, if the caller may reach it. `lock` takes the write lock first (it must
    be the call's first statement: see zones.lock). The rule is domain/access.py's."""
    actor = access.actor_of(call.principal)
    return access.require_zone(call.conn, actor, name, lock=lock, wording=wording)


def _required_zone(call: Call, function: str) -> str:
    """`zone` as parse_dns_zone and mass_edit_dns_zone require it (get_length_required_argument)."""
    raw = call.params.get("zone")
    if raw is None:
        raise missing_in("DNS", function)("zone")
    if raw == "":
        raise empty("zone")
    return _zone_name(call, "zone")


# -- parse_dns_zone / mass_edit_dns_zone --------------------------------------------------


@REGISTRY.function(
    "parse_dns_zone",
    "Read a DNS zone as items: records (dname, ttl, type, data, base64) with comments and "
    "control lines, each with its 0-based line_index.",
    params=(Param("zone", "The zone, e.g. example.com.", required=True, handler_refuses=True),),
    privileges=_RECORDS,
    readonly=True,
    slow=True,
)
def parse_dns_zone(call: Call) -> dict[str, Any]:
    name = _required_zone(call, "parse_dns_zone")
    zone = _zone_for(call, name, wording=access.AUTHZ_DOMAIN)
    return {"payload": zone_wire.payload(zone.name, zone.text)}


@REGISTRY.function(
    "mass_edit_dns_zone",
    "Add, edit and remove records of a DNS zone in one change, if its serial still matches.",
    params=(
        Param("zone", "The zone, e.g. example.com.", required=True, handler_refuses=True),
        Param(
            "serial",
            "The zone's current SOA serial (from parse_dns_zone).",
            required=True,
            handler_refuses=True,
        ),
        Param(
            "add",
            'JSON `{"dname","ttl","record_type","data":[...]}`; dname relative or absolute.',
            multi=True,
        ),
        Param("edit", "JSON as for `add`, with the `line_index` of the record.", multi=True),
        Param("remove", "The `line_index` of a record to remove.", multi=True),
    ),
    privileges=_RECORDS,
    slow=True,
)
def mass_edit_dns_zone(call: Call) -> dict[str, Any]:
    name = _required_zone(call, "mass_edit_dns_zone")
    serial = zone_wire.require_serial(call.params, missing_in("DNS", "mass_edit_dns_zone"), empty)
    zone = _zone_for(call, name, lock=True, wording=access.AUTHZ_DOMAIN)
    edit = zone_wire.parse_mass_edit(zone.name, call.params)
    new_serial = apply_mass_edit(call, zone, serial, edit)
    # compatibility.md: the serial as a STRING (a typed client fails on a number).
    return {"new_serial": str(new_serial)}


# -- listzones / dumpzone ------------------------------------------------------------------


@REGISTRY.function(
    "listzones",
    "List the DNS zones the caller may manage.",
    privileges=("manage-dns-records",),
    readonly=True,
    slow=True,
    api0=api0.listzones,
)
def listzones(call: Call) -> dict[str, Any]:
    caller = call.principal.user
    names = zones.list_visible(
        call.conn, all_zones=_sees_all(call), caller_id=caller.id, caller=caller.username
    )
    scope = access.actor_of(call.principal).scope
    if scope is not None:  # a scoped token lists the zones it reaches only
        names = [n for n in names if access.zone_in_scope(call.conn, scope, n)]
    # Choice: cPanel omits `data` when there is no zone; gatehouse answers an empty list, so
    # that `data.zone` is always there.
    return {"zone": [{"domain": n, "zonefile": f"{n}.db"} for n in names]}


@REGISTRY.function(
    "dumpzone",
    "A DNS zone's records, one item per line (or record spanning lines).",
    params=(
        Param("domain", "The zone, e.g. example.com (or `zone`)."),
        Param("zone", "Another way to name it (`example.com` or `example.com.db`)."),
    ),
    privileges=("manage-dns-records",),
    readonly=True,
    slow=True,
    api0=api0.dumpzone,
)
def dumpzone(call: Call) -> Reply:
    if not (call.params.get("domain") or call.params.get("zone")):
        raise InvalidParameter("You must specify a zone to dump.")
    zone = _zone_for(call, _zone_name(call, "domain", "zone"))
    records = zone_wire.record_items(zone.name, parsed.parse(zone.name, zone.text))
    return Reply(data={"zone": [{"record": records}]}, reason="Zone Serialized")


# -- adddns / killdns / resetzone ----------------------------------------------------------


def _account_ip(call: Call, user_id: int) -> str:
    """The account's recorded address, else the server's (as createacct records it)."""
    account = users.get_by_id(call.conn, user_id)
    recorded = account.ip if account is not None else None
    return recorded or ips.main_ip(call.gatehouse.config)


# Cpanel::DnsUtils::Add::doadddns's words (two spaces after the full stop, as there).
NO_DOMAIN = "Sorry, you must enter a domain.  Please try again."
NO_IP = "Sorry, you must enter an ip.  Please try again."


@REGISTRY.function(
    "adddns",
    "Create a DNS zone from the default template, for an account. Root (or a reseller with "
    "`all`) asking for an existing zone of that account rewrites it from the template.",
    params=(
        Param("domain", "The new zone, e.g. example.com.", required=True, handler_refuses=True),
        Param(
            "ip",
            "The IPv4 address for the domain's A records.",
            required=True,
            handler_refuses=True,
        ),
        Param("trueowner", "The account that owns the zone (default: the caller)."),
        Param("ipv6", "Optional: an IPv6 address for the domain's (and `ipv6`'s) AAAA records."),
    ),
    privileges=("create-dns",),
    slow=True,
    api0=api0.adddns,
)
def adddns(call: Call) -> Reply:
    caller = call.principal.user
    raw_domain = (call.params.get("domain") or "").strip()
    if raw_domain in ("", "0"):  # Perl's false: doadddns's `!$domain`
        raise InvalidParameter(NO_DOMAIN)
    reverse = domain_names.ReverseZones.for_adddns(
        setting=call.gatehouse.config.allow_reverse_zones, by_root=caller.is_root
    )
    domain = domain_names.new_name(raw_domain, reverse=reverse)
    raw_ip = (call.params.get("ip") or "").strip()
    if raw_ip in ("", "0"):
        raise InvalidParameter(NO_IP)
    try:
        # doadddns: `ip` is an IPv4 address (Cpanel::Validate::IP::v4::is_valid_ipv4); an IPv6
        # one goes in `ipv6`.
        ip = str(ipaddress.IPv4Address(raw_ip))
    except ValueError:
        raise InvalidParameter("Sorry, the IP address appears to be invalid.") from None
    ipv6 = _adddns_ipv6(call.params.get("ipv6"))
    zones.lock(call.conn, domain)  # the call's first statement (zones.lock)
    owner_name = (call.params.get("trueowner") or "").strip() or caller.username
    actor = access.actor_of(call.principal)
    owner = access.require_account(call.conn, actor, owner_name)
    accounts.check_domain_claim(call.conn, actor, domain, owner.id)
    existing = zones.get(call.conn, domain)
    if existing is not None:
        if actor.sees_all:
            return _overwrite(call, actor, existing.name, owner, ip, ipv6)
        raise Conflict(f"Sorry, a DNS entry for {existing.name} already exists\n")
    zone = zones.create(
        call.conn,
        domain,
        user_id=owner.id,
        ip=ip,
        nameservers=call.gatehouse.config.nameserver_list,
        now=call.now,
        hostname=call.gatehouse.config.server_hostname,
        contact=owner.contact_email,
        ipv6=ipv6,
    )
    with_ipv6 = f", ipv6 {ipv6}" if ipv6 else ""
    call.audit(audit.ZONE_CREATE, zone.name, f"owner {owner.username}, ip {ip}{with_ipv6}")
    # Choice: cPanel's doadddns status text is not public in full.
    return Reply(has_data=False, reason=f"Added {zone.name} ok belonging to user {owner.username}")


def _adddns_ipv6(raw: str | None) -> str | None:
    """adddns's optional `ipv6` (doadddns): given, it must be an IPv6 address, or `n/a`
    (Cpanel::IPv6::Normalize's "none"); an empty one is refused as cPanel refuses it."""
    if raw is None or raw == "n/a":
        return None
    try:
        return str(ipaddress.IPv6Address(raw))
    except ValueError:
        why = f"Sorry, that ({raw}) appears to be an invalid IPv6 address."
        raise InvalidParameter(why) from None


def _overwrite(
    call: Call, actor: access.Actor, name: str, owner: users.User, ip: str, ipv6: str | None
) -> Reply:
    """adddns by root over an existing zone: Cpanel::DnsUtils::Add::doadddns with
    `allowoverwrite` (Whostmgr/API/1/DNS.pm, Whostmgr/XMLUI/DNS.pm: hasroot). A zone of
    another owner is refused; the owner's own zone is rewritten from the template (its
    records are lost), its owner kept, and the answer has no "belonging to user". Choice:
    cPanel writes the template's fresh serial; gatehouse moves the serial on, as resetzone,
    so that secondaries take the new zone."""
    zone = access.require_zone(call.conn, actor, name)  # a token's scope still applies
    if zone.owner_user_id != owner.id:
        holder = users.get_by_id(call.conn, zone.owner_user_id)
        # doadddns names root's domains' owner `system`, as it records them.
        held_by = "system" if holder is None or holder.is_root else holder.username
        raise Conflict(f"Sorry, the domain {zone.name} is owned by another user ({held_by})")
    new_serial = zones.reset(
        call.conn,
        zone,
        ip=ip,
        nameservers=call.gatehouse.config.nameserver_list,
        now=call.now,
        hostname=call.gatehouse.config.server_hostname,
        contact=owner.contact_email,
        ipv6=ipv6,
    )
    call.audit(
        audit.ZONE_RESET, zone.name, f"adddns, ip {ip}, serial {zone.serial} -> {new_serial}"
    )
    return Reply(has_data=False, reason=f"Added {zone.name} ok")


@REGISTRY.function(
    "killdns",
    "Delete a DNS zone.",
    params=(Param("domain", "The zone, e.g. example.com.", required=True, handler_refuses=True),),
    privileges=("kill-dns",),
    slow=True,
    api0=api0.killdns,
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
        Param("domain", "The zone, e.g. example.com (or `zone`)."),
        Param("zone", "Another way to name it (`example.com` or `example.com.db`)."),
    ),
    privileges=("manage-dns-records",),
    slow=True,
    api0=api0.resetzone,
)
def resetzone(call: Call) -> Reply:
    name = _zone_name(call, "domain", "zone")
    zone = _zone_for(call, name, lock=True)
    new_serial = zones.reset(
        call.conn,
        zone,
        ip=_account_ip(call, zone.owner_user_id),
        nameservers=call.gatehouse.config.nameserver_list,
        now=call.now,
        hostname=call.gatehouse.config.server_hostname,
    )
    call.audit(audit.ZONE_RESET, zone.name, f"serial {zone.serial} -> {new_serial}")
    return Reply(has_data=False, reason="OK")


# -- addzonerecord / editzonerecord / removezonerecord / getzonerecord ----------------------
# The older one-record functions. `Line` (or `line`) is the record's 1-based `Line` as dumpzone
# shows it (Cpanel::ZoneFile::get_record), read as Perl's `abs int` (zone_wire.perl_line: a
# missing or non-numeric one is 0, refused in each function's own words). `serialnum`, when
# given to editzonerecord or removezonerecord, must be the zone's serial (else the stale
# error); without it the change applies to the zone as it is, still atomically.
# addzonerecord ignores it, as Whostmgr::DNS::add_zone_record does.
_LINE = Param("line", "The record's `Line` (dumpzone).", required=True, handler_refuses=True)
_LEGACY_PARAMS = (
    Param("domain", "The zone, e.g. example.com (or `zone`)."),
    Param("name", "The record's name: relative, or absolute with a trailing dot."),
    Param(
        "type",
        "The record type (A, AAAA, CNAME, MX, NS, PTR, SRV, TXT, CAA, ...).",
        required=True,
        handler_refuses=True,  # after the zone (addzonerecord) or the line (editzonerecord)
    ),
    Param("ttl", "The TTL (default 14400)."),
    Param("class", "IN (the only class accepted)."),
    Param(
        "serialnum",
        "Optional: the zone's current serial; refused as stale if not (addzonerecord: ignored).",
    ),
    *(
        Param(f, "Record data for the types that use it.")
        for f in sorted({f for fields in zone_wire.REQUEST_FIELDS.values() for f in fields})
    ),
)


@REGISTRY.function(
    "addzonerecord",
    "Add one record to a DNS zone (at its end).",
    params=_LEGACY_PARAMS,
    privileges=("manage-dns-records",),
    slow=True,
    api0=api0.addzonerecord,
)
def addzonerecord(call: Call) -> Reply:
    # Whostmgr::DNS::add_zone_record reads no serial: a `serialnum` is ignored, as in cPanel
    # (an addition goes at the end whatever changed).
    zone = _zone_for(call, _zone_name(call, "domain", "zone"), lock=True)
    change = zone_wire.change_from_fields(zone, call.params.get)
    save_edit(call, zone, changes.apply_edits(zone, [change], [], []), "1 added")
    return Reply(has_data=False, reason="OK")


def _zone_of_line(call: Call, *, lock: bool) -> tuple[int, zones.Zone | None]:
    """The `Line` and the zone of editzonerecord, removezonerecord and getzonerecord, read as
    Whostmgr::DNS does: the zone name (`domain`, else `zone`), the line (`abs int $Line`: 0
    when missing or no number), the write lock for a change, then the zone if the caller
    reaches it. None: root (or a reseller holding `all`) named a zone that does not exist,
    which cPanel reads as an empty one (dnsadmin's GETZONE; lumberg's recordings): each
    function answers that in its own words."""
    name = _zone_name(call, "domain", "zone")
    line = zone_wire.perl_line(call.params)
    if lock:
        zones.lock(call.conn, name)  # the call's first statement (zones.lock)
    if _sees_all(call) and zones.get(call.conn, name) is None:
        return line, None
    return line, _zone_for(call, name)


# Whostmgr::DNS::edit_zone_record's and Cpanel::ZoneFile::serialize_single_record's words.
_NO_LINE_TO_EDIT = "Must specify a line to edit."
_NOT_SERIALIZED = "Failed to serialize record: unknown error"


@REGISTRY.function(
    "editzonerecord",
    "Change what is at a line of a DNS zone (a record, a comment or the `$TTL` line); fields "
    "not given are kept.",
    params=(_LINE, *_LEGACY_PARAMS, Param("raw", "A comment line's text (type `:RAW`).")),
    privileges=("manage-dns-records",),
    slow=True,
    api0=api0.editzonerecord,
)
def editzonerecord(call: Call) -> Reply:
    # Whostmgr::DNS::edit_zone_record, in its order: the line given at all, the zone, its
    # serial, then what Cpanel::ZoneFile::get_record finds on the line with the fields given
    # laid over it, serialized as its (new) type.
    line, zone = _zone_of_line(call, lock=True)
    if not line:
        raise InvalidParameter(_NO_LINE_TO_EDIT)
    zone_wire.check_serialnum(zone, call.params)
    if zone is None:
        raise InvalidParameter(_NOT_SERIALIZED)  # an empty zone: nothing on any line
    entry = zone_wire.entry_on_line(zone, line)
    get = zone_wire.given_over(zone.name, entry, call.params.get)
    new_line = _directive_line(get)
    if entry is None:
        # Nothing starts on the line (blank, inside a record, past the end): cPanel lays the
        # fields over an empty record, checks it and replaces nothing (no record has that
        # line): success, only the serial moves on. No type: nothing to serialize.
        if new_line is None:
            change = zone_wire.change_from_fields(zone, get)
            would_be = changes.apply_edits(zone, [change], [], [])
            save_serial_only(call, zone, would_be, "nothing on the line")
        else:
            save_edit(call, zone, zone.text, "nothing on the line")
        return Reply(has_data=False, reason="OK")
    if entry.record_type == "SOA" and new_line is not None:
        # Choice: the SOA is the server's (its serial is set on every change).
        raise InvalidParameter("This interface cannot edit or remove the SOA record.")
    if entry.kind == "record" and new_line is None:
        # A record stays a record, edited in place (a TXT record keeps its strings unless
        # `txtdata` is given); the SOA is refused there (choice, as above).
        change = zone_wire.edit_change(zone, entry, call.params.get)
        save_edit(call, zone, changes.apply_edits(zone, [], [change], []), "1 edited")
        return Reply(has_data=False, reason="OK")
    if new_line is None:  # a comment or `$TTL` line becomes a record, on its line
        change = zone_wire.change_from_fields(zone, get)
        new_line = changes.record_line(zone, change, line)
    save_edit(call, zone, changes.replace_entry(zone, entry, new_line), "1 line edited")
    return Reply(has_data=False, reason="OK")


def _directive_line(get: zone_wire.Getter) -> str | None:
    """The line an edit whose type (given or kept) is a comment (`:RAW`) or `$TTL` makes, as
    Cpanel::ZoneFile::dns_zone_obj_to_zonelines writes it; None for a record type. No type at
    all is serialize_single_record's refusal."""
    record_type = (get("type") or "").strip()
    if record_type == ":RAW":
        text = get("raw") or ""
        if text in ("", "0"):  # Perl's false: nothing serialized
            raise InvalidParameter(_NOT_SERIALIZED)
        if "\n" in text or "\r" in text or not text.lstrip(" \t").startswith(";"):
            # Choice: cPanel writes any text there; gatehouse a comment only.
            raise InvalidParameter("A “:RAW” line must be one comment line, starting with “;”.")
        return text
    if record_type.upper() == "$TTL":
        ttl = (get("ttl") or "").strip()
        return f"$TTL {ttl if ttl not in ('', '0') else DEFAULT_TTL}"  # `ttl || 14400`
    if not record_type:
        raise InvalidParameter(_NOT_SERIALIZED)  # a record hash without a type
    return None


@REGISTRY.function(
    "removezonerecord",
    "Remove what is at a line of a DNS zone: a record, a comment or the `$TTL` line.",
    params=(
        Param("zone", "The zone, e.g. example.com (or `domain`)."),
        Param("domain", "The zone, as `zone` (this one wins when both are given, as cPanel's)."),
        _LINE,
        Param("serialnum", "Optional: the zone's current serial; refused as stale if not."),
    ),
    privileges=("manage-dns-records",),
    slow=True,
    api0=api0.removezonerecord,
)
def removezonerecord(call: Call) -> Reply:
    # Whostmgr::DNS::remove_zone_records, in its order: the zone, its serial, then what
    # Cpanel::ZoneFile::get_record finds on the line (`abs int $Line`: a missing one is line
    # 0, where nothing is) — a record, a comment or a `$TTL` line, not the SOA.
    line, zone = _zone_of_line(call, lock=True)
    zone_wire.check_serialnum(zone, call.params)
    entry = zone_wire.entry_on_line(zone, line) if zone is not None and line else None
    if zone is None or entry is None:
        raise InvalidParameter(f"Unable to find a record on specified line: {line}")
    if entry.record_type == "SOA":
        raise InvalidParameter("You cannot remove the SOA record.")
    if entry.kind == "record":
        text = changes.apply_edits(zone, [], [], [entry.line_index])
    else:
        text = changes.replace_entry(zone, entry, None)
    save_edit(call, zone, text, "1 removed")
    return Reply(has_data=False, reason="OK")


@REGISTRY.function(
    "getzonerecord",
    "What is at a line of a DNS zone (a record, a comment or the `$TTL` line), in dumpzone's "
    "shape.",
    params=(
        Param("domain", "The zone, e.g. example.com (or `zone`)."),
        _LINE,
    ),
    privileges=("manage-dns-records",),
    readonly=True,
    slow=True,
    api0=api0.getzonerecord,
)
def getzonerecord(call: Call) -> Reply:
    # Whostmgr/API/1/DNS.pm getzonerecord, then Whostmgr::DNS::get_zone_record's words.
    line, zone = _zone_of_line(call, lock=False)
    if zone is None:
        raise InvalidParameter("Zone does not exist.")  # Cpanel::DnsUtils::Exists
    if not line:
        raise InvalidParameter("Must specify a record line.")
    entry = zone_wire.entry_on_line(zone, line)
    if entry is None:
        raise InvalidParameter("No record available on selected line.")
    item = zone_wire.record_item(zone.name, entry)
    return Reply(data={"record": [item]}, reason="Record obtained.")


# -- listmxs / savemxs ----------------------------------------------------------------------
# cPanel's Whostmgr/API/1/DNS.pm: a zone's MX records in dumpzone's shape, and their wholesale
# replacement (Whostmgr::DNS::save_mxs: every MX record removed, the given ones added, in one
# change; `serialnum`, when given, must be the zone's serial).


def _mx_entries(zone: zones.Zone) -> list[Any]:
    return [e for e in parsed.parse(zone.name, zone.text) if e.record_type == "MX"]


@REGISTRY.function(
    "listmxs",
    "A DNS zone's MX records, in dumpzone's shape.",
    params=(Param("domain", "The zone, e.g. example.com.", required=True),),
    privileges=("manage-dns-records",),
    readonly=True,
    slow=True,
)
def listmxs(call: Call) -> Reply:
    zone = _zone_for(call, _zone_name(call, "domain"))
    records = [zone_wire.record_item(zone.name, e) for e in _mx_entries(zone)]
    # cPanel leaves `data` out when there is none.
    return Reply(data={"record": records}, has_data=bool(records), reason="Records obtained.")


@REGISTRY.function(
    "savemxs",
    "Replace a DNS zone's MX records with those given (`name`, `exchange`, `preference`, "
    "`ttl`, `class`, each with the same suffix: `name1`, `exchange1`, ...).",
    params=(
        Param("domain", "The zone, e.g. example.com.", required=True),
        Param("serialnum", "Optional: the zone's current serial; refused as stale if not."),
    ),
    privileges=("manage-dns-records",),
    slow=True,
)
def savemxs(call: Call) -> Reply:
    zone = _zone_for(call, _zone_name(call, "domain"), lock=True)
    zone_wire.check_serialnum(zone, call.params)
    adds = []
    for key, name in sorted(call.params.items_with_prefix("name")):
        suffix = key

        def field(f: str, suffix: str = suffix, name: str = name) -> str | None:
            if f == "name":
                return name
            if f == "type":
                return "MX"
            return call.params.get(f"{f}{suffix}")

        adds.append(zone_wire.change_from_fields(zone, field))
    removes = [e.line_index for e in _mx_entries(zone)]
    text = changes.apply_edits(zone, adds, [], removes)
    save_edit(call, zone, text, f"MX records replaced: {len(removes)} by {len(adds)}")
    return Reply(has_data=False, reason="OK")
