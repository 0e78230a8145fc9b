"""A cache of successful token lookups that can never serve a revoked or changed token.

Entries map a token's digest to what was read from the store for it (the authenticator keeps
the token, its owner and the verdicts decided from them). The cache is flushed
whenever the store's *auth generation* may have moved — a counter that triggers bump in the
same transaction as any change that could alter a token check (migration 0003):

* SQLite: `PRAGMA data_version` on a connection of our own changes whenever any other
  connection commits (this process's or another's). It costs a couple of microseconds; only
  when it moves do we read the counter, and only when the counter moved do we flush. Writes
  that cannot matter (audit rows, last-use times, new tokens) leave the cache warm.
* PostgreSQL: the trigger NOTIFYs `gatehouse_auth`; a listener thread marks the cache stale,
  and every check polls the listener's socket without waiting, so a notification that has
  reached this host counts before the thread (which needs the interpreter's lock) has read
  it. While the listener is not connected the cache is bypassed. A change made by this process
  flushes the cache synchronously too (`invalidate`), and writes new bytes into a small file
  every process of the node maps (`_SharedGeneration`), so revoke-then-use is refused on the
  very next request by every worker of this node. Other nodes: each listener, once it has
  marked its cache stale, *acknowledges* the generation it has seen in its connection's
  `application_name` (`gatehouse-auth <n>`), which every session sees in `pg_stat_activity`;
  the call that made the change answers only once no live listener shows an older generation
  (`unacknowledged`, bounded), so the caller's next request through any node is refused.

Misses are never cached, expiry and allow-lists are still checked on every request, and the
cache is bounded in entries (memory stays flat however many tokens the store holds).
"""

from __future__ import annotations

import logging
import mmap
import os
import re
import secrets
import select
import sqlite3
import threading
from pathlib import Path
from typing import Generic, TypeVar

import sqlalchemy as sa

log = logging.getLogger("gatehouse.auth.cache")

CHANNEL = "gatehouse_auth"
# The application_name of every listening connection; followed by " <generation>" once it has
# acknowledged that generation (its cache is stale from any earlier one).
LISTENER_NAME = "gatehouse-auth"
Entry = TypeVar("Entry")


class TokenCache(Generic[Entry]):
    def __init__(
        self,
        engine: sa.Engine,
        max_entries: int = 100_000,
        shared_path: Path | None = None,
        gate_keys: frozenset[str] = frozenset(),
    ) -> None:
        """`shared_path`: on PostgreSQL, a file every process of this node maps (the data
        directory's `auth-generation`), so that a change made by one of them is seen by the
        others' very next check, before the notification arrives. `gate_keys`: entries that
        depend on cPHulk's tables alone; on PostgreSQL they outlive a change known to touch
        only tokens and users (notified without the `gate` payload, migration 0027)."""
        self._entries: dict[str, Entry] = {}
        self._gate_keys = gate_keys
        self._max = max_entries
        self._lock = threading.Lock()
        self._watcher: _Watcher = (
            _SqliteWatcher(engine)
            if engine.dialect.name == "sqlite"
            else _PostgresWatcher(
                engine, None if shared_path is None else _SharedGeneration(shared_path)
            )
        )

    def _validate(self) -> bool:
        """Drop every entry if the store may have changed; True when nothing was dropped. A
        change known to leave cPHulk's tables alone keeps the gate's entries: they may be
        read, but nothing is put until the next check finds the store unchanged (a read that
        raced the change must not be cached)."""
        if self._watcher.fresh():
            return True
        kept = (
            {k: self._entries[k] for k in self._gate_keys if k in self._entries}
            if self._watcher.gate_unchanged()
            else {}
        )
        self._entries.clear()
        self._entries.update(kept)
        self._watcher.settle()
        return False

    def get(self, digest: str) -> Entry | None:
        if self._watcher.unchanged():
            # Nothing can have changed since entries were last known good: no lock needed (a
            # dict read is atomic; an `invalidate` racing it empties the dict first).
            return self._entries.get(digest)
        with self._lock:
            self._validate()  # what it kept, if anything, is good
            return self._entries.get(digest)

    def snapshot(self) -> object:
        """Taken before reading the store, so that a change racing the read is not cached."""
        with self._lock:
            self._validate()
            return self._watcher.state()

    def put(self, digest: str, entry: Entry, snapshot: object) -> None:
        with self._lock:
            if not self._validate() or self._watcher.state() != snapshot:
                return
            if len(self._entries) >= self._max:
                self._entries.pop(next(iter(self._entries)))
            self._entries[digest] = entry

    def invalidate(self) -> None:
        """This process changed the store: forget everything now, and let no read that
        started earlier be cached."""
        with self._lock:
            self._entries.clear()
            self._watcher.bump()

    def __len__(self) -> int:
        return len(self._entries)

    def close(self) -> None:
        self._watcher.close()


class _Watcher:
    def fresh(self) -> bool:
        """False when cached entries may be stale (the cache then drops them)."""
        raise NotImplementedError

    def settle(self) -> None:
        """After `fresh` said False and the cache has dropped its entries."""

    def gate_unchanged(self) -> bool:
        """Asked once after `fresh` said False: True only when every change behind it is
        known to have left cPHulk's tables alone."""
        return False

    def unchanged(self) -> bool:
        """True only when `fresh` would be True without changing anything: read without the
        cache's lock, on every request. False sends the caller to `fresh`, under the lock."""
        return False

    def state(self) -> object:
        """Changes whenever entries read before and after could differ."""
        raise NotImplementedError

    def bump(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class _SqliteWatcher(_Watcher):
    def __init__(self, engine: sa.Engine) -> None:
        path = engine.url.database
        if not path or path == ":memory:":
            raise ValueError("the token cache needs a file-backed SQLite store")
        # Our own read-only connection: PRAGMA data_version moves only when *another*
        # connection commits, which is exactly "someone may have changed something".
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._conn.execute("PRAGMA busy_timeout=10000")
        self._data_version = self._read_data_version()
        self._generation = self._read_generation()
        self._epoch = 0  # bumped by local invalidation
        self._shm_fd, self._shm = _map_wal_index(path)
        self._wal_header = self._shm[:48] if self._shm is not None else b""
        self._pending_header = self._wal_header

    def _read_data_version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def _read_generation(self) -> int:
        row = self._conn.execute("SELECT n FROM auth_generation WHERE id = 1").fetchone()
        return int(row[0]) if row else -1

    def unchanged(self) -> bool:
        # No commit by any connection since the last check moved the WAL index header.
        return self._shm is not None and self._shm[:48] == self._wal_header

    def fresh(self) -> bool:
        header = b""
        if self._shm is not None:
            # The WAL index header changes with every commit by any connection (its iChange
            # counter, frame count and salts). Reading it is a memory read: no system call and
            # no GIL release, unlike the PRAGMA below, which stays the authority whenever the
            # header has moved.
            header = self._shm[:48]
            if header == self._wal_header:
                return True
        version = self._read_data_version()
        if version != self._data_version:
            self._data_version = version
            generation = self._read_generation()
            if generation != self._generation:
                self._generation = generation
                # The new header is taken only once the cache has dropped its entries
                # (`settle`): until then `unchanged`, read without the lock, stays False.
                self._pending_header = header
                return False
        self._wal_header = header
        return True

    def settle(self) -> None:
        self._wal_header = self._pending_header

    def state(self) -> object:
        return (self._generation, self._epoch)

    def bump(self) -> None:
        self._epoch += 1

    def close(self) -> None:
        if self._shm is not None:
            self._shm.close()
        self._conn.close()
        # Last: closing a descriptor of the -shm drops every POSIX lock this process holds on
        # it (see _map_wal_index); by now this is the process's way out.
        if self._shm_fd is not None:
            os.close(self._shm_fd)


def _map_wal_index(path: str) -> tuple[int | None, mmap.mmap | None]:
    """The WAL index (`-shm`) mapped read-only, and the descriptor it was mapped from; (None,
    None) when there is none (then every check uses the PRAGMA).

    The descriptor stays open for as long as the watcher lives. Closing *any* descriptor of
    a file drops every POSIX (fcntl) lock the process holds on it, and SQLite's own
    connections in this process hold the WAL index's "dead man switch" lock through another
    descriptor of the same file. With that lock gone, the next process to open the store
    believes it is the only one, truncates and rebuilds the -shm under everyone's feet: this
    mapping then raises SIGBUS on its next read, and SQLite's own readers here see an index
    rebuilt under them. (Seen as a "Fatal Python error: Bus error" in the server.)"""
    try:
        fd = os.open(f"{path}-shm", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None, None
    try:
        return fd, mmap.mmap(fd, 136, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return fd, None  # kept open all the same: closing it would drop SQLite's locks


class _SharedGeneration:
    """Eight bytes in a file that every process of one node maps. A process that changes the
    store writes new random bytes there before it answers (random, so that two changes at
    once can never leave the value one process has already seen); every other process
    compares them on every check, a memory read. PostgreSQL's notification can reach another
    worker after the client's next request does; this cannot."""

    SIZE = 8

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            if os.fstat(fd).st_size < self.SIZE:
                os.ftruncate(fd, self.SIZE)
            self._map = mmap.mmap(fd, self.SIZE)
        finally:
            os.close(fd)  # the mapping keeps the file

    def read(self) -> bytes:
        return self._map[: self.SIZE]

    def bump(self) -> None:
        self._map[: self.SIZE] = secrets.token_bytes(self.SIZE)

    def close(self) -> None:
        self._map.close()


class _PostgresWatcher(_Watcher):
    def __init__(self, engine: sa.Engine, shared: _SharedGeneration | None = None) -> None:
        self._shared = shared
        self._shared_seen = b"" if shared is None else shared.read()
        self._url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._connected = False
        self._stale = True
        # Whether any notification behind `_stale` was cPHulk's (or of unknown kind): moved
        # with `_stale` under `_flags`, so that a check never sees the one without the other.
        self._gate_stale = True
        self._gate_kept = False  # the last stale check found only non-cPHulk changes
        self._flags = threading.Lock()  # the two flags above move together
        self._epoch = 0
        # The listening connection's socket, polled without waiting on every check: a
        # notification that has reached this host but not yet the listener thread (which
        # needs the interpreter's lock, busy serving requests) already makes the cache stale.
        self._poll: select.poll | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="gatehouse-listen", daemon=True)
        self._thread.start()

    def _listen(self) -> None:
        import psycopg

        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self._url, autocommit=True, application_name=LISTENER_NAME
                ) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    poll = select.poll()
                    poll.register(conn.fileno(), select.POLLIN)
                    self._poll = poll
                    with self._flags:  # anything may have happened while we were away
                        self._gate_stale = True
                        self._stale = True
                    self._connected = True
                    # Every change committed from now on is notified to us; the cache is
                    # stale from anything earlier.
                    conn.execute(_ACKNOWLEDGE, (LISTENER_NAME,))
                    while not self._stop.is_set():
                        arrived = False
                        for notice in conn.notifies(timeout=1.0, stop_after=1):
                            # The epoch first: a check that sees the cache stale also sees
                            # that a read begun before it must not be cached.
                            self._epoch += 1
                            with self._flags:
                                if notice.payload != "":
                                    self._gate_stale = True  # cPHulk's, or a kind unknown
                                self._stale = True
                            arrived = True
                        if arrived:
                            # Only now that the cache is stale: the changing call is waiting
                            # for this before it answers its caller.
                            conn.execute(_ACKNOWLEDGE, (LISTENER_NAME,))
            except Exception as exc:
                if not self._stop.is_set():
                    log.warning("token cache listener lost its connection (%s); retrying", exc)
            finally:
                self._connected = False
                self._poll = None
                self._stale = True
            self._stop.wait(1.0)

    def fresh(self) -> bool:
        moved = False
        if self._shared is not None:
            shared = self._shared.read()
            if shared != self._shared_seen:
                self._shared_seen = shared
                moved = True  # another process of this node changed the store
        if not self._connected:
            return False
        if self._stale:
            with self._flags:
                self._stale = False
                gate_stale, self._gate_stale = self._gate_stale, False
            self._gate_kept = not (gate_stale or moved)
            return False
        if moved:
            return False
        # Something arrived that the listener has not read yet (a notification, as a rule):
        # stale until it has. One system call, no waiting.
        poll = self._poll
        return not (poll is not None and poll.poll(0))

    def gate_unchanged(self) -> bool:
        kept, self._gate_kept = self._gate_kept, False  # asked once per stale check
        return kept

    def state(self) -> object:
        return (self._connected, self._epoch, self._shared_seen)

    def bump(self) -> None:
        self._epoch += 1
        if self._shared is not None:
            self._shared.bump()

    def close(self) -> None:
        self._stop.set()
        if self._shared is not None:
            self._shared.close()


# A listener's acknowledgement: the generation read after the notifications it has taken in
# (a notification is sent at commit, so the generation read then is at least the notified one).
_ACKNOWLEDGE = (
    "SELECT set_config('application_name', %s || ' ' || n, false) FROM auth_generation WHERE id = 1"
)

# The generation this transaction moved the auth generation to, if it did: its trigger
# updated the auth_generation row, whose version then carries this transaction's id.
_BUMPED_HERE = sa.text(
    "SELECT n FROM auth_generation WHERE id = 1 "
    "AND xmin::text::bigint = txid_current_if_assigned() % 4294967296"
)

# Live listeners of this database that have not yet acknowledged a generation (a listener
# that is gone has no row: PostgreSQL lists only live sessions). A name that is not exactly a
# listener's gives NULL, which counts as nothing.
_UNACKNOWLEDGED = sa.text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND "
    "substring(application_name from :pattern)::bigint < :generation"
)
_ACKNOWLEDGED_NAME = f"^{re.escape(LISTENER_NAME)} ([0-9]{{1,18}})$"


def generation_changed_here(conn: sa.Connection) -> int | None:
    """Before its commit: the auth generation this PostgreSQL transaction moved to (its commit
    notifies every node), or None when it moved nothing. Always None on SQLite, whose nodes
    are the processes of one host (the shared generation file and the WAL index tell them)."""
    if conn.dialect.name != "postgresql":
        return None
    found = conn.execute(_BUMPED_HERE).scalar()
    return None if found is None else int(found)


def unacknowledged(conn: sa.Connection, generation: int) -> int:
    """How many live listeners (every process of every node) have not yet taken in
    `generation`: each of them may still answer from a cache it has not dropped."""
    found = conn.execute(_UNACKNOWLEDGED, {"pattern": _ACKNOWLEDGED_NAME, "generation": generation})
    return int(found.scalar_one())
