"""A hosted zone as the nameserver reads it: what every answer needs (the names that exist,
empty non-terminals included, the delegation points, the DNAMEs, the SOA), made at once, and
each name's records, made by dnspython the first time a question needs them. Pure: no I/O
(a log line aside, for a text that turns out not to load as it was indexed).

Reading a zone with dnspython's zone reader costs about 65 µs a record: most of a second for
a 10,000-record zone, and the event loop (shared with the HTTP API) waits meanwhile. So only
each record's owner and type are read at once, from the text (about 1 µs a record), and a
name's records are read by dnspython, from those records' own text, when a question first
needs them (30-90 µs a record), then kept.

Owners and types come from one of three readings, the first that applies:

- "lines": every record on one line and no parenthesis anywhere: what the template and the
  API write. Read a line at a time (`gatehouse.dns.text.record_heads`).
- "entries": `gatehouse.dns.text.parse_entries` (about 4 µs a record, and usually done already by
  the API call that saved the text): multi-line records, comments inside them, and so on.
- "whole": dnspython's zone reader, every record at once: for what the two others do not
  follow exactly as dnspython does ($ORIGIN, $GENERATE, $INCLUDE, a record before the first
  $TTL, escapes or non-ASCII in owner names, CR line ends).

A stored text was validated whole by dnspython (`zones.save`). A record that does not read
later, when its name is first asked for (a text stored around `zones.save`), or that is not
what the index said, makes the zone read again whole by dnspython: if that fails too, the zone
is broken (`ZoneError`: SERVFAIL) from then on."""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping

import dns.exception
import dns.name
import dns.node
import dns.rdata
import dns.rdataclass
import dns.rdataset
import dns.rdatatype
import dns.rdtypes.ANY.SOA
import dns.rrset
import dns.tokenizer
import dns.ttl
import dns.zone

from gatehouse.dns.parsed import parse as parse_cached
from gatehouse.dns.text import RECORD_HEAD, NotPlain, RecordHead, entry_heads, record_heads

log = logging.getLogger("gatehouse.dns.nameserver")

# A name as the zone's indexes hold it: its labels in lower case joined by dots, the root's
# empty label last ("www.example.com."). Strings hash in C (dns.name.Name hashes a byte at a
# time in Python), and are no work for the garbage collector.
Key = str
# A record not read yet: its text, with the $TTL in force where it stands if that is not the
# zone's first $TTL. An owner's records: one, or a list.
Record = str | tuple[str, int]
Pending = Record | list[Record]
_READ: Pending = ""  # an owner whose records are read

_IN = dns.rdataclass.IN
# Generations are never reused (unlike id()), so a response cached under one can never be
# taken for another zone's, or for this zone's after it changed.
_GENERATIONS = itertools.count(1)
_SOA, _NS, _DNAME = dns.rdatatype.SOA, dns.rdatatype.NS, dns.rdatatype.DNAME


class ZoneError(Exception):
    """The zone's text does not load. `first` is set on the one raise that found it out."""

    def __init__(self, why: str, *, first: bool = False) -> None:
        super().__init__(why)
        self.first = first


class _Unreadable(Exception):
    """A record that does not read as the index said, or not at all."""


def key_of(name: dns.name.Name) -> Key:
    labels = name.labels
    joined = b".".join(labels)
    if joined.count(b".") != len(labels) - 1:
        # A label holding a dot (written `\.`): kept apart, as no other key starts with "..".
        return ".." + repr(tuple(label.lower() for label in labels))
    return joined.lower().decode("latin-1")


def index(rdtype: int, covers: int = 0) -> int:
    """How the rdatasets of one name are keyed: in type order, like dnspython's own sort."""
    return (rdtype << 16) | covers


class HostedZone:
    """One zone: the names that exist, its cuts and DNAMEs, the SOA, and each name's rdatasets
    made on first use. Answers share what it returns: never modify an rdataset or RRset."""

    __slots__ = (
        "_apex",
        "_base_ttl",
        "_broken",
        "_built",
        "_name",
        "_pending",
        "_rrsets",
        "_text",
        "cuts",
        "dnames",
        "generation",
        "names",
        "negative_soa",
        "origin",
        "reading",
        "soa",
    )

    origin: dns.name.Name  # absolute, lower case
    # Every name that exists (RFC 4592 §2.2.2): the owners and all their ancestors up to the
    # apex, so empty non-terminals block wildcards and get NODATA, not NXDOMAIN.
    names: frozenset[Key]
    cuts: frozenset[Key]  # owners of NS below the apex: delegation points
    dnames: frozenset[Key]  # owners of DNAME
    soa: dns.rdataset.Rdataset
    negative_soa: dns.rrset.RRset  # for NXDOMAIN and NODATA: TTL min(SOA TTL, MINIMUM)
    reading: str  # how the owners and types were found: "lines", "entries" or "whole"
    # Moves on whenever the answers this object gives may change (read again whole, found
    # broken): what the response cache keys on, with the zone's own identity.
    generation: int

    def __init__(
        self,
        name: str,
        text: str,
        origin: dns.name.Name,
        *,
        reading: str,
        pending: dict[Key, Pending],
        built: dict[Key, dict[int, dns.rdataset.Rdataset]],
        base_ttl: int,
        names: frozenset[Key],
        cuts: frozenset[Key],
        dnames: frozenset[Key],
    ) -> None:
        self._name = name
        self._text = text  # to read it whole if a record is not what the index said
        self.origin = origin
        self._apex = key_of(origin)
        self.reading = reading
        # Every owner (the keys), with its records not read yet (_READ once read).
        self._pending = pending
        self._built = built  # the owners read so far: their rdatasets by index()
        self._base_ttl = base_ttl  # the zone's first $TTL
        self.names = names
        self.cuts = cuts
        self.dnames = dnames
        self._broken: str | None = None
        self.generation = next(_GENERATIONS)
        # For rdatasets read whole by dnspython: RRsets as answers carry them, made on first
        # use (building one hashes every rdata, which costs more than the rest of a small
        # answer). Those read name by name are RRsets already.
        self._rrsets: dict[tuple[Key, int], dns.rrset.RRset] = {}
        soa = self.rdataset(origin, _SOA)
        if soa is None:
            raise dns.zone.NoSOA
        self._set_soa(soa)

    def _set_soa(self, soa: dns.rdataset.Rdataset) -> None:
        record = soa[0]
        assert isinstance(record, dns.rdtypes.ANY.SOA.SOA)
        self.soa = soa
        self.negative_soa = as_rrset(self.origin, soa)
        self.negative_soa.ttl = min(soa.ttl, record.minimum)  # RFC 2308 §3

    def check(self) -> None:
        """Raises ZoneError if the zone turned out not to load."""
        if self._broken is not None:
            raise ZoneError(self._broken)

    def exists(self, name: dns.name.Name) -> bool:
        """Whether the name exists: it owns records or has names below it."""
        return key_of(name) in self.names

    def owns(self, name: dns.name.Name) -> bool:
        """Whether the name owns records."""
        return key_of(name) in self._pending

    def rdatasets(self, name: dns.name.Name) -> Mapping[int, dns.rdataset.Rdataset] | None:
        """The name's rdatasets by `index(rdtype, covers)`, or None if it owns none."""
        return self._rdatasets(key_of(name))

    def rdataset(
        self, name: dns.name.Name, rdtype: dns.rdatatype.RdataType
    ) -> dns.rdataset.Rdataset | None:
        rdatasets = self._rdatasets(key_of(name))
        if rdatasets is None:
            return None
        return rdatasets.get(index(rdtype))

    def rrset(self, owner: dns.name.Name, rdataset: dns.rdataset.Rdataset) -> dns.rrset.RRset:
        """`rdataset`, one of the name `owner`'s, as an RRset (do not modify it)."""
        if isinstance(rdataset, dns.rrset.RRset):
            return rdataset  # read name by name: already an RRset of its owner
        key = (key_of(owner), index(rdataset.rdtype, rdataset.covers))
        rrset = self._rrsets.get(key)
        if rrset is None:
            rrset = as_rrset(owner.canonicalize(), rdataset)
            self._rrsets[key] = rrset
        return rrset

    def wildcard(self, name: dns.name.Name) -> dns.name.Name | None:
        """The source of synthesis for a name that does not exist (RFC 4592 §3.3.1): `*`
        under the closest encloser, the nearest existing ancestor (an empty non-terminal
        counts), if the zone has it."""
        encloser = name.parent()
        while key_of(encloser) not in self.names:
            encloser = encloser.parent()
        source = dns.name.Name((b"*", *encloser.labels))
        return source if key_of(source) in self._pending else None

    def cut_at_or_above(self, name: dns.name.Name) -> dns.name.Name | None:
        """The highest delegation point on the way from the apex down to `name`, if any."""
        if not self.cuts:
            return None
        for depth in range(len(self.origin) + 1, len(name) + 1):
            ancestor = name if depth == len(name) else name.split(depth)[1]
            if key_of(ancestor) in self.cuts:
                return ancestor
        return None

    def _rdatasets(self, key: Key) -> dict[int, dns.rdataset.Rdataset] | None:
        rdatasets = self._built.get(key)
        if rdatasets is not None:
            return rdatasets
        pending = self._pending.get(key)
        if pending is None:
            return None
        self.check()
        try:
            rdatasets = _read_records(key, pending, self._base_ttl, self.origin)
            if (key in self.cuts) != (key != self._apex and index(_NS) in rdatasets):
                raise _Unreadable("the NS records are not those indexed")
            if (key in self.dnames) != (index(_DNAME) in rdatasets):
                raise _Unreadable("the DNAME records are not those indexed")
        except Exception as exc:  # dnspython raises more than DNSException on odd text
            self._read_whole(exc)
            return self._rdatasets(key)
        self._built[key] = rdatasets
        self._pending[key] = _READ  # the texts are no longer needed
        return rdatasets

    def _read_whole(self, exc: Exception) -> None:
        """A record did not read as the index said: read the whole text with dnspython's zone
        reader and answer from that, or, if it does not load, be broken from now on."""
        try:
            whole = _read_with_dnspython(self._name, self._text, self.origin)
        except Exception as error:
            self._broken = str(error) or type(error).__name__
            self.generation = next(_GENERATIONS)
            raise ZoneError(self._broken, first=True) from None
        why = str(exc) or type(exc).__name__
        log.warning("zone %s: a record did not read as indexed (%s): read whole", self._name, why)
        self.reading = "whole"
        self._pending, self._built = whole._pending, whole._built
        self.names, self.cuts, self.dnames = whole.names, whole.cuts, whole.dnames
        self._rrsets.clear()
        self._set_soa(whole.soa)
        self.generation = next(_GENERATIONS)


def as_rrset(owner: dns.name.Name, rdataset: dns.rdataset.Rdataset) -> dns.rrset.RRset:
    return dns.rrset.from_rdata_list(owner, rdataset.ttl, list(rdataset))


def parse(name: str, text: str, *, whole: bool = False) -> HostedZone:
    """The zone `name` (no trailing dot) from its stored text. Raises an exception (a
    dns.exception subclass, mostly) if the text does not load, as
    `gatehouse.dns.validate.validate` would. With `whole`, every record is read at once by
    dnspython's zone reader (slow: the reference the tests compare with)."""
    origin = dns.name.from_text(name).canonicalize()
    if not whole:
        for reading, records in (("lines", _lines), ("entries", _entries)):
            zone = _indexed(name, text, origin, reading, records)
            if zone is not None:
                return zone
    return _read_with_dnspython(name, text, origin)


# -- dnspython's zone reader, every record at once --------------------------------------------


def _read_with_dnspython(name: str, text: str, origin: dns.name.Name) -> HostedZone:
    zone = dns.zone.from_text(text, origin=origin, relativize=False, check_origin=True)
    built: dict[Key, dict[int, dns.rdataset.Rdataset]] = {}
    origin_key = key_of(origin)
    names: set[Key] = {origin_key}
    cuts: set[Key] = set()
    dnames: set[Key] = set()
    for owner, node in zone.nodes.items():
        rdatasets = {index(r.rdtype, r.covers): r for r in node.rdatasets}
        if not rdatasets:
            continue
        key = key_of(owner)
        built[key] = rdatasets
        ancestor = owner
        while key_of(ancestor) not in names:
            names.add(key_of(ancestor))
            ancestor = ancestor.parent()
        if key != origin_key and index(_NS) in rdatasets:
            cuts.add(key)
        if index(_DNAME) in rdatasets:
            dnames.add(key)
    return HostedZone(
        name,
        text,
        origin,
        reading="whole",
        pending=dict.fromkeys(built, _READ),
        built=built,
        base_ttl=0,
        names=frozenset(names),
        cuts=frozenset(cuts),
        dnames=frozenset(dnames),
    )


# -- owners and types at once ---------------------------------------------------------------

# An owner dnspython's tokenizer reads as one token, with no escape.
_PLAIN = re.compile(r'[^ \t"();\\]+').fullmatch
# An owner written relative, of plain labels (no escapes, no IDNA, no empty label).
_RELATIVE_OWNER = re.compile(r"[A-Za-z0-9_*-]+(?:\.[A-Za-z0-9_*-]+)*").fullmatch
_TYPES: dict[str, dns.rdatatype.RdataType] = {}


def _lines(name: str, text: str) -> Iterator[RecordHead]:
    return record_heads(text)


def _entries(name: str, text: str) -> Iterator[RecordHead]:
    return entry_heads(text, parse_cached(name, text))


def _indexed(
    name: str,
    text: str,
    origin: dns.name.Name,
    reading: str,
    records: Callable[[str, str], Iterator[RecordHead]],
) -> HostedZone | None:
    """The zone indexed from `records`, or None if that reading does not apply."""
    try:
        return _index(name, text, origin, reading, records(name, text))
    except ZoneError:
        raise  # its SOA did not load, nor did the whole text
    except Exception:  # not a text this reading follows: dnspython's reader says what it is
        return None


def _index(
    name: str, text: str, origin: dns.name.Name, reading: str, records: Iterable[RecordHead]
) -> HostedZone:
    """The zone from its records' owners and types, each name's rdata left for later. Raises
    NotPlain (or another exception) for a text this reading does not follow. About 1 µs a
    record: the loop is written for speed, and keeps no object the garbage collector tracks
    for a name with one record."""
    apex = key_of(origin)  # lower case, with the final dot
    if apex.startswith(".."):
        raise NotPlain
    below_apex = "." + apex
    pending: dict[Key, Pending] = {}
    names: set[Key] = {apex}
    cuts: set[Key] = set()
    dnames: set[Key] = set()
    soa = ns_at_apex = 0
    base_ttl: int | None = None
    last_owner: str | None = None
    key: Key | None = None
    types = _TYPES
    relative = _RELATIVE_OWNER
    for owner, type_text, raw, default_ttl in records:
        if owner != last_owner:
            last_owner = owner
            if relative(owner):  # the usual owner: one or more plain labels, relative
                key = owner.lower() + below_apex
            else:
                key = _owner_key(owner, apex, below_apex)
                if key is None:
                    continue  # outside the zone: dnspython's reader skips it too
            if key not in names:
                names.add(key)
                parent = key[key.index(".") + 1 :]
                while parent not in names:  # the apex is
                    names.add(parent)
                    parent = parent[parent.index(".") + 1 :]
        elif key is None:
            continue
        if base_ttl is None:
            base_ttl = default_ttl
        record: Record = raw if default_ttl == base_ttl else (raw, default_ttl)
        held = pending.get(key)
        if held is None:
            pending[key] = record
        elif isinstance(held, list):
            held.append(record)
        else:
            pending[key] = [held, record]
        rdtype = types.get(type_text)
        if rdtype is None:
            rdtype = _rdtype(type_text)
        if rdtype == _NS:
            if key == apex:
                ns_at_apex += 1
            else:
                cuts.add(key)
        elif rdtype == _DNAME:
            dnames.add(key)
        elif rdtype == _SOA:
            if key != apex:
                raise NotPlain
            soa += 1
    if soa != 1 or not ns_at_apex or base_ttl is None:
        raise NotPlain
    return HostedZone(
        name,
        text,
        origin,
        reading=reading,
        pending=pending,
        built={},
        base_ttl=base_ttl,
        names=frozenset(names),
        cuts=frozenset(cuts),
        dnames=frozenset(dnames),
    )


def _owner_key(owner: str, apex: str, below_apex: str) -> Key | None:
    """The key of an owner as written (relative, absolute with the final dot, or `@`); None
    if it is outside the zone. Raises NotPlain for what only dnspython should read."""
    if not owner.isascii() or not _PLAIN(owner) or owner[:1] == "." or ".." in owner:
        raise NotPlain  # IDNA, escapes, what dnspython splits otherwise, empty labels
    low = owner.lower()
    if low[-1:] == ".":
        return low if low == apex or low.endswith(below_apex) else None
    if low == "@":
        return apex
    return low + below_apex


def _rdtype(text: str) -> dns.rdatatype.RdataType:
    rdtype = dns.rdatatype.from_text(text)
    if len(_TYPES) < 1024:
        _TYPES[text] = rdtype
    return rdtype


# -- a name's records, on first use -----------------------------------------------------------


def _read_records(
    key: Key, pending: Pending, base_ttl: int, origin: dns.name.Name
) -> dict[int, dns.rdataset.Rdataset]:
    """One owner's rdatasets from its records' texts, each read as dnspython's zone reader
    reads a record line (and its owner checked against `key`), merged as it merges them.
    They are RRsets of the owner (in lower case), so answers can carry them as they are."""
    owner = dns.name.Name(key.encode("latin-1").split(b"."))  # the indexes hold no other keys
    apex = key_of(origin)
    rdatasets: dict[int, dns.rdataset.Rdataset] = {}
    for record in pending if isinstance(pending, list) else [pending]:
        raw, default_ttl = (record, base_ttl) if isinstance(record, str) else record
        read = _read_plain(key, raw, default_ttl, origin)
        if read is None:
            read = _read_record(key, raw, default_ttl, origin)
        rdtype, ttl, rd = read
        if rdtype == _SOA and key != apex:
            raise _Unreadable("an SOA below the apex")
        covers = rd.covers()
        rdataset = rdatasets.get(index(rdtype, covers))
        if rdataset is None:
            rdataset = dns.rrset.RRset(owner, _IN, rdtype, covers)
            rdatasets[index(rdtype, covers)] = rdataset
        rdataset.add(rd, ttl)
    kinds = {dns.node.NodeKind.classify(r.rdtype, r.covers) for r in rdatasets.values()}
    if dns.node.NodeKind.CNAME in kinds and dns.node.NodeKind.REGULAR in kinds:
        raise _Unreadable("a CNAME beside other data")
    return rdatasets


_Read = tuple[dns.rdatatype.RdataType, int, dns.rdata.Rdata]


def _read_plain(key: Key, raw: str, default_ttl: int, origin: dns.name.Name) -> _Read | None:
    """A record whose owner, TTL, class and type hold nothing special, read without the
    tokenizer up to its rdata (twice as fast); None for any other, or if it does not read:
    `_read_record` then reads it exactly as dnspython's zone reader does."""
    head = RECORD_HEAD.match(raw)
    if head is None:
        return None
    written, ttl_text, _class, ttl_text2, type_text = head.groups()
    if ttl_text and ttl_text2:
        return None
    try:
        if written is not None and key_of(dns.name.from_text(written, origin)) != key:
            return None
        ttl_text = ttl_text or ttl_text2
        ttl = default_ttl if ttl_text is None else dns.ttl.from_text(ttl_text)
        rdtype = dns.rdatatype.from_text(type_text)
        rest = raw[head.end() :]
        return rdtype, ttl, dns.rdata.from_text(_IN, rdtype, rest, origin, False, origin)
    except Exception:
        return None


def _read_record(key: Key, raw: str, default_ttl: int, origin: dns.name.Name) -> _Read:
    """One record read with dnspython's tokenizer exactly as its zone reader reads a line."""
    tok = dns.tokenizer.Tokenizer(raw)
    token = tok.get(want_leading=True)
    if not token.is_whitespace() and key_of(tok.as_name(token, origin)) != key:
        raise _Unreadable(f"the owner of {raw!r} is not the one indexed")
    token = _identifier(tok)
    ttl: int | None = None
    try:
        ttl = dns.ttl.from_text(token.value)
        token = _identifier(tok)
    except dns.ttl.BadTTL:
        pass
    try:
        rdclass = dns.rdataclass.from_text(token.value)
        token = _identifier(tok)
    except dns.exception.SyntaxError:
        raise
    except Exception:
        rdclass = _IN
    if rdclass != _IN:
        raise _Unreadable("RR class is not zone's class")
    if ttl is None:
        try:
            ttl = dns.ttl.from_text(token.value)
            token = _identifier(tok)
        except dns.ttl.BadTTL:
            ttl = default_ttl
    rdtype = dns.rdatatype.from_text(token.value)
    return rdtype, ttl, dns.rdata.from_text(_IN, rdtype, tok, origin, False, origin)


def _identifier(tok: dns.tokenizer.Tokenizer) -> dns.tokenizer.Token:
    token = tok.get()
    if not token.is_identifier():
        raise _Unreadable("expected an identifier")
    return token
