"""Zone files on disk for an external nameserver (docs/zonefiles.md).

The store is the truth; the zone directory is a copy of it that BIND, PowerDNS (bind backend),
Knot or NSD can load: `<zone>.db` per zone, byte for byte the stored text, and
`named.conf.zones`, an include listing them. `ZonePublisher.sync()` makes the directory match
the store. It runs after every committed API change (whmapi/dispatch.py), once at start-up and
every few seconds in `gatehouse serve` (changes made by other nodes or by the CLI), and on
demand (`gatehouse zones write`).

The operator's reload and reconfig commands run on a worker thread of their own, after the
files are in place: an API call returns once its zone file is written, and a nameserver that
is slow to answer (or a command that hangs until its timeout) never holds up a request or the
event loop.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import os
import re
import threading
import time
from collections.abc import Collection, Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from gatehouse import private_files
from gatehouse.dns import zones
from gatehouse.dns.file_lock import FileLock
from gatehouse.dns.file_writing import TEMP_PREFIX, fsync_directory, read_file, write_atomic
from gatehouse.dns.zone_commands import CommandRunner

log = logging.getLogger("gatehouse.dns.zonefiles")

ZONE_SUFFIX = ".db"
INCLUDE_NAME = "named.conf.zones"
LOCK_NAME = ".gatehouse-zones.lock"
ZONE_DIR_MODE = 0o755  # nameservers run as their own user (files are 0644)
SYNC_INTERVAL = 3.0  # seconds between the server's background syncs
# How long the sync that follows an API call waits for another sync (the background one, a
# CLI command's) to finish before leaving its work to the next background sync: the call may
# be running on the event loop.
AFTER_CALL_WAIT = 1.0
# The store's fingerprint lets an ordinary sync skip reading every zone's version when
# nothing changed; at least this often (seconds) the versions are read anyway.
FULL_SCAN_EVERY = 60.0
# Labels of letters, digits, `_` and `-`, joined by single dots. No label starts with `-`: the
# name is handed to the reload command as an argument, where `-x` would read as an option.
_SAFE_NAME = re.compile(r"[a-z0-9_][a-z0-9_-]*(?:\.[a-z0-9_][a-z0-9_-]*)*")
# NAME_MAX is 255 bytes on every file system a nameserver reads from.
_MAX_NAME = 255 - len(ZONE_SUFFIX)
_INCLUDE_LINE = re.compile(r'^zone "([^"]+)" \{', re.M)
_BATCH = 500  # names per `IN (...)` when reading changed zones
_TURN_POLL = 0.005  # seconds between two looks of a call waiting for a sync to serve it

# (id, serial, updated_time): a zone deleted and made again under the same name gets a new
# id (always on PostgreSQL; on SQLite unless it was the newest row), so its file is rewritten
# even when the new serial equals the old one.
Version = tuple[int, int, int]


def safe_name(name: str) -> bool:
    """Whether `name` can be a file name in the zone directory without escaping it."""
    return len(name) <= _MAX_NAME and _SAFE_NAME.fullmatch(name) is not None


_INCLUDE_HEAD = (
    "// Written by gatehouse: one statement per zone in its store (docs/zonefiles.md).\n"
    "// Rewritten whenever a zone is added or removed: do not edit.\n"
)


def include_text(directory: Path, names: Iterable[str]) -> str:
    """named.conf statements for `names` (sorted), their files under `directory`."""
    return IncludeLines(directory).text(frozenset(names))


class IncludeLines:
    """`include_text` kept between syncs: the names in order and each one's line, so that a
    zone added or removed costs a splice and a join, not rendering and sorting every line
    again (55 ms at 100,000 zones). The same bytes as rendering afresh."""

    _REBUILD = 1_000  # changes beyond which rendering every line again is as cheap

    def __init__(self, directory: Path) -> None:
        self._prefix = _quote(str(directory)) + "/"
        # Sorted, and the statement of each in the same order; the head comes first under
        # the name "", which no zone has (one join, no copy of 10 MB to put the head on).
        self._names: list[str] = [""]
        self._lines: list[str] = [_INCLUDE_HEAD]
        self._set: frozenset[str] = frozenset()

    def text(self, names: frozenset[str]) -> str:
        if names != self._set:
            added = names - self._set
            removed = self._set - names
            if len(added) + len(removed) > self._REBUILD:
                self._names = ["", *sorted(names)]
                self._lines = [_INCLUDE_HEAD, *(self._line(n) for n in self._names[1:])]
            else:
                for name in removed:
                    at = bisect.bisect_left(self._names, name)
                    del self._names[at], self._lines[at]
                for name in added:
                    at = bisect.bisect_left(self._names, name)
                    self._names.insert(at, name)
                    self._lines.insert(at, self._line(name))
            self._set = names
        return "".join(self._lines)

    def _line(self, name: str) -> str:
        return f'zone "{name}" {{ type master; file "{self._prefix}{name}{ZONE_SUFFIX}"; }};\n'


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


@dataclass
class SyncReport:
    """What one sync did. Paths are absolute."""

    zones: int = 0  # zones in the store with a safe name
    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)
    include_written: Path | None = None
    refused: list[str] = field(default_factory=list)  # names unsafe as file names
    errors: list[str] = field(default_factory=list)  # files that could not be written/removed

    @property
    def changed(self) -> bool:
        return bool(self.written or self.removed or self.include_written)


class ZonePublisher:
    """Keeps one zone directory equal to the store. One per process (core.Gatehouse)."""

    def __init__(
        self,
        engine: sa.Engine,
        directory: Path,
        *,
        reload_command: str | None = None,
        reconfig_command: str | None = None,
        command_timeout: float = 10.0,
    ) -> None:
        self.engine = engine
        # Absolute, as the include hands these paths to a nameserver with its own cwd; not
        # resolved, so a path the operator allowed (AppArmor, SELinux) stays the one written.
        self.directory = Path(os.path.abspath(directory))
        self.commands = CommandRunner(
            self.directory,
            reload_command=reload_command,
            reconfig_command=reconfig_command,
            timeout=command_timeout,
        )
        self._lock = threading.Lock()
        self._closed = False
        # Syncs asked for and not begun yet: the zones named (`sync_after_change`), whether
        # one asked for an ordinary sync of everything, and tickets — the number of syncs
        # asked so far, and of those a finished sync had begun after (so had covered).
        self._asking = threading.Lock()
        self._asked_names: set[str] = set()
        self._asked_all = False
        self._asked = 0
        self._covered = 0
        # What this process last wrote or checked: None until the first (full) sync.
        self._written: dict[str, Version] | None = None
        self._included: frozenset[str] | None = None
        # The include as this process last wrote or read it (inode, size, modification time):
        # another process sharing the directory may have rewritten it since.
        self._include_seen: tuple[int, int, int] | None = None
        self._include_lines = IncludeLines(self.directory)
        self._refused: set[str] = set()
        # The store's fingerprint when the files last matched it, and when to read every
        # version regardless (see `_fingerprint`).
        self._fingerprint: tuple[object, ...] | None = None
        self._scan_due = 0.0

    def path_of(self, name: str) -> Path:
        return self.directory / f"{name}{ZONE_SUFFIX}"

    @property
    def include_path(self) -> Path:
        return self.directory / INCLUDE_NAME

    def sync(self, *, full: bool = False) -> SyncReport:
        """Make the directory match the store. An ordinary sync reads the zones' versions and
        rewrites only the zones this process has not written at that version; the first sync
        of a process, or `full=True`, compares every file's content with the store (and so
        restores files edited or deleted by hand). The reload and reconfig commands are queued
        for the command thread (see `CommandRunner`)."""
        report = self._sync(full, None)
        assert report is not None  # without a timeout it waits its turn
        return report

    def _sync(
        self, full: bool, timeout: float | None, names: Collection[str] | None = None
    ) -> SyncReport | None:
        """`sync`, or None if another sync (of this process or of another one sharing the
        directory) still runs after `timeout` seconds. `names`: only these zones' files (see
        `sync_after_change`). Syncs asked for while another runs are done by the next one to
        begin, together: a sync that finds its work done by one begun after it was asked
        returns at once."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._asking:
            self._asked += 1
            ticket = self._asked
            if names is None:
                self._asked_all = True
            else:
                self._asked_names.update(names)
        if not self._lock.acquire(blocking=False):
            if deadline is None:
                self._lock.acquire()
            else:
                turn = self._wait_turn(ticket, deadline)
                if turn is None:
                    return None
                if not turn:  # done by the sync that holds the lock
                    return SyncReport()
        try:
            if self._closed:
                return SyncReport()
            if not full and self._covered >= ticket:
                return SyncReport()
            # Readable by a nameserver running as another user, whatever the umask.
            private_files.make_dir(self.directory, ZONE_DIR_MODE)
            # The directory is shared by every gatehouse process on this host (the server and
            # one-shot CLI commands): holding the lock while reading the store means a later
            # sync always reads a state at least as new as the files an earlier one wrote.
            with FileLock(self.directory / LOCK_NAME, deadline) as locked:
                if not locked:
                    return None
                with self._asking:
                    asked_names, asked_all, asked = self._asked_names, self._asked_all, self._asked
                    self._asked_names, self._asked_all = set(), False
                if full or self._written is None:
                    report = self._full()
                elif asked_all:
                    report = self._incremental(self._written)
                else:
                    report = self._targeted(self._written, asked_names)
                # Never lowered: a full reconcile serves calls between its batches.
                self._covered = max(self._covered, asked)
                return report
        finally:
            self._lock.release()

    def _wait_turn(self, ticket: int, deadline: float) -> bool | None:
        """Wait for the lock (True: now held) or for the sync holding it to have served this
        ticket (False: not held; a full reconcile serves calls between its batches); None at
        the deadline."""
        while self._covered < ticket:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            if self._lock.acquire(timeout=min(remaining, _TURN_POLL)):
                return True
        return False

    def adopt(self) -> None:
        """Take the store's zone versions as already written, without reading a file: the
        baseline of a server process whose full reconcile runs later in the background, or
        in another worker (`gatehouse serve --workers N`). Its own changes are then written
        incrementally at once, instead of its first change paying for a full reconcile of
        every zone. A zone that changed while the files were being reconciled is caught by
        the periodic sync, which compares with the versions *it* wrote."""
        with self._lock:
            if self._written is not None or self._closed:
                return
            with self.engine.connect() as conn:
                self._written = zones.versions(conn)

    def sync_after_change(self, names: Collection[str] | None = None) -> None:
        """The sync an API call runs once its change is committed: its zone files are written
        before the call returns unless another sync holds the directory for longer than
        AFTER_CALL_WAIT, in which case the next background sync writes them. `names`: the
        zones the call wrote (created, changed, renamed, deleted) — only their files are
        written or removed, and the include rewritten if the set of zones changed (changes
        made elsewhere are the background sync's); none: nothing to do. None: an ordinary
        sync (every zone's version)."""
        if names is not None and not names:
            return
        if self._sync(False, AFTER_CALL_WAIT, names) is None:
            log.info("zone files busy: the background sync will write this change")

    # -- the two kinds of sync ------------------------------------------------------------------

    def _full(self) -> SyncReport:
        report = SyncReport()
        with self.engine.connect() as conn:
            # Taken first: a zone changed, added or removed while the batches are read makes
            # the next sync's fingerprint differ, and that sync brings its file up to date.
            fingerprint = zones.fingerprint(conn)
            listed = sorted(zones.versions(conn))
        previous = self._names_in_include()
        names: set[str] = set()
        written: dict[str, Version] = {}
        changed: list[str] = []
        # The texts in batches: all of them at once, for 100,000 zones, held ~60 MB more at
        # the peak (docs/performance.md, hosting scale).
        for start in range(0, len(listed), _BATCH):
            with self.engine.connect() as conn:
                rows = zones.texts(conn, listed[start : start + _BATCH])
            for name, version, text in rows:  # a zone deleted meanwhile is not among them
                if not self._check_name(name, report):
                    continue
                names.add(name)
                errors_before = len(report.errors)
                if self._publish(name, text, report):
                    changed.append(name)
                if len(report.errors) == errors_before:  # else the next sync tries again
                    written[name] = version
            self._serve_calls(names, written, changed, report)
        self._clean_temp_files()
        self._finish(report, written, names, previous, changed, self._files_except(names), None)
        self._scanned(report, fingerprint)
        return report

    def _incremental(self, known: dict[str, Version]) -> SyncReport:
        report = SyncReport()
        with self.engine.connect() as conn:
            # Taken before the versions: a change landing in between makes the next sync's
            # fingerprint differ, never the other way round.
            fingerprint = zones.fingerprint(conn)
            if fingerprint == self._fingerprint and time.monotonic() < self._scan_due:
                report.zones = len(known)
                return report
            versions: dict[str, Version] = zones.versions(conn)
            stale = [
                n
                for n, v in versions.items()
                if known.get(n) != v and n not in self._refused and self._check_name(n, report)
            ]
            texts: dict[str, tuple[Version, str]] = {}
            for start in range(0, len(stale), _BATCH):
                batch = stale[start : start + _BATCH]
                for name, version, text in zones.texts(conn, batch):
                    texts[name] = (version, text)
        # A zone deleted between the two reads is gone: the next sync sees it so, too.
        names = {n for n in versions if safe_name(n) and (n not in stale or n in texts)}
        written = {n: v for n, v in known.items() if n in names}
        changed = self._publish_each(((n, *texts[n]) for n in stale if n in texts), written, report)
        previous = self._included if self._included is not None else self._names_in_include()
        gone = [self.path_of(n) for n in sorted(set(known) - names)]
        self._finish(report, written, names, previous, changed, gone, frozenset(names) != previous)
        self._scanned(report, fingerprint)
        return report

    def _targeted(self, known: dict[str, Version], asked: set[str]) -> SyncReport:
        """The files of the zones `asked` only, as the store has them now, without reading the
        other zones' versions: an API call's own sync costs the same with 100 zones as with
        100,000. The include's other names are the ones this process last wrote there, or
        read there when another process has rewritten it since (every process applies its
        own additions and removals to the include under the directory's lock)."""
        report = SyncReport()
        wanted, found = self._read_asked(asked, report)
        previous = self._included_now()
        if previous is None:  # no include (removed by hand?): made again from every zone
            self._included = None
            return self._incremental(known)
        gone_names = [n for n in wanted if n not in found]
        added = [n for n in found if n not in previous]
        removed = [n for n in gone_names if n in previous]
        names = (previous - set(removed)) | set(added) if added or removed else previous
        written = known  # updated in place: it is this process's record, and the lock held
        for name in gone_names:
            written.pop(name, None)
        differing = [n for n in wanted if n in found and known.get(n) != found[n][0]]
        changed = self._publish_each(((n, *found[n]) for n in differing), written, report)
        gone = [self.path_of(n) for n in gone_names]
        self._finish(report, written, names, previous, changed, gone, names is not previous)
        if report.errors:
            self._fingerprint = None  # the next ordinary sync reads every version
        return report

    def _read_asked(
        self, asked: set[str], report: SyncReport
    ) -> tuple[list[str], dict[str, tuple[Version, str]]]:
        """The asked zones that can have a file (sorted), and the version and text of those
        still in the store (a zone deleted is not among them)."""
        wanted = sorted(n for n in asked if n not in self._refused and self._check_name(n, report))
        found: dict[str, tuple[Version, str]] = {}
        with self.engine.connect() as conn:
            for start in range(0, len(wanted), _BATCH):
                for name, version, text in zones.texts(conn, wanted[start : start + _BATCH]):
                    found[name] = (version, text)
        return wanted, found

    def _serve_calls(
        self,
        names: set[str],
        written: dict[str, Version],
        changed: list[str],
        report: SyncReport,
    ) -> None:
        """Between a full reconcile's batches (which take a minute with 100,000 zones): the
        zones API calls changed meanwhile, written now as `_targeted` would — their files, the
        include as it is on disk with their additions and removals, the nameserver's commands
        — and noted in the reconcile's own record (`names`, `written`, `changed`), whose end
        keeps them. The calls waiting (`_wait_turn`) then return. Not while an ordinary sync
        of everything is asked for: that one waits for the reconcile's end."""
        with self._asking:
            if self._asked_all or not self._asked_names:
                return
            asked, upto = self._asked_names, self._asked
            self._asked_names = set()
        wanted, found = self._read_asked(asked, report)
        # As this process last wrote it, unless the file changed since: not 10 MB read again
        # at every batch that serves a call.
        previous = self._included_now() or frozenset()
        gone = [n for n in wanted if n not in found]
        for name in gone:
            names.discard(name)
            written.pop(name, None)
            if name in changed:
                changed.remove(name)
        differing = [n for n in sorted(found) if written.get(n) != found[n][0]]
        served = self._publish_each(((n, *found[n]) for n in differing), written, report)
        names.update(found)
        included = (previous - set(gone)) | set(found)
        if included != previous:
            self._write_include(report, included)
        for name in gone:
            self._remove(self.path_of(name), report)
        fsync_directory(self.directory)
        reloads = served
        if self.commands.reconfig_command:
            reloads = [n for n in served if n in previous]
        self.commands.enqueue(
            reconfig=included != previous, zones={n: self.path_of(n) for n in reloads}
        )
        self._covered = max(self._covered, upto)

    def _included_now(self) -> frozenset[str] | None:
        """The zones the include names: as this process last wrote or read it, unless the
        file has changed since (then read again, and compared in full when next written);
        None if there is none."""
        try:
            stat = os.stat(self.include_path)
        except FileNotFoundError:
            return None
        if self._included is not None and _seen(stat) == self._include_seen:
            return self._included
        data = read_file(self.include_path)
        if data is None:
            return None
        self._included = None
        return frozenset(_INCLUDE_LINE.findall(data.decode("utf-8", "replace")))

    def _publish_each(
        self,
        texts: Iterable[tuple[str, Version, str]],
        written: dict[str, Version],
        report: SyncReport,
    ) -> list[str]:
        """Write each zone's file: one written without error is recorded in `written` and its
        zone is to be reloaded — even when another process (a CLI command) wrote the same bytes
        first, for that process may not have the reload command configured; after an error it
        is forgotten, so the next sync tries again. Returns the zones to reload."""
        changed: list[str] = []
        for name, version, text in texts:
            errors_before = len(report.errors)
            self._publish(name, text, report)
            if len(report.errors) == errors_before:
                written[name] = version
                changed.append(name)
            else:
                written.pop(name, None)
        return changed

    def _scanned(self, report: SyncReport, fingerprint: tuple[object, ...]) -> None:
        # After an error the files do not match the store: the next sync must look again.
        self._fingerprint = None if report.errors else fingerprint
        self._scan_due = time.monotonic() + FULL_SCAN_EVERY

    def _finish(
        self,
        report: SyncReport,
        written: dict[str, Version],
        names: AbstractSet[str],
        previous: frozenset[str],
        changed: list[str],
        gone: list[Path],
        set_changed: bool | None,
    ) -> None:
        """Write the include, remove `gone`, queue the commands: a reload per zone of
        `changed` and a reconfig if the set of zones changed (`set_changed`; None: if this
        sync rewrote the include)."""
        report.zones = len(names)
        # An ordinary sync that finds the zones of the include this process last wrote (or
        # read) has nothing to compare there; a full sync always compares the file.
        if set_changed is not False or self._included is None:
            self._write_include(report, names)
        # Removed only now: the include no longer names them, so a nameserver reloading
        # meanwhile does not look for a file that has just gone.
        for path in gone:
            self._remove(path, report)
        if report.changed:
            fsync_directory(self.directory)
            log.info(
                "zone files: %d written%s, %d removed%s%s",
                len(report.written),
                _some(report.written),
                len(report.removed),
                _some(report.removed),
                ", include rewritten" if report.include_written else "",
            )
        self._written = written
        # A zone the nameserver did not know yet is loaded by the reconfig command, when there
        # is one; reloading it as well would only fail (rndc) or repeat the work.
        if self.commands.reconfig_command:
            reloads = [n for n in changed if n in previous]
        else:
            reloads = changed
        if set_changed is None:
            set_changed = report.include_written is not None
        self.commands.enqueue(reconfig=set_changed, zones={n: self.path_of(n) for n in reloads})

    # -- files ------------------------------------------------------------------------------------

    def _write_include(self, report: SyncReport, names: AbstractSet[str]) -> None:
        current = frozenset(names)
        data = self._include_lines.text(current).encode()
        # The file as this process last wrote it, for another set of zones: it differs, and
        # is not read back (10 MB at 100,000 zones) to be compared.
        known_other = (
            self._included is not None
            and self._included != current
            and self._include_seen is not None
            and self._stat_include() == self._include_seen
        )
        if not known_other and read_file(self.include_path) == data:
            self._included = current
            self._include_seen = self._stat_include()
            return
        try:
            write_atomic(self.include_path, data)
        except OSError as exc:
            report.errors.append(f"{self.include_path}: {exc.strerror or exc}")
            log.error("could not write %s: %s", self.include_path, exc.strerror or exc)
            self._included = None  # read back from the file next time
            return
        report.include_written = self.include_path
        self._included = current
        self._include_seen = self._stat_include()

    def _stat_include(self) -> tuple[int, int, int] | None:
        try:
            return _seen(os.stat(self.include_path))
        except OSError:
            return None

    def _check_name(self, name: str, report: SyncReport) -> bool:
        if safe_name(name):
            return True
        report.refused.append(name)
        if name not in self._refused:
            self._refused.add(name)
            log.warning("zone %r: not a safe file name; its zone file is not written", name)
        return False

    def _publish(self, name: str, text: str, report: SyncReport) -> bool:
        """Write the zone's file if its content differs; True if it was written."""
        path = self.path_of(name)
        # surrogateescape: whatever bytes a zone was imported with go back out unchanged.
        data = text.encode("utf-8", "surrogateescape")
        try:
            if read_file(path) == data:
                return False
            write_atomic(path, data)
        except OSError as exc:
            report.errors.append(f"{path}: {exc.strerror or exc}")
            log.error("could not write zone file %s: %s", path, exc.strerror or exc)
            return False
        report.written.append(path)
        return True

    def _remove(self, path: Path, report: SyncReport) -> None:
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            report.errors.append(f"{path}: {exc.strerror or exc}")
            log.error("could not remove zone file %s: %s", path, exc.strerror or exc)
            return
        report.removed.append(path)

    def _files_except(self, keep: set[str]) -> list[Path]:
        """The zone files of zones no longer in the store: only regular files named like one
        of ours (`<safe name>.db`); anything else in the directory is left alone."""
        found = []
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if not entry.name.endswith(ZONE_SUFFIX):
                    continue
                name = entry.name[: -len(ZONE_SUFFIX)]
                if name in keep or not safe_name(name):
                    continue
                if entry.is_file(follow_symlinks=False):
                    found.append(Path(entry.path))
        return sorted(found)

    def _clean_temp_files(self) -> None:
        """Temporary files a killed process left behind (we hold the directory lock, so no
        other process is writing one now)."""
        with os.scandir(self.directory) as entries:
            for entry in entries:
                if entry.name.startswith(TEMP_PREFIX) and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)

    def _names_in_include(self) -> frozenset[str]:
        """The zones the include on disk lists (the nameserver's view before this sync)."""
        data = read_file(self.include_path)
        if data is None:
            return frozenset()
        return frozenset(_INCLUDE_LINE.findall(data.decode("utf-8", "replace")))

    def announce_all(self) -> None:
        """Queue the reconfig command and a reload of every zone written, changed or not: for
        a nameserver that missed changes (`gatehouse zones write --reload`)."""
        with self._lock:
            names = sorted(self._written or {})
        self.commands.enqueue(reconfig=True, zones={n: self.path_of(n) for n in names})

    def close(self) -> None:
        """No sync after this one; waits for a running sync and for queued commands."""
        with self._lock:
            self._closed = True
        self.commands.close()


def _seen(stat: os.stat_result) -> tuple[int, int, int]:
    """What tells a file rewritten by another process (a new inode each atomic write)."""
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _some(paths: list[Path]) -> str:
    if not paths:
        return ""
    names = ", ".join(p.name for p in paths[:10])
    return f" ({names}{', ...' if len(paths) > 10 else ''})"


# -- the server's background sync -----------------------------------------------------------------


async def publish_periodically(publisher: ZonePublisher, interval: float = SYNC_INTERVAL) -> None:
    """Every `interval` seconds, an ordinary sync on a worker thread (file I/O stays off the
    event loop): changes made by other nodes sharing the store, or by the CLI, reach this
    node's files. Runs until cancelled."""
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(publisher.sync)
        except Exception:
            log.exception("the periodic zone file sync failed")
