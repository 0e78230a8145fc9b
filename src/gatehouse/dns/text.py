"""Zone text (RFC 1035 master format) read into entries: comments, control lines ($TTL,
$ORIGIN, ...) and records, each with the 0-based line it starts on (cPanel clients address
records by `line_index`). The one zone-text reader: the API reads entries with `parse_entries`
(cached by `gatehouse.dns.parsed`), the nameserver reads owners and types with
`record_heads` (its fast path) and falls back to the entries."""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field

import dns.exception
import dns.ttl

from gatehouse.numerals import digits

DEFAULT_TTL = 14400
MAX_TTL = 2**31 - 1


def normalise(name: str) -> str:
    """A zone name as stored: lower case, no trailing dot."""
    return name.strip().lower().rstrip(".")


# The rdata items that are domain names, by type (their 0-based positions): a relative one is
# relative to the origin in force where the record is written.
RDATA_NAMES: dict[str, tuple[int, ...]] = {
    "CNAME": (0,), "DNAME": (0,), "NS": (0,), "PTR": (0,), "MX": (1,), "KX": (1,),
    "SRV": (3,), "SOA": (0, 1), "AFSDB": (1,), "RP": (0, 1), "NAPTR": (5,),
}  # fmt: skip


def absolute(zone: str, dname: str) -> str:
    dname = dname.lower()
    if dname.endswith("."):
        return dname
    return f"{dname}.{zone}." if dname not in ("", "@") else f"{zone}."


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


def scan(text: str) -> tuple[list[Token], int]:
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
    return digits(token[:1])


# For a text made by an edit of a stored zone: the absolute owners the edit touched; None for


def origin_line(raw: str, origin: str) -> str | None:
    """The origin a `$ORIGIN` line sets (absolute, lower case), from the one in force before
    it: a relative name is relative to that one, as BIND reads it (RFC 1035 5.1); None for
    any other line."""
    words = raw.split(";", 1)[0].split()
    if len(words) < 2 or words[0].upper() != "$ORIGIN":
        return None
    value = words[1].lower()
    if value == "@":
        return origin
    return value if value.endswith(".") else f"{value}.{origin}"


def _under(entry: Entry, origin: str) -> None:
    """A record read where `$ORIGIN` is not the zone's: its owner and the names in its data
    made absolute from that origin (`www` under `$ORIGIN sub.example.com.` is
    `www.sub.example.com.`), so that every reader — which takes a relative name as relative
    to the zone — reads it as BIND does."""
    if entry.dname == "@":
        entry.dname = origin
    elif not entry.dname.endswith("."):
        entry.dname = f"{entry.dname}.{origin}"
    for i in RDATA_NAMES.get(entry.record_type, ()):
        if i < len(entry.data) and not entry.data[i].endswith("."):
            value = entry.data[i]
            entry.data[i] = origin if value == "@" else f"{value}.{origin}"


def parse_entries(name: str, text: str) -> list[Entry]:
    apex = f"{normalise(name)}."
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    entries: list[Entry] = []
    default_ttl = DEFAULT_TTL
    previous_owner = apex
    origin = apex  # `$ORIGIN` lines change it for the records that follow
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
            new_origin = origin_line(stripped, origin)
            if new_origin is not None and new_origin != origin:
                # The last owner, which a record without one takes, is a name, not text: it
                # stays what it was under the origin it was read with.
                if not previous_owner.endswith("."):
                    previous_owner = f"{previous_owner}.{origin}"
                origin = new_origin
            i += 1
            continue
        if line[0] not in " \t" and "(" not in line and ")" not in line:
            plain = plain_record(line, i, default_ttl, origin)
            if plain is not None:
                if origin != apex:
                    _under(plain, origin)
                previous_owner = plain.dname
                entries.append(plain)
                i += 1
                continue
        start = i
        raw = line
        tokens, depth = scan(raw)
        while depth > 0 and i + 1 < len(lines):
            i += 1
            raw += "\n" + lines[i]
            tokens, depth = scan(raw)
        i += 1
        entry = Entry("record", start, i - start, raw)
        if line[:1] in (" ", "\t"):
            owner = previous_owner
        elif tokens:
            owner = tokens.pop(0).value
        else:
            owner = previous_owner
        if owner == "@":
            owner = origin
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
        if origin != apex:
            _under(entry, origin)
        previous_owner = entry.dname
        entries.append(entry)
    return entries


def records_at(
    name: str, text: str, owners: Collection[str], record_types: Collection[str] | None = None
) -> list[Entry]:
    """The zone's records of these types (None: of every type) whose owner (absolute, with its
    trailing dot, lower case) is one of `owners`."""
    return [
        e
        for e in parse_entries(name, text)
        if e.kind == "record"
        and (record_types is None or e.record_type in record_types)
        and absolute(name, e.dname) in owners
    ]


def plain_record(line: str, index: int, default_ttl: int, apex: str) -> Entry | None:
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
        elif ttl is None and digits(word) and int(word) <= MAX_TTL:
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


# -- owners and types at once, for the nameserver ---------------------------------------------
# The nameserver indexes a zone by each record's owner and type and reads a record's data
# (with dnspython) only when a question needs it: these readings follow the text exactly as
# dnspython's zone reader does, or raise NotPlain (the nameserver then reads it otherwise).
# `record_heads` is not `parse_entries` because it must stay cheap (no entry and no data per
# record: ~1 µs a line against ~4 µs) and refuse what dnspython reads otherwise, where
# `parse_entries` reads every text as cPanel shows it; `entry_heads` takes its entries.


class NotPlain(Exception):
    """The text holds what this reading does not follow exactly as dnspython's does."""


# (owner as written: relative, absolute or `@`; type as written; the record's text; the
# $TTL in force there)
RecordHead = tuple[str, str, str, int]
# `$TTL <ttl>` as dnspython reads it, optionally with a comment: the only directive read here.
TTL_LINE = re.compile(r"\$TTL[ \t]+([0-9][0-9A-Za-z]*)[ \t]*(?:;.*)?", re.IGNORECASE | re.S)
# A record's start as dnspython's tokenizer splits it when it holds no quote, parenthesis,
# comment or escape: the owner (or leading blanks), TTL, class and type, then the rdata.
# Every token must end at a blank (or the end), so none can be cut short.
RECORD_HEAD = re.compile(
    r"(?:([^ \t\"();\\]+)[ \t]+|[ \t]+)(?:([0-9][0-9A-Za-z]*)[ \t]+)?(?:(IN)[ \t]+)?"
    r"(?:([0-9][0-9A-Za-z]*)[ \t]+)?([A-Za-z][A-Za-z0-9-]*)(?:[ \t]+|\Z)",
    re.IGNORECASE,
)


def record_heads(text: str) -> Iterator[RecordHead]:
    """The records of a text whose records are each one line, and no parenthesis anywhere:
    what the template and the API write. About 1 µs a line."""
    # A first line that is a comment is not searched: cPanel's version line, the first line of
    # every zone it writes (dns/version_line.py), names "(update_time)".
    start = text.find("\n") + 1 if text.startswith(";") else 0
    if "\r" in text or text.find("(", start) >= 0 or text.find(")", start) >= 0:
        raise NotPlain  # lines dnspython may read otherwise, or a record over several lines
    default_ttl: int | None = None
    owner = ""
    head = RECORD_HEAD.match
    for line in text.split("\n"):
        first = line[:1]
        if first in ("", ";"):
            continue
        if first == "$":
            default_ttl = ttl_directive(line)
            continue
        parts = line.split("\t", 4)
        if (
            len(parts) == 5
            and parts[2] == "IN"
            and parts[1].isascii()
            and parts[1].isdigit()
            and parts[0]
        ):
            # As the API writes a record: owner, TTL, class, type and data, split by tabs.
            if default_ttl is None:
                raise NotPlain
            owner = parts[0]
            yield owner, parts[3], line, default_ttl
            continue
        if first in (" ", "\t") and line.lstrip(" \t")[:1] in ("", ";"):
            continue  # blanks, or a comment after blanks
        match = head(line)
        if match is None or default_ttl is None:
            raise NotPlain
        written, ttl, _class, ttl2, rdtype = match.groups()
        if ttl and ttl2:
            raise NotPlain
        if written is not None:
            owner = written
        elif not owner:
            raise NotPlain  # a first record without an owner
        yield owner, rdtype, line, default_ttl


def ttl_directive(line: str) -> int:
    """The TTL a `$TTL` line sets; other directives are not followed here."""
    match = TTL_LINE.fullmatch(line)
    if match is None:
        raise NotPlain  # $ORIGIN, $INCLUDE, $GENERATE, ...
    return dns.ttl.from_text(match.group(1))


def entry_heads(text: str, entries: Iterable[Entry]) -> Iterator[RecordHead]:
    """The records of any text, from its entries (`parse_entries`)."""
    if "\r" in text:
        raise NotPlain
    default_ttl: int | None = None
    for entry in entries:
        if entry.kind == "record":
            if default_ttl is None:
                raise NotPlain
            yield entry.dname, entry.record_type, entry.raw, default_ttl
        elif entry.kind == "control":
            default_ttl = ttl_directive(entry.raw)
