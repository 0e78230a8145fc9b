"""Record changes (add, edit, remove) and the zone text they make (`apply_edits`): every line
not changed is kept as it is; each new record line is checked on its own."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype

from gatehouse.dns.errors import InvalidZone, explain
from gatehouse.dns.parsed import PARSED, parse
from gatehouse.dns.record_checks import dns_label
from gatehouse.dns.text import (
    DEFAULT_TTL,
    RDATA_NAMES,
    Entry,
    absolute,
    origin_line,
    plain_record,
)
from gatehouse.dns.zones import Zone
from gatehouse.errors import InvalidParameter

# cPanel's Whostmgr/API/1/DNS.pm: the types mass_edit_dns_zone may add.
ADDABLE_TYPES = (
    "A", "AAAA", "AFSDB", "CAA", "CNAME", "DNAME", "DS", "HINFO", "LOC", "MX", "NAPTR", "NS",
    "PTR", "RP", "SRV", "TLSA", "TXT",
)  # fmt: skip
# Data items written as quoted character-strings, by type (the others are written as is).
_QUOTED: dict[str, tuple[int, ...] | None] = {
    "TXT": None,  # every item
    "SPF": None,
    "HINFO": None,
    "CAA": (2,),
    "NAPTR": (2, 3, 4),
}


@dataclass(frozen=True, slots=True)
class Change:
    dname: str
    ttl: int
    record_type: str
    data: tuple[str, ...]
    line_index: int | None = None  # for an edit


def check_dname(zone: str, dname: str) -> str:
    """A record's owner as written, if it is a valid name in the zone (`@`: the apex)."""
    dname = dname.strip()
    if not dname:
        raise InvalidParameter("Each record needs a “dname”.")
    if dname == "@":
        return f"{zone}."
    relative = dname
    if dname.endswith("."):
        lowered = dname.lower()
        if lowered == f"{zone}.":
            return dname
        if not lowered.endswith(f".{zone}."):
            raise InvalidParameter(f"The name “{dname}” is not in the DNS zone “{zone}”.")
        relative = dname[: -len(zone) - 2]
    if not all(dns_label(label) for label in relative.split(".")):
        raise InvalidParameter(f"“{dname}” is not a valid record name.")
    return dname


def check_type(record_type: str, *, edit: bool) -> str:
    """A change's record type, in upper case: a known type and, for an addition, one of
    ADDABLE_TYPES (no SOA). An edit's SOA is ruled on with its line (`_record_at`)."""
    record_type = record_type.upper()
    if not edit and record_type not in ADDABLE_TYPES:
        listed = ", ".join(ADDABLE_TYPES[:-1]) + f", and {ADDABLE_TYPES[-1]}"
        raise InvalidParameter(
            f"This interface cannot create “{record_type}” records. "
            f"It can only create {listed} records."
        )
    try:
        dns.rdatatype.from_text(record_type)
    except dns.exception.DNSException:
        raise InvalidParameter(f"“{record_type}” is not a DNS record type.") from None
    return record_type


def check_data(data: Sequence[str]) -> None:
    """A record's data items: each goes on the record's one line."""
    if any("\n" in d or "\r" in d for d in data):
        raise InvalidParameter("Record data may not contain line breaks.")


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(change: Change) -> str:
    """One record as one zone-file line."""
    quoted = _QUOTED.get(change.record_type, ())
    items = []
    for i, item in enumerate(change.data):
        if quoted is None or i in quoted:
            items.append(_quote(item))
        else:
            if not item or any(c in item for c in ' \t;()"'):
                raise InvalidParameter(f"“{item}” is not valid {change.record_type} data.")
            items.append(item)
    return f"{change.dname}\t{change.ttl}\tIN\t{change.record_type}\t{' '.join(items)}"


def _check_rdata(zone: str, change: Change, line: str, line_number: int) -> None:
    """The record on its own, for a clearer refusal than the whole zone's."""
    try:
        dns.rdata.from_text(
            dns.rdataclass.IN,
            dns.rdatatype.from_text(change.record_type),
            line.split("\t", 4)[4],
            origin=dns.name.from_text(zone),
            relativize=False,
        )
    except (dns.exception.DNSException, ValueError) as exc:
        why = explain(str(exc) or type(exc).__name__)
        raise InvalidZone(
            f"The {change.record_type} record “{change.dname}” is invalid: {why}",
            data={"type": "InvalidZoneFile", "detail": {"by_line": [[line_number, why]]}},
        ) from None


def record_line(zone: Zone, change: Change, line_number: int) -> str:
    """`change` as its zone-file line at 1-based `line_number`, its data checked on its own
    (`line_number` names it in a refusal)."""
    entries = parse(zone.name, zone.text)
    change = under_origin(zone.name, change, origin_at(zone.name, entries, line_number - 1))
    line = render(change)
    _check_rdata(zone.name, change, line, line_number)
    return line


def origin_at(zone: str, entries: Iterable[Entry], index: int | None) -> str:
    """The origin in force at 0-based line `index` (None: after the last line): the zone's,
    or the last `$ORIGIN` line's before it."""
    origin = f"{zone}."
    for entry in entries:
        if index is not None and entry.line_index >= index:
            break
        if entry.kind == "control":
            origin = origin_line(entry.raw.strip(), origin) or origin
    return origin


def under_origin(zone: str, change: Change, origin: str) -> Change:
    """`change` as it must be written where `origin` is in force: unchanged under the zone's
    own; elsewhere (after a `$ORIGIN` line) its owner and the names in its data absolute, so
    that a name the caller gave relative to the zone is read so, not under that origin."""
    if origin == f"{zone}.":
        return change

    def full(name: str) -> str:
        return name if name.endswith(".") else f"{zone}." if name == "@" else f"{name}.{zone}."

    names = RDATA_NAMES.get(change.record_type, ())
    data = tuple(full(d) if i in names else d for i, d in enumerate(change.data))
    return replace(change, dname=full(change.dname), data=data)


def replace_entry(zone: Zone, entry: Entry, new_line: str | None) -> str:
    """The zone's text with the lines of `entry` (a record, comment or control line) replaced
    by `new_line`, or removed (None); every other line kept as it is. Every other record must
    keep its TTL (check_ttls_kept): a `$TTL` line that records rely on stays."""
    lines = zone.text.split("\n")
    end = entry.line_index + entry.line_count
    middle = [] if new_line is None else [new_line]
    text = "\n".join([*lines[: entry.line_index], *middle, *lines[end:]])
    check_ttls_kept(zone, text, entry.line_index, new_line is not None)
    return text


def check_ttls_kept(zone: Zone, new_text: str, index: int, replaced: bool) -> None:
    """Every record but the one at line index `index` (in the new text too when `replaced`,
    not when the line was removed) keeps its TTL in `new_text`. cPanel writes every record
    with its own TTL when it saves a zone, so editing or removing a `$TTL` line changes no
    record's TTL there; in a text kept line by line a record written without one would take
    another (choice: refused, naming the record)."""
    old_entries = parse(zone.name, zone.text)
    before = [e.ttl for e in old_entries if e.kind == "record" and e.line_index != index]
    after = [
        e
        for e in parse(zone.name, new_text)
        if e.kind == "record" and not (replaced and e.line_index == index)
    ]
    for ttl, entry in zip(before, after, strict=False):
        if entry.ttl != ttl:
            raise InvalidParameter(
                f"The record on line {entry.line_index + 1:,} has no TTL of its own: it would "
                f"change from {ttl} to {entry.ttl}. Give it its own TTL first."
            )


def _record_at(
    zone: str,
    entries: Iterable[Entry],
    index: int,
    touched: set[int],
    new_type: str | None,
) -> Entry:
    """The record a remove (`new_type` None) or an edit names, in Cpanel/ZoneFile/LineEdit.pm's
    words (_verify_lineidx_for_new_op, then its SOA rules; `{index:,}` is its numf)."""
    entry = next((e for e in entries if e.kind == "record" and e.line_index == index), None)
    if entry is None:
        raise InvalidParameter(f"No record exists at line {index:,} in the “{zone}” DNS zone.")
    if index in touched:
        raise InvalidParameter(
            f"You submitted multiple edits for line index {index:,}. This interface forbids "
            "multiple edits per line."
        )
    if entry.record_type == "SOA":
        if new_type is None:
            raise InvalidParameter("Every DNS zone must contain an SOA record.")
        if new_type != "SOA":
            raise InvalidParameter("The SOA record’s type cannot change.")
        # Choice: cPanel lets an edit rewrite the SOA (its serial unchanged); gatehouse
        # keeps the SOA its own (it sets the serial on every change).
        raise InvalidParameter("This interface cannot edit or remove the SOA record.")
    if new_type == "SOA":
        raise InvalidParameter("Only one SOA record can exist in a given DNS zone.")
    touched.add(index)
    return entry


def apply_edits(
    zone: Zone, adds: Sequence[Change], edits: Sequence[Change], removes: Sequence[int]
) -> str:
    """The zone's new text: `edits` and `removes` name records by the line index they start
    at in the CURRENT text; every other line is kept as it is, and additions go at the end."""
    entries = parse(zone.name, zone.text)
    touched: set[int] = set()
    replaced: dict[int, tuple[int, str | None]] = {}  # line_index -> (line count, new line)
    for index in removes:
        entry = _record_at(zone.name, entries, index, touched, None)
        replaced[index] = (entry.line_count, None)
    for change in edits:
        assert change.line_index is not None
        entry = _record_at(zone.name, entries, change.line_index, touched, change.record_type)
        written = under_origin(zone.name, change, origin_at(zone.name, entries, change.line_index))
        line = render(written)
        _check_rdata(zone.name, change, line, change.line_index + 1)
        replaced[change.line_index] = (entry.line_count, line)
    lines = zone.text.split("\n")
    trailing = lines and lines[-1] == ""
    if trailing:
        lines.pop()
    out: list[str] = []
    moved: dict[int, int] = {}  # old line index -> new, for the lines kept
    i = 0
    while i < len(lines):
        if i in replaced:
            count, new = replaced[i]
            if new is not None:
                moved[i] = len(out)
                out.append(new)
            i += count
        else:
            moved[i] = len(out)
            out.append(lines[i])
            i += 1
    end_origin = origin_at(zone.name, entries, None) if adds else f"{zone.name}."
    for change in adds:
        change = under_origin(zone.name, change, end_origin)
        line = render(change)
        _check_rdata(zone.name, change, line, len(out) + 1)
        out.append(line)
    text = "\n".join(out) + "\n"
    _remember_edit(zone, entries, replaced, moved, out, len(out) - len(adds), text)
    return text


def _remember_edit(
    zone: Zone,
    entries: Sequence[Entry],
    replaced: dict[int, tuple[int, str | None]],
    moved: dict[int, int],
    out: list[str],
    first_added: int,
    text: str,
) -> None:
    """Keep the new text's entries, derived from the old ones (shifted) and the new lines, for
    save() to validate the zone from. Not kept where deriving is not exact: a record without
    an owner right after a removed or replaced one takes another owner now."""
    apex = f"{zone.name}."
    new_entries: list[Entry] = []
    touched: set[str] = set()
    after_change = False
    for e in entries:
        if e.line_index in replaced:
            after_change = True
            touched.add(absolute(zone.name, e.dname))
            line = replaced[e.line_index][1]
            if line is None:
                continue
            entry = plain_record(line, moved[e.line_index], DEFAULT_TTL, apex)
            if entry is None:
                return
            touched.add(absolute(zone.name, entry.dname))
            new_entries.append(entry)
            continue
        if after_change and e.kind == "record" and e.raw[:1] in (" ", "\t"):
            return
        after_change = False
        index = moved[e.line_index]
        if index == e.line_index:
            new_entries.append(e)  # entries are never changed once made: share it
        else:
            shifted = Entry(e.kind, index, e.line_count, e.raw, e.dname, e.ttl)
            shifted.record_type, shifted.data, shifted.tokens = e.record_type, e.data, e.tokens
            new_entries.append(shifted)
    for index in range(first_added, len(out)):
        entry = plain_record(out[index], index, DEFAULT_TTL, apex)
        if entry is None:
            return
        touched.add(absolute(zone.name, entry.dname))
        new_entries.append(entry)
    PARSED.put(zone.name, text, new_entries, frozenset(touched))


@dataclass(frozen=True, slots=True)
class MassEdit:
    """Changes applied together, all or nothing; `removes` are line indexes."""

    adds: list[Change]
    edits: list[Change]
    removes: list[int]


# The record types a cPanel account may create, edit and remove with DNS::mass_edit_zone
# (Cpanel::ZoneEdit::User with the zoneedit, simplezoneedit and changemx features: gatehouse
# does not model features, so an account holds all three).
ACCOUNT_TYPES = ("A", "AAAA", "CAA", "CNAME", "MX", "SRV", "TXT")


def _list_and(words: Sequence[str]) -> str:
    return ", ".join(words[:-1]) + f", and {words[-1]}"


def check_account_types(zone: Zone, edit: MassEdit) -> None:
    """cPanel's rules for an account's mass edit (Cpanel::API::DNS, Cpanel::Admin::Modules::
    Cpanel::zone): new records only of ACCOUNT_TYPES, and edits and removals only of records
    of those types — an account cannot touch its NS or SOA records this way."""
    for change in (*edit.adds, *edit.edits):
        if change.record_type not in ACCOUNT_TYPES:
            raise InvalidParameter(
                f"This interface cannot create “{change.record_type}” records. "
                f"It can only create {_list_and(ACCOUNT_TYPES)} records."
            )
    starts = {e.line_index: e for e in parse(zone.name, zone.text) if e.kind == "record"}
    for index in (*edit.removes, *(c.line_index for c in edit.edits)):
        entry = starts.get(index) if index is not None else None
        if entry is not None and entry.record_type not in ACCOUNT_TYPES:
            raise InvalidParameter(
                f"Line {index} contains a record of type “{entry.record_type}”. You cannot "
                f"edit or remove “{entry.record_type}” records. You can only edit or remove "
                f"{_list_and(ACCOUNT_TYPES)} records."
            )
