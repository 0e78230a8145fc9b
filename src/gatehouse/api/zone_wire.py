"""cPanel's DNS wire shapes, shared by every face that edits zones: WHM API 1 (dumpzone,
parse_dns_zone, addzonerecord, editzonerecord, removezonerecord, getzonerecord,
mass_edit_dns_zone), UAPI `DNS` and cPanel API 2 `ZoneEdit` (docs/cpanel-dns.md). Here, the
request parameters and the record hashes; the zones, entries and changes are gatehouse.dns's.

* `record_item()`: one zone entry as cPanel's Cpanel::ZoneFile record hash (`Line`, `Lines`,
  `name`, `class`, `ttl`, `type` and the type's fields) — what dumpzone and API 2 show.
* `filter_items()`: fetchzone_records' filters. A client (certbot-dns-cpanel) deletes EVERY line
  this returns, so every filter given is applied; one that matches nothing gives nothing.
* `change_from_fields()`: a one-record request (`name`, `type`, `ttl`, `class`, `address`,
  `txtdata`, ...) as a `Change`, checked as mass_edit_dns_zone checks its items.
* `require_serial()` / `parse_mass_edit()`: the `serial`, `add`, `edit`, `remove` parameters of
  mass_edit_dns_zone (WHM) and DNS::mass_edit_zone (UAPI).
* `payload()`: parse_dns_zone's entries, their texts base64-encoded.

Sources: cPanel 11.120's Cpanel/ZoneEdit.pm, Cpanel/Admin/Modules/Cpanel/zone.pm,
Whostmgr/DNS.pm, Cpanel/ZoneFile.pm, Cpanel/API/DNS.pm and Cpanel/ZoneEdit/User.pm, and the
API docs (api.docs.cpanel.net). Where gatehouse had to choose, the comment says "Choice:".
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from gatehouse.api import json_text
from gatehouse.api.params import Params
from gatehouse.dns import changes, record_checks
from gatehouse.dns.changes import Change, MassEdit
from gatehouse.dns.errors import changed_since_read
from gatehouse.dns.parsed import parse
from gatehouse.dns.text import DEFAULT_TTL, MAX_TTL, RDATA_NAMES, Entry
from gatehouse.dns.zones import Zone
from gatehouse.errors import InvalidParameter, missing_parameter
from gatehouse.numerals import digits, perl_abs_int

Getter = Callable[[str], str | None]

# -- records as cPanel shows them ---------------------------------------------------------------

# The fields of each type, in rdata order (Cpanel::ZoneFile's record hashes).
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
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
# What a one-record request may carry for each type: TXT's strings come as one `txtdata`.
REQUEST_FIELDS: dict[str, tuple[str, ...]] = {**RECORD_FIELDS, "TXT": ("txtdata",)}
# Fields holding a domain name (compared as names by the filters).
_NAME_FIELDS = frozenset({"name", "cname", "dname", "nsdname", "ptrdname", "exchange", "target"})
_RDATA_NAME_FIELDS = frozenset(
    {"cname", "dname", "nsdname", "ptrdname", "exchange", "target", "mname", "rname"}
)
_NUMBER_FIELDS = frozenset({"ttl", "preference", "priority", "weight", "port", "flag"})


TXT_STRING_MAX = 255  # bytes in one character-string (RFC 1035 3.3)


def absolute_name(zone: str, dname: str) -> str:
    """An owner name as written in the zone, made absolute with its trailing dot."""
    if dname == "@":
        return f"{zone}."
    return dname if dname.endswith(".") else f"{dname}.{zone}."


def record_item(zone: str, entry: Entry) -> dict[str, Any]:
    """One of dumpzone's `record` items (cPanel's Cpanel::ZoneFile record hashes). `Line` is the
    1-based line the entry starts on, the number the one-record functions take."""
    line = entry.line_index + 1
    if entry.kind == "comment":
        # Cpanel/Net/DNS/ZoneFile/LDNS.pm: a comment is a `:RAW` hash of its line and text.
        return {"Line": line, "type": ":RAW", "raw": entry.raw}
    if entry.kind == "control":
        words = entry.raw.split()
        item: dict[str, Any] = {"Line": line, "type": f"${words[0][1:].upper()}"}
        if item["type"] == "$TTL":
            # LDNS.pm: `$TTL` with its `ttl` (as written), and nothing else.
            if len(words) > 1:
                item["ttl"] = words[1]
            return item
        item["Lines"] = 1
        if len(words) > 1:
            item["value"] = words[1]
        item["raw"] = entry.raw
        return item
    record: dict[str, Any] = {
        "Line": line,
        # Lower case, as cPanel's parser gives names (Cpanel/ZoneFile.pm line 74, `tolower`).
        "name": absolute_name(zone, entry.dname).lower(),
        "class": "IN",
        "ttl": entry.ttl,
        "type": entry.record_type,
    }
    if entry.record_type == "SOA":
        # Cpanel/Net/DNS/ZoneFile/LDNS.pm gives `Lines` (the lines it spans) to the SOA only.
        record["Lines"] = entry.line_count
    fields = RECORD_FIELDS.get(entry.record_type)
    if entry.record_type in ("TXT", "SPF"):
        # LDNS.pm's TXT callback keeps the strings (`char_str_list`); Cpanel::DnsUtils::RR::
        # cp_zonefile_fast_post_process joins them into `txtdata` and sets `unencoded`.
        if entry.record_type == "TXT":
            record["char_str_list"] = list(entry.data)
        record["txtdata"] = "".join(entry.data)
        record["unencoded"] = 1
    elif fields and len(fields) == len(entry.data):
        for key, value in zip(fields, entry.data, strict=True):
            record[key] = shown_target(zone, value) if key in _RDATA_NAME_FIELDS else value
        if entry.record_type == "CAA":
            record["value_legacy"] = caa_value_legacy(*entry.data)
    else:
        record["record"] = " ".join(entry.data)
    return record


def caa_value_legacy(flag: str, tag: str, value: str) -> str:
    """A CAA item's `value_legacy` (LDNS.pm's CAA callback): the rdata in RFC 3597's generic
    form, `\\# LENGTH HEX`, hex upper-cased (Cpanel::DnsUtils::CAA::encode_rdata,
    Cpanel::DnsUtils::GenericRdata::encode)."""
    rdata = bytes([int(flag) & 0xFF, len(tag.encode())]) + tag.encode() + value.encode()
    return f"\\# {len(rdata)} {rdata.hex().upper()}"


def shown_target(zone: str, value: str) -> str:
    """A name in a record's data as Cpanel::ZoneFile's record hashes show it (Cpanel/Net/DNS/
    ZoneFile/LDNS.pm: libldns reads it absolute, the callbacks of CNAME, DNAME, MX, NS, PTR,
    SRV and SOA strip its final dot, `tolower` lowers it): `mail.example.net.` is shown
    `mail.example.net`, a relative `mail` `mail.<zone>`, the root `.` an empty string."""
    return absolute_name(zone, value).lower()[:-1] if value != "." else ""


def shown_in_record_hashes(entry: Entry) -> bool:
    """Whether Cpanel::ZoneFile's record hashes (dumpzone, getzonerecord, API 2's fetchzone)
    hold this entry: its parser drops `$ORIGIN` lines (Cpanel/Net/DNS/ZoneFile/LDNS.pm)."""
    return not (entry.kind == "control" and entry.raw.split()[0].upper() == "$ORIGIN")


def record_items(zone: str, entries: Iterable[Entry]) -> list[dict[str, Any]]:
    """The record hashes of these entries, those cPanel's parser drops left out."""
    return [record_item(zone, e) for e in entries if shown_in_record_hashes(e)]


def _perl_or(*values: Any) -> Any:
    """Perl's `a || b || c`: the first true value (not undef, "" or "0"), else the last."""
    for value in values[:-1]:
        if value is not None and value != "" and value != "0":
            return value
    return values[-1]


def api2_item(zone: str, entry: Entry) -> dict[str, Any]:
    """A record as API 2's fetchzone_records shows it: dumpzone's item plus `line` (a copy of
    `Line`) and `record`, cPanel 11.120's Cpanel/ZoneEdit.pm lines 55-56:
    `address || cname || txtdata` — null for every other type (SOA, NS, MX, SRV, CAA, ...),
    for comments and for `$TTL`."""
    item = record_item(zone, entry)
    item["line"] = item["Line"]
    if "record" in item and entry.record_type not in RECORD_FIELDS:
        # Choice: a type gatehouse does not split into cPanel's fields (DS, TLSA, SSHFP, ...)
        # keeps its data as written in `record`, where cPanel shows the fields and null.
        return item
    item["record"] = _perl_or(item.get("address"), item.get("cname"), item.get("txtdata"))
    return item


def items(zone: Zone) -> list[dict[str, Any]]:
    """Every entry of the zone (comments and `$TTL` lines included; not `$ORIGIN` lines, which
    cPanel's parser drops) as API 2 items."""
    return [
        api2_item(zone.name, e) for e in parse(zone.name, zone.text) if shown_in_record_hashes(e)
    ]


# -- fetchzone_records' filters -----------------------------------------------------------------

# Cpanel::ZoneEdit's %KEYMAP: the filters cPanel applies. A value may list alternatives
# separated by "|" or ","; a record lacking the field never matches; an EMPTY value matches
# nothing (Perl's split gives no alternative).
CPANEL_FILTERS = (
    "line", "ttl", "name", "class", "address", "type", "txtdata", "preference", "exchange",
)  # fmt: skip
# Choice: cPanel ignores these keys; gatehouse applies them too when they have a value, since
# a narrower answer is the safe one for a client that deletes what it gets. An empty value
# is ignored, as cPanel ignores the key (a generic form may send every field empty).
EXTRA_FILTERS = (
    "Line", "cname", "nsdname", "ptrdname", "dname", "priority", "weight", "port", "target",
    "flag", "tag", "value",
)  # fmt: skip
# The names gatehouse's zone template writes: what `customonly=1` leaves out (cPanel leaves out
# its "cPanel-generated" names: the domains, their www/mail/... and every nameless entry).
GENERATED_LABELS = ("", "www", "mail", "ftp", "localhost")


def _name_key(value: str) -> str:
    """A domain name for comparison: lower case, no trailing dot (item names and targets are
    shown absolute, the targets without the dot; a filter may give either)."""
    return value.strip().lower().rstrip(".")


def _matches(key: str, have: Any, want: str) -> bool:
    got = str(have)
    if key in ("line", "Line") or key in _NUMBER_FIELDS:
        if digits(got) and digits(want.strip()):
            return int(got) == int(want.strip())
        return got == want
    if key == "name":
        # Cpanel/ZoneEdit.pm line 63: the item's name (lower case, absolute, with its trailing
        # dot) must be one of the values exactly: `_acme-challenge.example.com.` matches,
        # `_acme-challenge.example.com` and `_ACME-challenge.example.com.` do not.
        return got == want
    if key in _NAME_FIELDS:
        # Shown absolute without the final dot (shown_target); compared as names.
        return _name_key(got) == _name_key(want)
    if key in ("type", "class"):
        return got.upper() == want.strip().upper()
    if key == "address":
        try:
            return ipaddress.ip_address(got) == ipaddress.ip_address(want.strip())
        except ValueError:
            return got == want
    return got == want  # txtdata, tag, value: exactly


def _alternatives(key: str, value: str) -> list[str]:
    if key == "txtdata":
        # Choice: cPanel splits every filter on "|" and ","; a TXT value may hold either
        # (SPF, DKIM), so gatehouse matches txtdata as one whole value: never broader.
        return [value] if value != "" else []
    return [v for v in re.split(r"[|,]", value) if v != ""]


def filter_items(
    zone: str, found: Iterable[dict[str, Any]], params: Params
) -> list[dict[str, Any]]:
    """The items that match EVERY filter given (each occurrence of a repeated key too)."""
    out = list(found)
    if (params.get("customonly") or "0").strip() not in ("", "0"):
        generated = {f"{label}.{zone}".lstrip(".") for label in GENERATED_LABELS}
        out = [i for i in out if "name" in i and _name_key(i["name"]) not in generated]
    for key in (*CPANEL_FILTERS, *EXTRA_FILTERS):
        field = "Line" if key == "line" else key
        for value in params.getlist(key):
            if key in EXTRA_FILTERS and value.strip() == "":
                continue
            wanted = _alternatives(key, value)
            out = [i for i in out if field in i and any(_matches(key, i[field], w) for w in wanted)]
    return out


# -- one-record requests --------------------------------------------------------------------------


def split_txt(value: str) -> list[str]:
    """A TXT value as character-strings of at most 255 bytes (cPanel's
    encode_and_split_dns_txt_record_value), split between characters, never inside one."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for ch in value:
        n = len(ch.encode("utf-8", "surrogateescape"))
        if size + n > TXT_STRING_MAX:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += n
    chunks.append("".join(current))
    return chunks


def request_type(get: Callable[[str], str | None]) -> str:
    record_type = (get("type") or "").strip().upper()
    if not record_type:
        raise missing_parameter("type")
    return record_type


def change_from_fields(
    zone_in: Zone,
    get: Callable[[str], str | None],
    *,
    line_index: int | None = None,
    txt_strings: Sequence[str] | None = None,
) -> Change:
    """A record given as cPanel's one-record functions take it: `name` (relative to the zone,
    or absolute), `type`, `ttl` (default 14400), `class` (IN) and the type's fields as
    dumpzone names them. `line_index` makes it an edit of the record starting there;
    `txt_strings` keeps a TXT record's strings as they are when no `txtdata` is given."""
    zone = zone_in.name
    record_type = request_type(get)
    # Whostmgr::DNS::sanitize_record first, in cPanel's words (`Invalid DNS record: ...`).
    # Choice: on values stripped of blanks, as API 2's parse_record strips them (WHM's do not).
    record_checks.sanitize(record_type, _stripped(get))
    if (get("class") or "IN").strip().upper() != "IN":
        # Choice: cPanel also writes CS, CH and HS records; gatehouse serves IN only.
        raise InvalidParameter("Only the “IN” class is supported.")
    name = (get("name") or "").strip()
    if not name:
        raise missing_parameter("name")
    _check_in_zone(zone, name)
    # A name without its final dot is relative to the zone, a full one too: cPanel writes it as
    # given (Cpanel::ZoneFile::_collapse_name leaves it) and reads it under the zone
    # (Whostmgr::DNS::validate_dnszone_with_changes: `name.zone.`), so `x.example.com` in
    # example.com is x.example.com.example.com.
    fields = REQUEST_FIELDS.get(record_type)
    if fields is None:
        raise InvalidParameter(f"This interface cannot handle “{record_type}” records.")
    data: list[str] = []
    if record_type == "TXT" and txt_strings is not None and get("txtdata") is None:
        data = list(txt_strings)
    else:
        for f in fields:
            value = (get(f) or "").strip()
            if not value and record_type != "TXT":  # an empty TXT string is one (cPanel's)
                raise missing_parameter(f)
            if f in _RDATA_NAME_FIELDS and not value.endswith("."):
                # cPanel writes these names absolute (Cpanel::ZoneFile::_domain adds the
                # dot): `cname=example.com` must not become example.com.<zone>.
                value += "."
            data.append(value)
        if record_type == "TXT":
            # One value, however long: split as cPanel does, not refused for its length.
            data = split_txt(data[0])
    raw_ttl = (get("ttl") or str(DEFAULT_TTL)).strip()
    item: dict[str, Any] = {
        "dname": name,
        "ttl": int(raw_ttl) if digits(raw_ttl) else raw_ttl,
        "record_type": record_type,
        "data": data,
    }
    if line_index is not None:
        item["line_index"] = line_index
    change = change_from_item(zone, item, edit=line_index is not None)
    change = dataclasses.replace(change, dname=collapse_name(zone, change.dname))
    if len(changes.render(change)) > record_checks.MAX_RECORD:
        raise InvalidParameter(record_checks.TOO_LONG)  # Whostmgr::DNS, after serializing
    _check_cname_rules(zone_in, name, record_type, line_index)
    return change


def _check_cname_rules(zone: Zone, name: str, record_type: str, line_index: int | None) -> None:
    """Whostmgr::DNS::validate_dnszone_with_changes: no CNAME beside another record of the same
    name, in its words. The name as given (`name.<zone>.` without a final dot) is compared
    exactly with each record's (lower case, absolute; the record being edited left out), so a
    name in other case is left to the whole-zone check, in gatehouse's words."""
    new_name = name if name.endswith(".") else f"{name}.{zone.name}."
    for entry in parse(zone.name, zone.text):
        if entry.kind != "record" or entry.line_index == line_index:
            continue
        if absolute_name(zone.name, entry.dname).lower() != new_name:
            continue
        if entry.record_type == "CNAME" and record_type == "CNAME":
            why = "already has a CNAME record.\nYou have multiple CNAME records."
        elif record_type == "CNAME":
            why = (
                f"already has a {entry.record_type} record.\nYou may not mix CNAME records "
                "with other records for the same name."
            )
        elif entry.record_type == "CNAME":
            why = (
                "already has a CNAME record.\nYou may not mix CNAME records with other "
                f"records ({record_type})."
            )
        else:
            continue
        raise InvalidParameter(f"{new_name} {why}")


def _stripped(get: Getter) -> Getter:
    def stripped(key: str) -> str | None:
        value = get(key)
        return None if value is None else value.strip()

    return stripped


def _check_in_zone(zone: str, name: str) -> None:
    """Whostmgr::DNS::validate_dnszone_with_changes: an absolute name must be the zone's or
    under it (a name without its final dot is under it by construction), in its words."""
    lowered = name.lower()
    if lowered.endswith(".") and lowered != f"{zone}." and not lowered.endswith(f".{zone}."):
        raise InvalidParameter(f"{name} is outside the current dns zone: {zone}.")


def collapse_name(zone: str, dname: str) -> str:
    """An owner name as cPanel's one-record functions write it: they save through
    Cpanel::ZoneFile, which parses names in lower case (Cpanel/ZoneFile.pm line 74) and writes
    each with `_collapse_name` (lines 665-680): `X.zone.` becomes `X`; the zone's own name
    (`zone.`) and every other name stay as they are."""
    lowered = dname.lower()
    trailer = f".{zone.lower()}."
    if lowered.endswith(trailer) and len(lowered) > len(trailer):
        return lowered[: -len(trailer)]
    return lowered


def given_over(zone: str, entry: Entry | None, given: Callable[[str], str | None]) -> Getter:
    """The fields of an edit of `entry` as cPanel's Whostmgr::DNS::edit_zone_record takes
    them: each field given replaces the entry's own, the others are kept (`name`, `ttl`,
    `type` and the type's data, a comment's `raw`, as dumpzone shows them). No entry (nothing
    on the line) has no fields of its own."""
    old = record_item(zone, entry) if entry is not None else {}

    def get(key: str) -> str | None:
        value = given(key)
        if value is not None:
            return value
        kept = old.get(key)
        return None if kept is None else str(kept)

    return get


def edit_change(zone: Zone, entry: Entry, given: Callable[[str], str | None]) -> Change:
    """The edit of `entry` the one-record edit functions (WHM editzonerecord, API 2
    edit_zone_record) make: `given_over` its fields; a TXT record kept a TXT record without a
    new `txtdata` keeps its strings as they are."""
    get = given_over(zone.name, entry, given)
    same_txt = request_type(get) == entry.record_type == "TXT" and given("txtdata") is None
    return change_from_fields(
        zone,
        get,
        line_index=entry.line_index,
        txt_strings=entry.data if same_txt else None,
    )


def entry_on_line(zone: Zone, line: int) -> Entry | None:
    """What Cpanel::ZoneFile::get_record finds on 1-based line `line`: the record, comment or
    control line that starts there, not a `$ORIGIN` line (its parser drops them); None where
    nothing starts (a blank line, inside a record over several lines, past the end)."""
    for entry in parse(zone.name, zone.text):
        if entry.line_index == line - 1 and shown_in_record_hashes(entry):
            return entry
    return None


def perl_line(params: Params) -> int:
    """WHM's `Line` (or `line`) as cPanel's Whostmgr::DNS reads it, `abs int $Line`: `Line`
    when given (Whostmgr/XMLUI/DNS.pm, Whostmgr::API::1::DNS::_convert_line_to_Line), the
    number's whole part without its sign, 0 when missing or not a number."""
    raw = params.get("Line")
    if raw is None:
        raw = params.get("line") or ""
    return perl_abs_int(raw)


def check_serialnum(zone: Zone | None, params: Params) -> None:
    """An optional `serialnum` must be the zone's serial (cPanel: "Zone file changed since last
    read."); without one the change applies to the zone as it is, still atomically. No zone
    (`None`) has no serial: any `serialnum` is refused."""
    raw = (params.get("serialnum") or "").strip()
    if raw and (zone is None or not digits(raw) or int(raw) != zone.serial):
        raise changed_since_read()


# -- mass edits -------------------------------------------------------------------------------


def require_serial(
    params: Params, missing: Callable[[str], Exception], empty: Callable[[str], Exception]
) -> str:
    """The mass edit's `serial`, as given: cPanel compares it with the zone's as a string, so
    anything but the zone's serial written as the zone writes it is stale (not malformed).
    `missing` and `empty` word the refusals as the caller's API does."""
    raw = params.get("serial")
    if raw is None:
        raise missing("serial")
    if raw == "":
        raise empty("serial")
    return raw


def change_from_item(zone: str, raw: Any, *, edit: bool, mass: bool = False) -> Change:
    """One `add` or `edit` item of a mass edit (already decoded from JSON): `dname`, `ttl`,
    `record_type`, `data` (a list of strings) and, for an edit, `line_index`. `mass`: from a
    mass edit, whose names and TTLs Cpanel::ZoneFile::LineEdit checks in its own words (the
    one-record functions' were checked by sanitize)."""
    what = "edit" if edit else "add"
    # Cpanel::APICommon::DNS (_get_add_edit_error): an object, with every piece (`!length`:
    # missing, null or ""), its `data` a list — in cPanel's words.
    if not isinstance(raw, dict):
        raise InvalidParameter(f"Each “{what}” must be an object.")
    pieces = (("line_index",) if edit else ()) + ("dname", "ttl", "record_type", "data")
    if any(raw.get(piece) is None or raw.get(piece) == "" for piece in pieces):
        listed = ", ".join(f"“{p}”" for p in pieces[:-1]) + f", and “{pieces[-1]}”"
        raise InvalidParameter(f"Each “{what}” requires {listed}.")
    if not isinstance(raw["data"], list):
        raise InvalidParameter("“data” must be an array.")
    record_type = raw["record_type"]
    if not isinstance(record_type, str):
        raise InvalidParameter(f"Each “{what}” needs a “record_type”, a string.")
    record_type = changes.check_type(record_type, edit=edit)
    dname = raw["dname"]
    if not isinstance(dname, str):
        raise InvalidParameter(f"Each “{what}” needs a “dname”, a string.")
    if mass:
        record_checks.line_edit_name(zone, dname)  # `@` included: no label to cPanel
    dname = _line_edit_name(zone, changes.check_dname(zone, dname))
    ttl = raw.get("ttl")
    if mass:
        record_checks.line_edit_ttl(ttl)
    if isinstance(ttl, str) and digits(ttl):
        ttl = int(ttl)
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 <= ttl <= MAX_TTL:
        raise InvalidParameter(f"Each “{what}” needs a “ttl” between 0 and {MAX_TTL}.")
    data = raw.get("data")
    if not isinstance(data, list) or not data or not all(isinstance(d, str) for d in data):
        raise InvalidParameter(f"Each “{what}” needs “data”, a list of strings.")
    changes.check_data(data)
    line_index = None
    if edit:
        line_index = raw.get("line_index")
        if not isinstance(line_index, int) or isinstance(line_index, bool) or line_index < 0:
            raise InvalidParameter("Each “edit” needs a “line_index”, a non-negative integer.")
    return Change(dname, ttl, record_type, tuple(data), line_index)


# How deep a record item may nest: a record is one object holding one list of strings, so 8
# is generous; 1,000 nested brackets would otherwise exhaust the parser's recursion.
MAX_JSON_DEPTH = 8


def _shown(raw: str) -> str:
    """A caller's value as a refusal may echo it: short, and only text UTF-8 can carry."""
    text = raw if len(raw) <= 200 else raw[:200] + "…"
    return text.encode("utf-8", "replace").decode("utf-8")


def _json_items(params: Params, key: str) -> list[Any]:
    out = []
    for raw in params.getlist(key):
        if raw == "":
            continue
        if json_text.deeper_than(raw, MAX_JSON_DEPTH):
            raise InvalidParameter(
                f"The “{key}” value “{_shown(raw)}” nests more than {MAX_JSON_DEPTH} levels."
            )
        try:
            item = json.loads(raw)
        except (ValueError, RecursionError):
            raise InvalidParameter(
                f"The “{key}” value “{_shown(raw)}” is not valid JSON."
            ) from None
        if _has_lone_surrogate(item):
            raise InvalidParameter(
                f"The “{key}” value “{_shown(raw)}” is not valid JSON: it holds an unpaired "
                "UTF-16 surrogate escape (\\ud800–\\udfff)."
            )
        out.append(item)
    return out


def _has_lone_surrogate(value: Any) -> bool:
    """Whether a parsed JSON value holds text no UTF-8 answer could carry."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _line_edit_name(zone: str, dname: str) -> str:
    """A mass edit's owner name as Cpanel::ZoneFile::LineEdit's _build_line writes it: under
    the zone, `X.zone.` as `X` (compared as written, in case too); the zone's own name and
    relative names as given."""
    trailer = f".{zone}."
    if dname.endswith(trailer) and len(dname) > len(trailer):
        return dname[: -len(trailer)]
    return dname


def parse_mass_edit(zone: str, params: Params) -> MassEdit:
    """The repeatable `add` / `edit` (JSON items) and `remove` (line indexes) of a mass edit,
    checked as cPanel's mass_edit_dns_zone and DNS::mass_edit_zone check them, in their order
    and words (get_length_multiple, Cpanel::APICommon::DNS)."""
    given = {key: params.getlist(key) for key in ("add", "edit", "remove")}
    for key, values in given.items():
        if any(value == "" for value in values):
            raise InvalidParameter(f"The “{key}” arguments cannot be empty.")
    if not any(given.values()):
        raise InvalidParameter("You must provide at least one change to the DNS zone.")
    raw_adds = _json_items(params, "add")
    raw_edits = _json_items(params, "edit")
    removes = []
    for r in given["remove"]:
        if not digits(r):
            raise InvalidParameter("Each “remove” must be a nonnegative integer.")
        removes.append(int(r))
    adds = [change_from_item(zone, a, edit=False, mass=True) for a in raw_adds]
    edits = [change_from_item(zone, e, edit=True, mass=True) for e in raw_edits]
    return MassEdit(adds, edits, removes)


# -- parse_dns_zone ---------------------------------------------------------------------------


def _b64(value: str) -> str:
    return base64.b64encode(value.encode("utf-8", "surrogateescape")).decode("ascii")


def _parsed_dname(zone: str, dname: str) -> str:
    """An owner as Cpanel::ZoneFile::Parse gives it (_hashify_rr): libldns's absolute name with
    `.<zone>.` taken off its end, so `www` and `www.example.com.` are both `www` and the apex
    stays `example.com.`."""
    full = dname if dname.endswith(".") else f"{zone}." if dname == "@" else f"{dname}.{zone}."
    trailer = f".{zone}."
    return full[: -len(trailer)] if full.endswith(trailer) and len(full) > len(trailer) else full


def _parsed_data(zone: str, record_type: str, data: Sequence[str]) -> list[str]:
    """A record's data as Cpanel::ZoneFile::Parse gives it: the names absolute (a relative
    `mail` is `mail.<zone>.`, `@` the apex), the rest as written."""
    names = RDATA_NAMES.get(record_type, ())
    return [absolute_name(zone, d) if i in names and d != "." else d for i, d in enumerate(data)]


def payload(name: str, text: str) -> list[dict[str, Any]]:
    """parse_dns_zone's `payload` (compatibility.md, cPanel's Cpanel::ZoneFile::Parse)."""
    out: list[dict[str, Any]] = []
    for e in parse(name, text):
        if e.kind == "record":
            out.append(
                {
                    "line_index": e.line_index,
                    "type": "record",
                    "dname_b64": _b64(_parsed_dname(name, e.dname)),
                    "ttl": e.ttl,
                    "record_type": e.record_type,
                    "data_b64": [_b64(d) for d in _parsed_data(name, e.record_type, e.data)],
                }
            )
        else:
            out.append({"line_index": e.line_index, "type": e.kind, "text_b64": _b64(e.raw)})
    return out
