"""Which hosted zone answers for a name, read from the store on every query.

One indexed query per question (on PostgreSQL, per batch of questions that arrived together:
`prefetch`) finds the longest hosted zone that is a suffix of the name and its version; the
parsed zone comes from a bounded cache keyed by that version, and the zone's text is read and
parsed only when the version is new. Nothing about the store is
cached by time, so a change committed through the API is in the very next answer.

The version (row id, serial, updated_time) does not always move: a zone removed and made
again from the template in the same second gets the same first serial and, on SQLite, may
get the same row id. So while a zone's last change is not older than the second in which we
read it, each query reads the text again and compares its digest (parsing only if it
differs); from the next second on, the version alone decides."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import sqlite3
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import dns.name
import sqlalchemy as sa

from gatehouse.dns import zones
from gatehouse.dns.nameserver.hosted import HostedZone, parse

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("gatehouse.dns.nameserver")

# A zone's version: the row (a zone deleted and made again gets a new one, except that SQLite
# may reuse the last rowid), its serial (every change through `zones.save` moves it on) and
# the time of its last change.
Version = tuple[int, int, int]

# A failed connection attempt is not retried for this long: while the database is down each
# query gets SERVFAIL at once instead of stalling the event loop on a new attempt.
_RETRY_AFTER = 1.0
_SQLITE_BUSY = 1.0  # seconds; a reader in WAL mode waits only in rare cases (recovery)
_PG_CONNECT_TIMEOUT = 5
APPLICATION_NAME = "gatehouse-nameserver"  # of its PostgreSQL connection


class _Store:
    """One DB-API connection of the nameserver's own, used only from the event loop's thread:
    no pool, no SQLAlchemy execution, SQL compiled once (by gatehouse.dns.zones). Each
    statement runs in autocommit, so it sees what was committed before it (no read transaction
    outlives a statement). After any error the connection is dropped (the error goes to the
    caller: SERVFAIL) and the next query reconnects, so a restarted database server does not
    end the nameserver."""

    def __init__(self, url: sa.URL) -> None:
        self._url = url
        self.sqlite = url.get_backend_name() == "sqlite"
        self._conn: sqlite3.Connection | psycopg.Connection[Any] | None = None
        self._failed_at = -_RETRY_AFTER
        self._load_sql = zones.load_sql(sqlite=self.sqlite)
        # SQLite: one statement per number of names (a parameter each); PostgreSQL: one.
        self._find_sql: dict[int, str] = {}

    def find(self, names: list[str]) -> list[tuple[Any, ...]]:
        """(name, id, serial, updated_time) of each of `names` that is a zone."""
        count = len(names) if self.sqlite else 0
        sql = self._find_sql.get(count)
        if sql is None:
            sql = self._find_sql[count] = zones.find_versions_sql(sqlite=self.sqlite, count=count)
        return self._rows(sql, names if self.sqlite else (names,))

    def load(self, name: str) -> tuple[Any, ...] | None:
        """(id, serial, updated_time, text) of the zone `name`."""
        rows = self._rows(self._load_sql, (name,))
        return rows[0] if rows else None

    def _rows(self, sql: str, params: Any) -> list[tuple[Any, ...]]:
        conn = self._conn if self._conn is not None else self._connect()
        try:
            # Every row is fetched: on SQLite an unfinished statement would keep its read
            # transaction (and its snapshot) open.
            return conn.execute(sql, params).fetchall()
        except Exception:
            self.close()
            raise

    def _connect(self) -> sqlite3.Connection | psycopg.Connection[Any]:
        if time.monotonic() - self._failed_at < _RETRY_AFTER:
            raise ConnectionError("the store was unreachable a moment ago")
        try:
            conn = self._open()
        except Exception:
            self._failed_at = time.monotonic()
            raise
        self._conn = conn
        return conn

    def _open(self) -> sqlite3.Connection | psycopg.Connection[Any]:
        url = self._url
        if self.sqlite:
            if not url.database or url.database == ":memory:":
                raise ValueError("the nameserver needs a database file")
            uri = Path(url.database).resolve().as_uri() + "?mode=ro"
            # isolation_level=None: autocommit; timeout sets SQLite's busy_timeout.
            return sqlite3.connect(
                uri, uri=True, isolation_level=None, check_same_thread=False, timeout=_SQLITE_BUSY
            )
        import psycopg  # only for PostgreSQL stores

        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        # The URL's own settings win; the name tells this connection apart in pg_stat_activity.
        defaults = {"connect_timeout": _PG_CONNECT_TIMEOUT, "application_name": APPLICATION_NAME}
        settings: dict[str, Any] = {k: v for k, v in defaults.items() if k not in url.query}
        return psycopg.connect(dsn, autocommit=True, **settings)

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:  # already broken: nothing more to release
                log.debug("closing the nameserver's store connection failed", exc_info=True)


_PLAIN = re.compile(rb"[-0-9A-Za-z_*.]+")


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
    wire = qname.labels
    if wire[-1] == b"":  # absolute, as every name read from the wire
        plain = plain_candidates(wire[:-1])
        if plain is not None:
            return plain
    text = qname.to_text(omit_final_dot=True).lower()
    if "\\" not in text:  # no escaped dot inside a label: the labels are the dotted parts
        labels = text.split(".")
        return [".".join(labels[i:]) for i in range(len(labels))]
    out = []
    for depth in range(len(qname), 1, -1):
        suffix = qname if depth == len(qname) else qname.split(depth)[1]
        out.append(suffix.to_text(omit_final_dot=True).lower())
    return out


def plain_candidates(labels: Sequence[bytes]) -> list[str] | None:
    """`candidates` of the absolute name with these labels (the root's left out), when every
    label's text is its bytes (no dot inside one, nothing dnspython escapes); else None."""
    raw = b".".join(labels)
    if not labels or not _PLAIN.fullmatch(raw) or raw.count(b".") != len(labels) - 1:
        return None
    parts = raw.decode("ascii").lower().split(".")
    return [".".join(parts[i:]) for i in range(len(parts))]


class ZoneSource:
    def __init__(
        self, engine: sa.Engine, *, max_zones: int = 1024, max_bytes: int = 64 * 1024 * 1024
    ) -> None:
        self._store = _Store(engine.url)
        self._max_zones = max_zones
        self._max_bytes = max_bytes
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._bytes = 0
        # While `prefetch` runs: the names asked, and the versions found among them.
        self._prefetched: tuple[set[str], dict[str, tuple[Any, ...]]] | None = None

    @property
    def batches(self) -> bool:
        """Whether questions that arrived together are worth looking up together: on
        PostgreSQL each look is a round trip to another process, made on the event loop; on
        SQLite it is a read of a local file, and one statement per number of names."""
        return not self._store.sqlite

    @contextlib.contextmanager
    def prefetch(self, asked: list[list[str]]) -> Iterator[None]:
        """Within it, `find_names` of any of `asked` (each a question's `candidates`) uses one
        look at the store made here for all of them, instead of one each. The look is made
        after every one of these questions arrived, so each answer is as fresh as its own
        look would have been. A failed look is not kept: each question then asks itself."""
        wanted = {name for names in asked for name in names}
        rows: list[tuple[Any, ...]] | None = None
        if len(asked) > 1 and wanted:
            try:
                rows = self._store.find(sorted(wanted))
            except Exception:  # each question meets the failure again, on its own
                rows = None
        if rows is None:
            yield
            return
        self._prefetched = (wanted, {row[0]: row for row in rows})
        try:
            yield
        finally:
            self._prefetched = None

    def find(self, qname: dns.name.Name, *, parent_side: bool = False) -> HostedZone | None:
        """The zone that answers for `qname`, or None if no hosted zone holds it. With
        `parent_side` (a DS query), a hosted parent answers for a hosted child's apex.
        Raises BrokenZone when that zone's text does not load."""
        return self.find_names(candidates(qname), parent_side=parent_side)

    def find_names(self, names: list[str], *, parent_side: bool = False) -> HostedZone | None:
        """`find` for the name whose `candidates` these are."""
        if not names:
            return None
        prefetched = self._prefetched
        if prefetched is not None and prefetched[0].issuperset(names):
            found = [prefetched[1][name] for name in names if name in prefetched[1]]
        else:
            found = self._store.find(names)
        if not found:
            return None
        if len(found) > 1:
            found.sort(key=lambda r: len(r[0]), reverse=True)
        name, row_id, serial, updated = found[0]
        if parent_side and name == names[0] and len(found) > 1:
            name, row_id, serial, updated = found[1]
        version: Version = (int(row_id), int(serial), int(updated))
        cached = self._cache.get(name)
        if cached is None or not cached.current(version):
            cached = self._load(name, cached)
            if cached is None:  # deleted between the two reads
                return None
        self._cache.move_to_end(name)
        if cached.zone is None:
            raise BrokenZone(name)
        return cached.zone

    def _load(self, name: str, previous: _Cached | None) -> _Cached | None:
        read_at = int(time.time())
        row = self._store.load(name)
        if row is None:
            self._forget(name)
            return None
        row_id, serial, updated, text = row
        version: Version = (int(row_id), int(serial), int(updated))
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
            log.error("zone %s (serial %s) does not load: SERVFAIL (%s)", name, serial, why)
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

    def close(self) -> None:
        """Close the store connection (a later query would open a new one)."""
        self._store.close()

    def __len__(self) -> int:
        return len(self._cache)
