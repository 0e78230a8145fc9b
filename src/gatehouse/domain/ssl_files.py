"""Installed certificates as files for a web server (docs/ssl.md) — the zone files' model
(docs/zonefiles.md): the store is the truth, the SSL directory a copy of it, written atomically
after every committed change, and the operator's reload command run on a thread of its own.

    <ssl dir>/<domain>.crt   the certificate, then its CA bundle (mode 0644)
    <ssl dir>/<domain>.key   its private key, decrypted only to be written here (mode 0600)
    <ssl dir>/nginx.conf     `map`s from the SNI name to the two files (http context)
    <ssl dir>/apache.conf    one <VirtualHost *:443> per domain naming the two files

A reload that fails is logged (never with its command line) and never fails the call.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from gatehouse.dns.file_lock import FileLock
from gatehouse.dns.file_writing import TEMP_PREFIX, fsync_directory, read_file
from gatehouse.dns.zone_commands import CommandRunner
from gatehouse.dns.zonefiles import safe_name
from gatehouse.domain.accesshash import KeyRing
from gatehouse.store.schema import ssl_certificates, ssl_keys, ssl_vhosts

log = logging.getLogger("gatehouse.ssl.files")

CERT_SUFFIX = ".crt"
KEY_SUFFIX = ".key"
NGINX_INCLUDE = "nginx.conf"
APACHE_INCLUDE = "apache.conf"
LOCK_NAME = ".gatehouse-ssl.lock"
LOCK_WAIT = 5.0  # seconds a sync waits for another process's sync of the same directory


def key_context(user_id: int, key_id: str) -> str:
    # Binds a ciphertext to its owner and public key: a blob copied to another row will not
    # decrypt.
    return f"sslkey:{user_id}:{key_id}"


@dataclass(frozen=True, slots=True)
class VhostFiles:
    domain: str
    certificate: bytes  # the certificate then the CA bundle
    key: bytes


def write_atomic(path: Path, data: bytes, mode: int) -> None:
    """A temporary file in the same directory (made 0600, then given `mode`), flushed, renamed
    over the old file: a web server reading it sees the old one or the new one."""
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def nginx_text(directory: Path, domains: list[str]) -> str:
    lines = [
        "# Written by gatehouse (docs/ssl.md): include in the http {} context, then in a",
        "# server block: ssl_certificate $gatehouse_ssl_certificate;",
        "#               ssl_certificate_key $gatehouse_ssl_certificate_key;",
        "# Rewritten whenever a certificate is installed or removed: do not edit.",
        "map $ssl_server_name $gatehouse_ssl_certificate {",
        "    hostnames;",
    ]
    lines += [f"    {d} {_quote(str(directory / (d + CERT_SUFFIX)))};" for d in domains]
    lines += ["}", "map $ssl_server_name $gatehouse_ssl_certificate_key {", "    hostnames;"]
    lines += [f"    {d} {_quote(str(directory / (d + KEY_SUFFIX)))};" for d in domains]
    lines.append("}")
    return "\n".join(lines) + "\n"


def apache_text(directory: Path, domains: list[str]) -> str:
    lines = [
        "# Written by gatehouse (docs/ssl.md): one TLS virtual host per installed certificate.",
        "# Rewritten whenever a certificate is installed or removed: do not edit.",
    ]
    for d in domains:
        lines += [
            "<VirtualHost *:443>",
            f"    ServerName {d}",
            "    SSLEngine on",
            f"    SSLCertificateFile {_quote(str(directory / (d + CERT_SUFFIX)))}",
            f"    SSLCertificateKeyFile {_quote(str(directory / (d + KEY_SUFFIX)))}",
            "</VirtualHost>",
        ]
    return "\n".join(lines) + "\n"


class SslPublisher:
    """Keeps one SSL directory equal to the installed certificates. One per process."""

    def __init__(
        self,
        engine: sa.Engine,
        keyring: KeyRing,
        directory: Path,
        *,
        reload_command: str | None = None,
        command_timeout: float = 10.0,
    ) -> None:
        self.engine = engine
        self.keyring = keyring
        self.directory = Path(os.path.abspath(directory))
        # The runner's "reconfig" command is the one reload after a set of changes.
        self.commands = CommandRunner(
            self.directory,
            reload_command=None,
            reconfig_command=reload_command,
            timeout=command_timeout,
        )
        self._lock = threading.Lock()

    def _read(self) -> list[VhostFiles]:
        query = (
            sa.select(
                ssl_vhosts.c.domain,
                ssl_vhosts.c.cabundle,
                ssl_certificates.c.pem,
                ssl_certificates.c.key_id,
                ssl_keys.c.user_id,
                ssl_keys.c.ciphertext,
            )
            .join(ssl_certificates, ssl_certificates.c.id == ssl_vhosts.c.certificate_id)
            .join(
                ssl_keys,
                sa.and_(
                    ssl_keys.c.user_id == ssl_certificates.c.user_id,
                    ssl_keys.c.key_id == ssl_certificates.c.key_id,
                ),
            )
            .order_by(ssl_vhosts.c.domain)
        )
        out = []
        with self.engine.connect() as conn:
            rows = list(conn.execute(query))
        for row in rows:
            key = self.keyring.decrypt(row.ciphertext, key_context(row.user_id, row.key_id))
            chain = row.pem.rstrip("\n") + "\n"
            if row.cabundle:
                chain += row.cabundle.strip() + "\n"
            out.append(VhostFiles(row.domain, chain.encode(), key.encode()))
        return out

    def sync(self) -> bool:
        """Make the directory match the store; True if a file changed (then the reload command
        is queued). Errors are logged: the change they follow is committed already."""
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Group-readable: a web server running as the group reads it; keys stay 0600.
            os.chmod(self.directory, 0o750)  # noqa: S103
            with FileLock(self.directory / LOCK_NAME, time.monotonic() + LOCK_WAIT) as locked:
                if not locked:
                    log.warning("SSL directory busy: the next change will write these files")
                    return False
                changed = self._sync()
        if changed:
            self.commands.enqueue(reconfig=True, zones={})
        return changed

    def _sync(self) -> bool:
        vhosts = [v for v in self._read() if safe_name(v.domain)]
        changed = False
        for vhost in vhosts:
            for suffix, data, mode in (
                (CERT_SUFFIX, vhost.certificate, 0o644),
                (KEY_SUFFIX, vhost.key, 0o600),
            ):
                changed |= self._write(self.directory / f"{vhost.domain}{suffix}", data, mode)
        domains = [v.domain for v in vhosts]
        changed |= self._write(
            self.directory / NGINX_INCLUDE, nginx_text(self.directory, domains).encode(), 0o644
        )
        changed |= self._write(
            self.directory / APACHE_INCLUDE, apache_text(self.directory, domains).encode(), 0o644
        )
        # Removed only after the includes stopped naming them.
        keep = set(domains)
        with os.scandir(self.directory) as entries:
            gone = [
                Path(e.path)
                for e in entries
                if e.name.endswith((CERT_SUFFIX, KEY_SUFFIX))
                and e.name.rsplit(".", 1)[0] not in keep
                and safe_name(e.name.rsplit(".", 1)[0])
                and e.is_file(follow_symlinks=False)
            ]
        for path in gone:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                changed = True
        if changed:
            fsync_directory(self.directory)
            log.info("SSL files: %d vhost(s) written", len(vhosts))
        return changed

    def _write(self, path: Path, data: bytes, mode: int) -> bool:
        try:
            if read_file(path) == data and (path.stat().st_mode & 0o777) == mode:
                return False
            write_atomic(path, data, mode)
        except OSError as exc:
            log.error("could not write %s: %s", path, exc.strerror or exc)
            return False
        return True

    def publish(self) -> None:
        """`sync` for after a call has committed (its answer is the log's, not the call's)."""
        self.sync()

    def wait(self, timeout: float | None = None) -> bool:
        return self.commands.wait(timeout)

    def close(self) -> None:
        self.commands.close()
