"""The data directory is the server's alone: it holds password hashes, token digests, the audit
trail, the TLS key and root's first password. Whatever the umask, gatehouse makes the directory
0700 and every file it keeps there 0600, and on every start it takes away any wider bit an
older version (or a umask of 022) left on them, logging each change.

One exception, so that a nameserver or web server running as another user can still read what
is published for it: when the zone directory or the SSL directory lies inside the data
directory (the defaults), the data directory is 0711 — others may pass through it to those
directories by name, but can list nothing in it and read nothing else (docs/security.md).
Zone files keep their documented modes (docs/zonefiles.md, docs/ssl.md).
"""

from __future__ import annotations

import contextlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from gatehouse.config import Config

PRIVATE_DIR = 0o700
PASS_THROUGH_DIR = 0o711  # search (x) but no listing (r) for group and others
PRIVATE_FILE = 0o600
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


@dataclass(frozen=True, slots=True)
class Tightened:
    """A mode gatehouse took bits away from (or could not: `error`)."""

    path: Path
    before: int
    after: int
    error: str | None = None

    def __str__(self) -> str:
        if self.error:
            return f"{self.path}: mode {self.before:04o} is too open, left so ({self.error})"
        return f"{self.path}: mode {self.before:04o} → {self.after:04o}"


def data_dir_mode(config: Config) -> int:
    """0700, or 0711 when a directory other users must reach (zones, SSL files) is inside."""
    home = _absolute(config.data_dir)
    for published in (config.zone_path, config.ssl_path):
        if _absolute(published).is_relative_to(home):
            return PASS_THROUGH_DIR
    return PRIVATE_DIR


def make_dir(path: Path, mode: int) -> None:
    """Create `path` (and missing parents, as the umask says) with exactly `mode` on the leaf
    when it is new; an existing directory is left as it is."""
    if path.is_dir():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another process made it first
        path.mkdir(mode=mode)
        os.chmod(path, mode)  # mkdir's mode is masked by the umask: say it exactly


def write_private(path: Path, data: bytes) -> None:
    """Write `path` as mode 0600 whatever the umask (and whatever mode it had)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, PRIVATE_FILE)
    with os.fdopen(fd, "wb") as fh:
        os.fchmod(fh.fileno(), PRIVATE_FILE)
        fh.write(data)


def sqlite_path(config: Config) -> Path | None:
    """The SQLite store's file, or None (PostgreSQL, or an in-memory store)."""
    url = make_url(config.resolved_database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def secure(config: Config) -> list[Tightened]:
    """Make the data directory if it is missing, create an empty SQLite store file 0600 so
    that SQLite's -wal and -shm files (which copy its mode) are 0600 too, and take away any
    bit beyond 0700 / 0600 from what gatehouse keeps. Returns what it changed, to be logged."""
    home = config.data_dir
    dir_mode = data_dir_mode(config)
    make_dir(home, dir_mode)
    changes: list[Tightened | None] = [_tighten(home, dir_mode)]
    store = sqlite_path(config)
    if store is not None:
        make_dir(store.parent, dir_mode if store.parent == home else PRIVATE_DIR)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(store, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
        for suffix in ("", *SQLITE_SIDE_FILES):
            changes.append(_tighten(Path(f"{store}{suffix}"), PRIVATE_FILE))
    kept = [config.root_password_file, home / "secret.key"]
    # The TLS pair only where gatehouse made it: a certificate an operator points to elsewhere
    # (or links in from elsewhere: links are never followed) is theirs.
    for path in (config.cert_path, config.key_path):
        if _absolute(path).is_relative_to(_absolute(home)):
            if path.parent != home:
                changes.append(_tighten(path.parent, PRIVATE_DIR))
            kept.append(path)
    changes += [_tighten(path, PRIVATE_FILE) for path in kept]
    return [change for change in changes if change is not None]


def _tighten(path: Path, allowed: int) -> Tightened | None:
    """Take away the bits of `path`'s mode beyond `allowed` (never add one); None when
    there was nothing to take, the path is absent, or it is a symbolic link."""
    try:
        found = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(found.st_mode):
        return None
    before = stat.S_IMODE(found.st_mode)
    after = before & allowed
    if after == before:
        return None
    try:
        os.chmod(path, after)
    except OSError as exc:
        return Tightened(path, before, before, exc.strerror or type(exc).__name__)
    return Tightened(path, before, after)


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))
