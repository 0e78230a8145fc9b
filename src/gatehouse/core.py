"""The composition root: the store, the authenticator, the hooks, the key ring and the zone
publisher, built once per process and shared by every face (HTTP, CLI, nameserver). It knows
no face: the faces are given it."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import sqlalchemy as sa

from gatehouse import passwords, private_files
from gatehouse.auth.authenticator import Authenticator
from gatehouse.config import Config
from gatehouse.dns.zonefiles import ZonePublisher
from gatehouse.domain import ips
from gatehouse.domain.accesshash import KeyRing
from gatehouse.domain.ssl_files import SslPublisher
from gatehouse.domain.token_usage import UsageRecorder
from gatehouse.errors import InvalidParameter
from gatehouse.hooks import Hooks
from gatehouse.store import engine as store_engine
from gatehouse.store import migrate

log = logging.getLogger("gatehouse.files")


class Gatehouse:
    def __init__(
        self,
        config: Config,
        *,
        engine: sa.Engine | None = None,
        clock: Callable[[], float] = time.time,
        migrate_store: bool = True,
        cache_tokens: bool = False,
    ) -> None:
        self.config = config
        # Before the authenticator makes its dummy hash (it costs what a real one does).
        passwords.use_profile(config.password_hashing)
        # Before the store is opened: SQLite's -wal and -shm copy the store file's mode.
        for change in private_files.secure(config):
            log.warning("tightened what other local users could read: %s", change)
        self.engine = engine or store_engine.create(config.resolved_database_url)
        # PostgreSQL: every statement a round trip to another process, maybe another host.
        self.store_is_remote = self.engine.dialect.name == "postgresql"
        if migrate_store:
            migrate.upgrade(self.engine)
        self.clock = clock
        self.keyring = KeyRing(config.data_dir, config.secret_key)
        self.hooks = Hooks(config.hooks_path, config.hook_timeout)
        # Long-lived servers cache token lookups; one-shot CLI commands need not.
        self.authenticator = Authenticator(
            self.engine,
            clock,
            cache_tokens=cache_tokens,
            session_idle_timeout=config.session_idle_timeout,
            trusted=config.trusted_addresses,
            own_addresses=_own_addresses(config),
            # On PostgreSQL, how this node's workers tell each other of a change at once.
            shared_path=(config.data_dir / "auth-generation" if config.data_dir.is_dir() else None),
        )
        # Touches no file until its first sync (docs/zonefiles.md).
        self.zone_publisher = ZonePublisher(
            self.engine,
            config.zone_path,
            reload_command=config.zone_reload_command,
            reconfig_command=config.zone_reconfig_command,
            command_timeout=config.zone_command_timeout,
        )
        # Installed certificates as files for a web server (docs/ssl.md); touches no file
        # until a certificate changes.
        self.ssl_publisher = SslPublisher(
            self.engine,
            self.keyring,
            config.ssl_path,
            reload_command=config.ssl_reload_command,
            command_timeout=config.zone_command_timeout,
        )

        # The functions each token calls, noted in memory and written every second by
        # `gatehouse serve` (domain/token_usage.py).
        self.usage = UsageRecorder()
        # Set after a change commits: the DNS cluster sender wakes at once rather than at its
        # next pass (a change may have queued zones for peers).
        self.changed = threading.Event()
        # Set after a check is asked for (start_autossl_check…): `gatehouse serve`'s AutoSSL
        # provider looks at once rather than at its next pass (docs/ssl.md#autossl).
        self.autossl_wake = threading.Event()
        # Set by `gatehouse serve` (program/service_tls.py): after the service certificate is
        # installed, serve it on this process's TLS ports from the next handshake on (and
        # return once it is). None in a process without listeners (the CLI).
        self.service_certificate_changed: Callable[[], None] | None = None

    def now(self) -> int:
        return int(self.clock())

    def close(self) -> None:
        self.zone_publisher.close()  # before the engine goes: a sync may be running
        self.ssl_publisher.close()
        self.authenticator.close()
        self.engine.dispose()


def _own_addresses(config: Config) -> tuple[str, ...]:
    """The server's own addresses (GATEHOUSE_IPS, else the one it listens on): cPHulk takes a
    request from one of them as of local origin. A setting that is not addresses is reported
    where the addresses are used (`listips`, `createacct`), not here."""
    try:
        found = ips.of_server(config)
    except InvalidParameter:
        return ()
    return tuple(address.ip for address in found)
