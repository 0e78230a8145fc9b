"""DNS zones: the store, the default template, the parse into cPanel's items and mass edits.

A zone is kept as the text of its zone file (RFC 1035 master format): cPanel clients address
records by 0-based `line_index` and see comments and `$TTL` lines, so the text is the source of
truth. Every change of a zone's text goes through `save()`: it sets the next SOA serial in the
text, validates the WHOLE zone with dnspython and stores it with a compare-and-swap on the
serial, so two writers starting from the same serial cannot both win. Creating and deleting
zones go through `create()` and `delete()` (docs/dns.md).
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import dns.exception
import dns.name
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.ttl
import dns.zone
import dns.zonefile
import sqlalchemy as sa

from gatehouse.errors import Conflict, GatehouseError, InvalidParameter
from gatehouse.store.schema import users, zones

DEFAULT_TTL = 14400
NS_TTL = 86400
MAX_TTL = 2**31 - 1
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
_LABEL_RE = re.compile(r"^(\*|[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)$")


class Stale(GatehouseError):
    """The serial given is not the zone's: someone changed it meanwhile."""


class InvalidZone(GatehouseError):
    """The zone, as it would be after the change, is not a valid zone file."""


@dataclass(frozen=True, slots=True)
class Zone:
    name: str  # no trailing dot
    owner_user_id: int
    text: str
    serial: int
    updated_time: int = 0


# -- the store --------------------------------------------------------------------------------


def _zone(row: Any) -> Zone:
    return Zone(row.name, int(row.user_id), row.text, int(row.serial), int(row.updated_time))


def get(conn: sa.Connection, name: str) -> Zone | None:
    row = conn.execute(sa.select(zones).where(zones.c.name == normalise(name))).first()
    return _zone(row) if row else None


def lock(conn: sa.Connection, name: str) -> None:
    """Take the write lock before reading the zone: on SQLite a transaction that read first
    could not upgrade to a writer once another committed (SQLITE_BUSY); on PostgreSQL this
    locks the row. The compare-and-swap in `save()` is the guarantee either way."""
    conn.execute(
        sa.update(zones).where(zones.c.name == normalise(name)).values(serial=zones.c.serial)
    )


def list_visible(conn: sa.Connection, *, all_zones: bool, caller_id: int, caller: str) -> list[str]:
    """The zones a caller sees: every zone, or those of itself and the accounts it owns."""
    query = sa.select(zones.c.name).order_by(zones.c.name)
    if not all_zones:
        query = query.join(users, users.c.id == zones.c.user_id).where(
            sa.or_(users.c.id == caller_id, users.c.owner == caller)
        )
    return [r.name for r in conn.execute(query)]


def owner_of(conn: sa.Connection, zone: Zone) -> tuple[int, str, str]:
    """(user id, username, that user's owner) of the zone's account."""
    row = conn.execute(
        sa.select(users.c.id, users.c.username, users.c.owner).where(
            users.c.id == zone.owner_user_id
        )
    ).one()
    return int(row.id), row.username, row.owner


def names_of_user(conn: sa.Connection, user_id: int) -> list[str]:
    rows = conn.execute(
        sa.select(zones.c.name).where(zones.c.user_id == user_id).order_by(zones.c.name)
    )
    return [r.name for r in rows]


def reassign(conn: sa.Connection, from_user_id: int, to_user_id: int) -> list[str]:
    """Give a user's zones to another (removeacct keepdns=1 gives them to root)."""
    names = names_of_user(conn, from_user_id)
    conn.execute(sa.update(zones).where(zones.c.user_id == from_user_id).values(user_id=to_user_id))
    return names


def delete(conn: sa.Connection, name: str) -> bool:
    result = conn.execute(sa.delete(zones).where(zones.c.name == normalise(name)))
    return bool(result.rowcount)


def delete_of_user(conn: sa.Connection, user_id: int) -> list[str]:
    names = names_of_user(conn, user_id)
    conn.execute(sa.delete(zones).where(zones.c.user_id == user_id))
    return names


def create(
    conn: sa.Connection,
    name: str,
    *,
    user_id: int,
    ip: str,
    nameservers: Sequence[str],
    now: int,
    contact: str | None = None,
) -> Zone:
    """A new zone from the default template; Conflict if it exists."""
    name = normalise(name)
    if get(conn, name) is not None:
        raise Conflict(f"The DNS zone “{name}” already exists.")
    serial = next_serial(0, now)
    text = template(name, ip=ip, nameservers=nameservers, serial=serial, contact=contact)
    validate(name, text)
    conn.execute(
        sa.insert(zones).values(
            name=name, user_id=user_id, text=text, serial=serial, updated_time=now
        )
    )
    return Zone(name, user_id, text, serial, now)


def rename(conn: sa.Connection, zone: Zone, new_name: str, now: int) -> Zone:
    """Move a zone to a new name (modifyacct's domain change): every absolute name at or
    under the old apex moves under the new one, relative names stay, the serial is bumped,
    the result validated, and the compare-and-swap applies as in `save()`."""
    new_name = normalise(new_name)
    if get(conn, new_name) is not None:
        raise Conflict(f"The DNS zone “{new_name}” already exists.")
    pattern = re.compile(
        r"(?<![A-Za-z0-9_-])" + re.escape(zone.name) + r"\.(?![A-Za-z0-9_-])", re.IGNORECASE
    )
    new_serial = next_serial(zone.serial, now)
    text = set_serial(new_name, pattern.sub(f"{new_name}.", zone.text), new_serial)
    validate(new_name, text)
    result = conn.execute(
        sa.update(zones)
        .where(zones.c.name == zone.name, zones.c.serial == zone.serial)
        .values(name=new_name, text=text, serial=new_serial, updated_time=now)
    )
    if result.rowcount != 1:
        raise stale(zone.name, zone.serial)
    return Zone(new_name, zone.owner_user_id, text, new_serial, now)


def reset(conn: sa.Connection, zone: Zone, *, ip: str, nameservers: Sequence[str], now: int) -> int:
    """Rewrite a zone from the template (resetzone); returns the new serial."""
    text = template(zone.name, ip=ip, nameservers=nameservers, serial=zone.serial)
    return save(conn, zone, text, now)


def save(conn: sa.Connection, zone: Zone, new_text: str, now: int) -> int:
    """THE way a zone's text changes: set the next serial in the SOA, validate the whole zone,
    and store it if the zone still has `zone.serial` (else Stale). Returns the new serial."""
    new_serial = next_serial(zone.serial, now)
    made = _PARSED.get(zone.name, new_text)
    if made is not None and made[1] is not None:
        # Made by apply_edits from the stored zone, every new line already checked: the
        # zone-wide rules are checked on its entries, at the owners the edit touched (a
        # whole-text dnspython read of a large zone costs ~65 µs a record).
        entries = _with_serial(zone.name, list(made[0]), new_serial)
        new_text = _join(new_text, entries)
        check_structure(zone.name, entries, owners=made[1])
        _PARSED.put(zone.name, new_text, entries, frozenset())
    else:
        new_text = set_serial(zone.name, new_text, new_serial)
        validate(zone.name, new_text)
    result = conn.execute(
        sa.update(zones)
        .where(zones.c.name == zone.name, zones.c.serial == zone.serial)
        .values(text=new_text, serial=new_serial, updated_time=now)
    )
    if result.rowcount != 1:
        raise stale(zone.name, zone.serial)
    return new_serial


def stale(name: str, serial: int) -> Stale:
    # Choice: cPanel's Cpanel::Exception::Stale text is not public; the payload shape
    # ({"type":"Stale","detail":null}, Cpanel::APICommon::Error) is.
    return Stale(
        f"The DNS zone “{name}” has changed since serial {serial} (the serial is stale): "
        "read the zone again and retry.",
        data={"type": "Stale", "detail": None},
    )


def next_serial(current: int, now: int) -> int:
    """YYYYMMDDNN (UTC), never going backwards: today's first serial, or current + 1."""
    today = int(time.strftime("%Y%m%d", time.gmtime(now))) * 100 + 1
    return max(today, current + 1)


def normalise(name: str) -> str:
    return name.strip().lower().rstrip(".")


# -- the template -----------------------------------------------------------------------------


def template(
    name: str,
    *,
    ip: str,
    nameservers: Sequence[str],
    serial: int,
    contact: str | None = None,
) -> str:
    """cPanel's "standard" zone template: $TTL, SOA, NS, A for the domain, localhost, MX, mail,
    www and ftp. Choice: the SOA is on one line (cPanel spreads it over seven) and its RNAME
    is hostmaster.<zone> unless a contact address is given."""
    apex = f"{name}."
    ns = [n.rstrip(".") + "." for n in nameservers] or [f"ns1.{apex}"]
    rname = f"hostmaster.{apex}"
    if contact and "@" in contact:
        local, _, host = contact.partition("@")
        if re.fullmatch(r"[A-Za-z0-9_-]+", local) and host:
            rname = f"{local}.{host.rstrip('.')}."
    ip_type = "AAAA" if ":" in ip else "A"
    lines = [
        f"; Zone file for {name}",
        f"$TTL {DEFAULT_TTL}",
        f"{apex}\t{NS_TTL}\tIN\tSOA\t{ns[0]} {rname} {serial} 3600 1800 1209600 86400",
        *(f"{apex}\t{NS_TTL}\tIN\tNS\t{n}" for n in ns),
        f"{apex}\t{DEFAULT_TTL}\tIN\t{ip_type}\t{ip}",
        f"localhost\t{DEFAULT_TTL}\tIN\tA\t127.0.0.1",
        f"{apex}\t{DEFAULT_TTL}\tIN\tMX\t0 {apex}",
        f"mail\t{DEFAULT_TTL}\tIN\tCNAME\t{apex}",
        f"www\t{DEFAULT_TTL}\tIN\tCNAME\t{apex}",
        f"ftp\t{DEFAULT_TTL}\tIN\t{ip_type}\t{ip}",
    ]
    return "\n".join(lines) + "\n"


# -- parsing the text into items ----------------------------------------------------------------


@dataclass(slots=True)
class Token:
    value: str
    start: int  # offsets in the entry's raw text
    end: int
    quoted: bool = False


@dataclass(slots=True)
class Entry:
    kind: str  # record | comment | control
    line_index: int  # 0-based first line
    line_count: int
    raw: str  # the entry's lines, joined with "\n"
    dname: str = ""
    ttl: int = 0
    record_type: str = ""
    data: list[str] = field(default_factory=list)
    tokens: list[Token] = field(default_factory=list)  # the rdata tokens


# One token of a zone-file line: blanks, a comment, a parenthesis, a quoted string (possibly
# unterminated) or a bare word. A regex keeps the scan in C: a 10,000-record zone is scanned
# in a few milliseconds rather than a character at a time in Python.
_TOKEN_RE = re.compile(r';[^\n]*|[()]|"((?:\\.|[^"\\])*)"?|[^ \t\r\n;()"]+', re.S)
_PLAIN_RE = re.compile(r"[^ \t\r\n]+")
_SPECIAL_RE = re.compile(r'[";()\\]')
# One-line records: a quoted string (escapes kept for _unescape), a comment, or a word.
_LINE_RE = re.compile(r'"((?:\\.|[^"\\])*)"?|(;.*)|([^ \t\r\n";()]+)', re.S)
# The usual one-line record: owner, optional TTL and class (either order), type, data.
_RECORD_RE = re.compile(
    r"([^ \t\r\n;()\"]+)[ \t]+(?:(\d+)[ \t]+)?(?:(IN|CH|HS)[ \t]+)?(?:(\d+)[ \t]+)?"
    r"([A-Za-z][A-Za-z0-9-]*)(?:[ \t]+(.*?))?[ \t\r]*\Z",
    re.IGNORECASE | re.S,
)
_CLASSES = frozenset(("IN", "CH", "HS"))


def _scan(text: str) -> tuple[list[Token], int]:
    """Tokens of `text` outside comments and parentheses; returns (tokens, paren depth)."""
    if not _SPECIAL_RE.search(text):  # the common line: words and blanks only
        return [Token(m.group(), m.start(), m.end()) for m in _PLAIN_RE.finditer(text)], 0
    tokens: list[Token] = []
    depth = 0
    for m in _TOKEN_RE.finditer(text):
        c = text[m.start()]
        if c == ";":
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == '"':
            tokens.append(Token(_unescape(m.group(1)), m.start(), m.end(), quoted=True))
        else:
            tokens.append(Token(m.group(), m.start(), m.end()))
    return tokens, depth


def _unescape(value: str) -> str:
    return re.sub(r"\\([^0-9])", r"\1", value)


def _is_ttl(token: str) -> bool:
    try:
        dns.ttl.from_text(token)
    except (dns.exception.DNSException, ValueError):
        return False
    return token[:1].isdigit()


# For a text made by an edit of a stored zone: the absolute owners the edit touched; None for
# a text read from elsewhere (it must be validated whole).
Touched = frozenset[str] | None


class _ParseCache:
    """The entries of the last few zone texts parsed or produced here, keyed by the text
    itself (so a hit can never belong to another version of a zone). A DNS-01 client reads a
    zone, adds a record, reads it again and removes the record: on a 10,000-record zone each
    of those would otherwise parse the whole text again. `touched` marks texts this module
    made from a stored (valid) zone with every new line checked: save() then validates the
    zone's structure from the entries instead of re-reading the whole text with dnspython;
    `touched` (for those texts) names the owners whose records the edit changed, the only
    places where a zone-wide rule can newly fail."""

    def __init__(self, size: int = 4) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str], tuple[tuple[Entry, ...], Touched]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, name: str, text: str) -> tuple[tuple[Entry, ...], Touched] | None:
        with self._lock:
            hit = self._items.get((name, text))
            if hit is not None:
                self._items.move_to_end((name, text))
            return hit

    def put(self, name: str, text: str, entries: Sequence[Entry], touched: Touched) -> None:
        with self._lock:
            self._items[(name, text)] = (tuple(entries), touched)
            self._items.move_to_end((name, text))
            while len(self._items) > self._size:
                self._items.popitem(last=False)


_PARSED = _ParseCache()


def parse(name: str, text: str) -> list[Entry]:
    """The zone's comments, control lines ($TTL, $ORIGIN, ...) and records, in order. Blank
    lines are not items. Records without an owner take the previous one; without a TTL,
    the last $TTL (else 14400). The entries may be shared with other callers: read them,
    never change them."""
    name = normalise(name)
    hit = _PARSED.get(name, text)
    if hit is not None:
        return list(hit[0])
    entries = _parse(name, text)
    _PARSED.put(name, text, entries, None)
    return entries


def _parse(name: str, text: str) -> list[Entry]:
    apex = f"{normalise(name)}."
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    entries: list[Entry] = []
    default_ttl = DEFAULT_TTL
    previous_owner = apex
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped:
            i += 1
            continue
        if stripped.startswith(";"):
            entries.append(Entry("comment", i, 1, line))
            i += 1
            continue
        if stripped.startswith("$"):
            entries.append(Entry("control", i, 1, line))
            words = stripped.split()
            if words[0].upper() == "$TTL" and len(words) > 1 and _is_ttl(words[1]):
                default_ttl = dns.ttl.from_text(words[1])
            i += 1
            continue
        if line[0] not in " \t" and "(" not in line and ")" not in line:
            plain = _plain_record(line, i, default_ttl, apex)
            if plain is not None:
                previous_owner = plain.dname
                entries.append(plain)
                i += 1
                continue
        start = i
        raw = line
        tokens, depth = _scan(raw)
        while depth > 0 and i + 1 < len(lines):
            i += 1
            raw += "\n" + lines[i]
            tokens, depth = _scan(raw)
        i += 1
        entry = Entry("record", start, i - start, raw)
        if line[:1] in (" ", "\t"):
            owner = previous_owner
        elif tokens:
            owner = tokens.pop(0).value
        else:
            owner = previous_owner
        if owner == "@":
            owner = apex
        previous_owner = owner
        ttl: int | None = None
        while tokens and (
            (ttl is None and _is_ttl(tokens[0].value))
            or tokens[0].value.upper() in ("IN", "CH", "HS")
        ):
            t = tokens.pop(0)
            if t.value.upper() not in ("IN", "CH", "HS"):
                ttl = dns.ttl.from_text(t.value)
        entry.dname = owner
        entry.ttl = default_ttl if ttl is None else ttl
        entry.record_type = tokens.pop(0).value.upper() if tokens else ""
        entry.tokens = tokens
        entry.data = [t.value for t in tokens]
        entries.append(entry)
    return entries


def _plain_record(line: str, index: int, default_ttl: int, apex: str) -> Entry | None:
    """A one-line record with an owner and no parentheses — most lines of most zones — read
    without building tokens with offsets (only the SOA needs those: None sends SOA lines, and
    anything unusual, to the general path)."""
    m = _RECORD_RE.match(line)
    if m is not None:
        owner, ttl1, _cls, ttl2, rtype, rest = m.groups()
        record_type = rtype.upper()
        if record_type == "SOA" or (ttl1 and ttl2):
            return None
        ttl_text = ttl1 or ttl2
        seconds = int(ttl_text) if ttl_text else default_ttl
        if seconds > MAX_TTL:
            return None
        if not rest:
            data: list[str] = []
        elif _SPECIAL_RE.search(rest):
            data = []
            for quoted, comment, word in _LINE_RE.findall(rest):
                if comment:
                    break
                data.append(word or _unescape(quoted))
        else:
            data = rest.split()
        entry = Entry("record", index, 1, line, apex if owner == "@" else owner, seconds)
        entry.record_type = record_type
        entry.data = data
        return entry
    if _SPECIAL_RE.search(line):
        words = []
        for quoted, comment, word in _LINE_RE.findall(line):
            if comment:
                break
            words.append(word or _unescape(quoted))
        if not words:
            return None
    else:
        words = line.split()
    owner = apex if words[0] == "@" else words[0]
    k = 1
    ttl: int | None = None
    while k < len(words):
        word = words[k]
        if word.upper() in _CLASSES:
            k += 1
        elif ttl is None and word.isdigit() and int(word) <= MAX_TTL:
            ttl = int(word)
            k += 1
        elif ttl is None and _is_ttl(word):
            ttl = dns.ttl.from_text(word)
            k += 1
        else:
            break
    record_type = words[k].upper() if k < len(words) else ""
    if record_type == "SOA":
        return None
    entry = Entry("record", index, 1, line, owner, default_ttl if ttl is None else ttl)
    entry.record_type = record_type
    entry.data = words[k + 1 :]
    return entry


def _b64(value: str) -> str:
    return base64.b64encode(value.encode("utf-8", "surrogateescape")).decode("ascii")


def payload(name: str, text: str) -> list[dict[str, Any]]:
    """parse_dns_zone's `payload` (compatibility.md, cPanel's Cpanel::ZoneFile::Parse)."""
    out: list[dict[str, Any]] = []
    for e in parse(name, text):
        if e.kind == "record":
            out.append(
                {
                    "line_index": e.line_index,
                    "type": "record",
                    "dname_b64": _b64(e.dname),
                    "ttl": e.ttl,
                    "record_type": e.record_type,
                    "data_b64": [_b64(d) for d in e.data],
                }
            )
        else:
            out.append({"line_index": e.line_index, "type": e.kind, "text_b64": _b64(e.raw)})
    return out


def soa_entry(name: str, text: str) -> Entry | None:
    for e in parse(name, text):
        if e.kind == "record" and e.record_type == "SOA":
            return e
    return None


def set_serial(name: str, text: str, serial: int) -> str:
    """The text with the SOA's serial replaced in place (every other byte kept)."""
    entry = soa_entry(name, text)
    if entry is None or len(entry.tokens) < 3:
        raise InvalidZone(f"The DNS zone “{name}” has no valid SOA record.")
    token = entry.tokens[2]
    raw = entry.raw[: token.start] + str(serial) + entry.raw[token.end :]
    lines = text.split("\n")
    lines[entry.line_index : entry.line_index + entry.line_count] = raw.split("\n")
    return "\n".join(lines)


def _with_serial(name: str, entries: list[Entry], serial: int) -> list[Entry]:
    """The entries with the SOA's serial replaced in its raw text (every other byte kept)."""
    for i, entry in enumerate(entries):
        if entry.kind == "record" and entry.record_type == "SOA":
            tokens, _depth = _scan(entry.raw)
            data_tokens = tokens[len(tokens) - len(entry.data) :]
            if len(data_tokens) < 3:
                break
            token = data_tokens[2]
            raw = entry.raw[: token.start] + str(serial) + entry.raw[token.end :]
            data = list(entry.data)
            data[2] = str(serial)
            new_tokens, _depth = _scan(raw)
            soa = Entry("record", entry.line_index, entry.line_count, raw, entry.dname, entry.ttl)
            soa.record_type, soa.data = "SOA", data
            soa.tokens = new_tokens[len(new_tokens) - len(data) :]
            entries[i] = soa
            return entries
    raise InvalidZone(f"The DNS zone “{name}” has no valid SOA record.")


def _join(text: str, entries: Sequence[Entry]) -> str:
    """`text` with the SOA entry's lines replaced by its (new) raw text."""
    for entry in entries:
        if entry.kind == "record" and entry.record_type == "SOA":
            lines = text.split("\n")
            lines[entry.line_index : entry.line_index + entry.line_count] = entry.raw.split("\n")
            return "\n".join(lines)
    return text


def check_structure(
    name: str, entries: Sequence[Entry], *, owners: frozenset[str] | None = None
) -> None:
    """The zone-wide rules on parsed entries: one SOA, at the apex; an NS at the apex; no
    CNAME beside other data. (What dnspython's whole-zone read checks beyond each record.)
    With `owners` (absolute names): the entries come from an edit of a valid zone that
    changed only the records of those names, and the SOA could not be touched, so only the
    rules at those names are checked."""
    zone = normalise(name)
    apex = f"{zone}."
    if owners is None:
        soa = [e for e in entries if e.kind == "record" and e.record_type == "SOA"]
        if len(soa) != 1 or _absolute(zone, soa[0].dname) != apex:
            line = soa[1].line_index + 1 if len(soa) > 1 else 0
            raise _invalid(zone, line, "the zone needs exactly one SOA record, at its apex")
    else:
        if not owners:
            return
        # Cheap pre-filter: a record can only be at a touched owner if its name, as written,
        # is that owner absolute, relative to the apex, or `@`.
        spellings = {o for o in owners} | {
            o[: -len(apex) - 1] for o in owners if o.endswith(f".{apex}")
        }
        if apex in owners:
            spellings |= {"@", ""}
        entries = [e for e in entries if e.kind == "record" and e.dname.lower() in spellings]
    if (owners is None or apex in owners) and not any(
        e.kind == "record" and e.record_type == "NS" and _absolute(zone, e.dname) == apex
        for e in entries
    ):
        raise _invalid(zone, 0, "the zone needs at least one NS record at its apex")
    types: dict[str, set[str]] = {}
    for e in entries:
        if e.kind != "record":
            continue
        owner = _absolute(zone, e.dname)
        held = types.setdefault(owner, set())
        held.add(e.record_type)
        if "CNAME" in held and len(held) > 1 and held - {"CNAME", "RRSIG", "NSEC", "NSEC3"}:
            others = ", ".join(sorted(held - {"CNAME", "RRSIG", "NSEC", "NSEC3"}))
            raise _invalid(
                zone,
                e.line_index + 1,
                f"a CNAME record cannot share the name “{owner}” with other records ({others})",
            )


def validate(name: str, text: str) -> None:
    """The whole zone must load with dnspython (SOA and NS at the apex, every record valid, no
    CNAME beside other data, no character-string over 255 bytes). Refusals carry cPanel's
    InvalidZoneFile payload with `by_line` ([line (1-based), why])."""
    zone = normalise(name)
    try:
        dns.zone.from_text(text, origin=f"{zone}.", relativize=False, check_origin=True)
    except dns.zonefile.CNAMEAndOtherData:
        check_structure(zone, parse(zone, text))  # says where and why
        raise _invalid(zone, 0, "a CNAME record cannot share its name with other records") from None
    except dns.exception.DNSException as exc:
        message = str(exc)
        match = re.match(r"^<string>:(\d+): (.*)$", message, re.S)
        line = int(match.group(1)) if match else 0
        why = _explain(match.group(2) if match else (message or type(exc).__name__))
        raise _invalid(zone, line, why) from None
    check_structure(zone, parse(zone, text))  # e.g. a second SOA, which dnspython merges


def _explain(why: str) -> str:
    """dnspython's terse reasons, reworded where a user needs to know what to do."""
    if why == "string too long":
        return (
            "a character-string (one quoted part of a TXT record) may hold at most 255 "
            "bytes: split a longer value into several strings"
        )
    return why


def _invalid(zone: str, line: int, why: str) -> InvalidZone:
    where = f" (line {line})" if line else ""
    # Choice: cPanel's InvalidZoneFile message text is not public; its payload shape is.
    return InvalidZone(
        f"The DNS zone “{zone}” would be invalid{where}: {why}",
        data={"type": "InvalidZoneFile", "detail": {"by_line": [[line, why]]}},
    )


def _absolute(zone: str, dname: str) -> str:
    dname = dname.lower()
    if dname.endswith("."):
        return dname
    return f"{dname}.{zone}." if dname not in ("", "@") else f"{zone}."


# -- mass edits -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    dname: str
    ttl: int
    record_type: str
    data: tuple[str, ...]
    line_index: int | None = None  # for an edit


def _check_dname(zone: str, dname: str) -> str:
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
    if not all(_LABEL_RE.match(label) for label in relative.split(".")):
        raise InvalidParameter(f"“{dname}” is not a valid record name.")
    return dname


def change_from_json(zone: str, raw: Any, *, edit: bool) -> Change:
    """One `add` or `edit` item (already decoded from JSON)."""
    what = "edit" if edit else "add"
    if not isinstance(raw, dict):
        raise InvalidParameter(f"Each “{what}” must be a JSON object.")
    record_type = raw.get("record_type")
    if not isinstance(record_type, str) or not record_type:
        raise InvalidParameter(f"Each “{what}” needs a “record_type”.")
    record_type = record_type.upper()
    if not edit and record_type not in ADDABLE_TYPES:
        listed = ", ".join(ADDABLE_TYPES[:-1]) + f", and {ADDABLE_TYPES[-1]}"
        raise InvalidParameter(
            f"This interface cannot create “{record_type}” records. "
            f"It can only create {listed} records."
        )
    if record_type == "SOA":
        # Choice: the SOA is the server's (its serial is set on every change).
        raise InvalidParameter("This interface cannot edit the SOA record.")
    try:
        dns.rdatatype.from_text(record_type)
    except dns.exception.DNSException:
        raise InvalidParameter(f"“{record_type}” is not a DNS record type.") from None
    dname = raw.get("dname")
    if not isinstance(dname, str):
        raise InvalidParameter(f"Each “{what}” needs a “dname”.")
    dname = _check_dname(zone, dname)
    ttl = raw.get("ttl")
    if isinstance(ttl, str) and ttl.isdigit():
        ttl = int(ttl)
    if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 <= ttl <= MAX_TTL:
        raise InvalidParameter(f"Each “{what}” needs a “ttl” between 0 and {MAX_TTL}.")
    data = raw.get("data")
    if not isinstance(data, list) or not data or not all(isinstance(d, str) for d in data):
        raise InvalidParameter(f"Each “{what}” needs “data”, a list of strings.")
    if any("\n" in d or "\r" in d for d in data):
        raise InvalidParameter("Record data may not contain line breaks.")
    line_index = None
    if edit:
        line_index = raw.get("line_index")
        if not isinstance(line_index, int) or isinstance(line_index, bool) or line_index < 0:
            raise InvalidParameter("Each “edit” needs a “line_index”, a non-negative integer.")
    return Change(dname, ttl, record_type, tuple(data), line_index)


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
        why = _explain(str(exc) or type(exc).__name__)
        raise InvalidZone(
            f"The {change.record_type} record “{change.dname}” is invalid: {why}",
            data={"type": "InvalidZoneFile", "detail": {"by_line": [[line_number, why]]}},
        ) from None


def _record_at(entries: Iterable[Entry], index: int, what: str) -> Entry:
    for e in entries:
        if e.kind == "record" and e.line_index == index:
            if e.record_type == "SOA":
                raise InvalidParameter("This interface cannot edit or remove the SOA record.")
            return e
    raise InvalidParameter(f"No record starts at line index {index} ({what}).")


def apply_edits(
    zone: Zone, adds: Sequence[Change], edits: Sequence[Change], removes: Sequence[int]
) -> str:
    """The zone's new text: `edits` and `removes` name records by the line index they start
    at in the CURRENT text; every other line is kept as it is, and additions go at the end."""
    entries = parse(zone.name, zone.text)
    touched: set[int] = set()
    replaced: dict[int, tuple[int, str | None]] = {}  # line_index -> (line count, new line)
    for index in removes:
        entry = _record_at(entries, index, "remove")
        if index in touched:
            raise InvalidParameter(f"The line index {index} is given more than once.")
        touched.add(index)
        replaced[index] = (entry.line_count, None)
    for change in edits:
        assert change.line_index is not None
        entry = _record_at(entries, change.line_index, "edit")
        if change.line_index in touched:
            raise InvalidParameter(f"The line index {change.line_index} is given more than once.")
        touched.add(change.line_index)
        line = render(change)
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
    for change in adds:
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
            touched.add(_absolute(zone.name, e.dname))
            line = replaced[e.line_index][1]
            if line is None:
                continue
            entry = _plain_record(line, moved[e.line_index], DEFAULT_TTL, apex)
            if entry is None:
                return
            touched.add(_absolute(zone.name, entry.dname))
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
        entry = _plain_record(out[index], index, DEFAULT_TTL, apex)
        if entry is None:
            return
        touched.add(_absolute(zone.name, entry.dname))
        new_entries.append(entry)
    _PARSED.put(zone.name, text, new_entries, frozenset(touched))
