"""Which hosted zone answers for a name, read from the store on every query.

One indexed query per question finds the longest hosted zone that is a suffix of the name
and its version; the parsed zone comes from a bounded cache keyed by that version, and the
zone's text is read and parsed only when the version is new. Nothing about the store is
cached by time, so a change committed through the API is in the very next answer.

The version (row id, serial, updated_time) does not always move: a zone removed and made
again from the template in the same second gets the same first serial and, on SQLite, may
get the same row id. So while a zone's last change is not older than the second in which we
read it, each query reads the text again and compares its digest (parsing only if it
differs); from the next second on, the version alone decides."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass

import dns.name
import sqlalchemy as sa

from gatehouse.nameserver.hosted import HostedZone, parse
from gatehouse.store.schema import zones

log = logging.getLogger("gatehouse.nameserver")

# A zone's version: the row (a zone deleted and made again gets a new one, except that SQLite
# may reuse the last rowid), its serial (every change through `zones.save` moves it on) and
# the time of its last change.
Version = tuple[int, int, int]

_FIND = sa.select(zones.c.name, zones.c.id, zones.c.serial, zones.c.updated_time).where(
    zones.c.name.in_(sa.bindparam("names", expanding=True))
)
_LOAD = sa.select(zones.c.id, zones.c.serial, zones.c.updated_time, zones.c.text).where(
    zones.c.name == sa.bindparam("name")
)


class BrokenZone(Exception):
    """The zone's stored text does not load (it was not written through `zones.save`)."""


@dataclass(frozen=True, slots=True)
class _Cached:
    version: Version
    zone: HostedZone | None  # None: the text does not load
    size: int  # the text's length, the cache's measure of memory
    digest: bytes  # of the text
    read_at: int  # the second (wall clock) in which the text was read

    def current(self, version: Version) -> bool:
        """Whether the row with `version` surely holds the text we parsed."""
        return version == self.version and version[2] < self.read_at


def candidates(qname: dns.name.Name) -> list[str]:
    """The names (as stored: lower case, no trailing dot) of every zone that could hold
    `qname`, longest first; the root is never hosted."""
    if len(qname) < 2:
        return []
    text = qname.to_text(omit_final_dot=True).lower()
    if "\\" not in text:  # no escaped dot inside a label: the labels are the dotted parts
        labels = text.split(".")
        return [".".join(labels[i:]) for i in range(len(labels))]
    out = []
    for depth in range(len(qname), 1, -1):
        suffix = qname if depth == len(qname) else qname.split(depth)[1]
        out.append(suffix.to_text(omit_final_dot=True).lower())
    return out


class ZoneSource:
    def __init__(
        self, engine: sa.Engine, *, max_zones: int = 1024, max_bytes: int = 64 * 1024 * 1024
    ) -> None:
        self._engine = engine
        self._max_zones = max_zones
        self._max_bytes = max_bytes
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._bytes = 0

    def find(self, qname: dns.name.Name, *, parent_side: bool = False) -> HostedZone | None:
        """The zone that answers for `qname`, or None if no hosted zone holds it. With
        `parent_side` (a DS query), a hosted parent answers for a hosted child's apex.
        Raises BrokenZone when that zone's text does not load."""
        names = candidates(qname)
        if not names:
            return None
        with self._engine.connect() as conn:
            found = conn.execute(_FIND, {"names": names}).all()
            if not found:
                return None
            rows = sorted(found, key=lambda r: len(r.name), reverse=True)
            row = rows[0]
            if parent_side and row.name == names[0] and len(rows) > 1:
                row = rows[1]
            version: Version = (int(row.id), int(row.serial), int(row.updated_time))
            cached = self._cache.get(row.name)
            if cached is None or not cached.current(version):
                cached = self._load(conn, row.name, cached)
                if cached is None:  # deleted between the two reads
                    return None
        self._cache.move_to_end(row.name)
        if cached.zone is None:
            raise BrokenZone(row.name)
        return cached.zone

    def _load(self, conn: sa.Connection, name: str, previous: _Cached | None) -> _Cached | None:
        read_at = int(time.time())
        row = conn.execute(_LOAD, {"name": name}).first()
        if row is None:
            self._forget(name)
            return None
        version: Version = (int(row.id), int(row.serial), int(row.updated_time))
        text: str = row.text
        digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        if previous is not None and previous.digest == digest:
            cached = _Cached(version, previous.zone, previous.size, digest, read_at)
            self._cache[name] = cached
            return cached
        try:
            zone: HostedZone | None = parse(name, text)
        except Exception as exc:  # dnspython raises more than DNSException on odd text
            # Logged once per version, not once per query.
            why = str(exc) or type(exc).__name__
            log.error("zone %s (serial %s) does not load: SERVFAIL (%s)", name, row.serial, why)
            zone = None
        self._forget(name)
        cached = _Cached(version, zone, len(text), digest, read_at)
        self._cache[name] = cached
        self._bytes += cached.size
        while len(self._cache) > 1 and (
            len(self._cache) > self._max_zones or self._bytes > self._max_bytes
        ):
            _, evicted = self._cache.popitem(last=False)
            self._bytes -= evicted.size
        return cached

    def _forget(self, name: str) -> None:
        old = self._cache.pop(name, None)
        if old is not None:
            self._bytes -= old.size

    def __len__(self) -> int:
        return len(self._cache)
