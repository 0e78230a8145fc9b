"""`gatehouse serve`, one process of it: one event loop. The WHM listeners (2086, 2087) and the
cPanel listeners (2082, 2083) share one Gatehouse (and so one authenticator and token cache)
through granian's embedded server. With `--workers N` (program/workers.py) N such processes
serve the same ports (granian binds them with SO_REUSEPORT, so the kernel spreads the
connections), and the work a node does once — the built-in nameserver, the zone files'
reconcile and periodic sync, the hourly housekeeping — runs in the primary worker only; the
work the store coordinates (the DNS cluster sender, AutoSSL's lease) runs in every one."""

from __future__ import annotations

import asyncio
import gc
import logging
import resource
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import anyio
from granian.constants import HTTPModes, Interfaces, SSLProtocols
from granian.http import HTTP1Settings
from granian.server.embed import Server

from gatehouse import tls
from gatehouse.config import Config
from gatehouse.core import Gatehouse
from gatehouse.dns.zonefiles import publish_periodically
from gatehouse.domain import (
    autossl,
    cluster_push,
    leases,
    notices,
    retention,
    token_policy,
    token_usage,
)
from gatehouse.http import access_log
from gatehouse.http.access_log import ACCESS_LOG
from gatehouse.http.forwarded import PROXIES
from gatehouse.http.guard import LIMITS
from gatehouse.program import connections, listening
from gatehouse.program.apps import cpanel_ports, whm_ports
from gatehouse.program.service_tls import ReloadableServer, ServiceTls
from gatehouse.store import engine as store_engine

CLUSTER_PUSH_INTERVAL = 2.0  # seconds
NOTICE_INTERVAL = 5.0  # seconds between two passes of the token notices
LISTEN_TIMEOUT = 10.0  # seconds a port may take to listen once its server has started
AUTOSSL_POLL = 15.0  # seconds between looks for AutoSSL checks asked for on other processes
log = logging.getLogger("gatehouse.program.server")


class ListenError(Exception):
    """A port could not be opened (taken by another program, an address not on this host)."""


@dataclass(frozen=True, slots=True)
class Role:
    """Which of `count` worker processes this is. The primary (index 0) also does the node's
    own background work."""

    index: int = 0
    count: int = 1

    @property
    def primary(self) -> bool:
        return self.index == 0


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(access_log.FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # Access lines are the bulk of the log: written to the same stream, in the same format,
    # without a LogRecord each (web/access_log.py).
    ACCESS_LOG.use_stream(handler)
    # granian's own access log is off; ours never prints query strings or headers.
    for noisy in ("_granian", "granian.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _servers(app: Any, config: Config, face: str, http_port: int, https_port: int) -> list[Server]:
    """The plain and TLS listeners of one face (a port of 0 is not opened)."""
    settings = HTTP1Settings(
        max_buffer_size=config.max_query + 256 * 1024,
        # Counted from the accepted connection, and again after each answer on a kept-alive
        # one: a client that connects and sends nothing is closed too (docs/security.md).
        header_read_timeout=max(1, round(config.header_timeout * 1000)),
    )
    common: dict[str, Any] = {
        "interface": Interfaces.ASGINL,
        "address": config.bind,
        # HTTP/1.1 only: granian's "auto" mode first reads the HTTP/2 preface with no timer,
        # so a connection that never sends a byte would hold its slot for ever.
        "http": HTTPModes.http1,
        "http1_settings": settings,
        "backlog": config.listen_backlog,
        # granian takes a slot before each accept and holds it until the connection closes.
        "backpressure": config.max_connections,
        "log_enabled": False,
        "websockets": False,
    }
    servers = []
    if http_port:
        servers.append(Server(app, port=http_port, **common))
        log.info("%s over HTTP on http://%s:%s/", face, config.bind, http_port)
    if https_port:
        made = tls.ensure_self_signed(config.cert_path, config.key_path)
        if made:
            log.info("made a self-signed certificate at %s", config.cert_path)
        tls_settings: dict[str, Any] = {
            **common,
            "ssl_cert": config.cert_path,
            "ssl_key": config.key_path,
            "ssl_protocol_min": (
                SSLProtocols.tls13 if config.tls_min_version == "1.3" else SSLProtocols.tls12
            ),
        }
        if config.http2:
            # Opt-in: HTTP/2 through ALPN. granian's auto mode reads the first bytes untimed
            # (see above), so the header timeout is weaker on these ports.
            tls_settings["http"] = HTTPModes.auto
        # Its certificate can be replaced while serving (program/service_tls.py).
        servers.append(ReloadableServer(app, port=https_port, **tls_settings))
        log.info("%s over HTTPS on https://%s:%s/", face, config.bind, https_port)
    return servers


def _raise_file_limit(config: Config, http_ports: int) -> None:
    """Enough descriptors for every connection the limits allow: once out of them, accepting
    fails at once and is retried at once, and the ports stop serving (systemd's default soft
    limit is 1024). Raised up to the hard limit, never beyond."""
    wanted = http_ports * config.max_connections + config.dns_tcp_max_connections + 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < ceiling:
        resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))
    if ceiling < wanted:
        log.warning(
            "open files are limited to %d, fewer than the %d the connection limits allow: "
            "raise the hard limit (LimitNOFILE) or lower GATEHOUSE_MAX_CONNECTIONS",
            ceiling,
            wanted,
        )


async def _until_listening(
    servers: list[Server], tasks: list[asyncio.Task[None]], timeout: float = LISTEN_TIMEOUT
) -> None:
    """Return once this process listens on every server's port; raise ListenError if a server
    failed (a port taken by another program) or is still not listening after `timeout`
    seconds. Before that, this process must not report itself ready (program/listening.py)."""
    wanted = {server.bind_port for server in servers}
    deadline = time.monotonic() + timeout
    while True:
        await asyncio.sleep(0)
        for server, task in zip(servers, tasks, strict=True):
            if task.done():
                exception = task.exception()
                # granian's error text may carry a Rust backtrace after its first line.
                reason = (str(exception).splitlines() or [""])[0] or "the server stopped"
                raise ListenError(
                    f"cannot listen on {server.bind_addr} port {server.bind_port}: {reason}"
                )
        if not listening.supported() or listening.listening_ports(wanted) == wanted:
            return
        if time.monotonic() > deadline:
            missing = sorted(wanted - listening.listening_ports(wanted))
            raise ListenError(f"not listening on port(s) {missing} after {timeout:g} s")
        await asyncio.sleep(0.005)


async def _serve(
    config: Config, role: Role = Role(), ready: Callable[[], None] | None = None
) -> None:
    # A lone process migrates the store itself; workers find it migrated by their supervisor.
    gatehouse = Gatehouse(config, cache_tokens=True, migrate_store=role.count == 1)
    # Zone files (docs/zonefiles.md): this process's changes are written as it makes them,
    # against the store's versions as they are now; the primary reconciles every file in the
    # background (never on the start-up path: 100,000 zones take minutes), then syncs every
    # few seconds for changes other nodes or the CLI made.
    await asyncio.to_thread(gatehouse.zone_publisher.adopt)
    background = [
        asyncio.create_task(_push_to_peers(gatehouse)),
        asyncio.create_task(_write_token_usage(gatehouse)),
    ]
    background.append(asyncio.create_task(_deliver_notices(gatehouse)))
    if role.primary:
        background.append(asyncio.create_task(_publish_zones(gatehouse)))
        background.append(asyncio.create_task(_keep_house(gatehouse)))
    provider = _autossl_provider(gatehouse)
    background.append(asyncio.create_task(_run_autossl(gatehouse, provider)))
    LIMITS.configure(body_timeout=config.body_timeout, per_address=config.max_requests_per_address)
    PROXIES.configure(config.trusted_proxies)
    _leave_connections_to_the_loop(gatehouse)
    servers = _servers(whm_ports(gatehouse), config, "WHM", config.http_port, config.https_port)
    if config.cpanel_http_port or config.cpanel_https_port:
        servers += _servers(
            cpanel_ports(gatehouse),
            config,
            "cPanel",
            config.cpanel_http_port,
            config.cpanel_https_port,
        )
    nameserver = None
    if config.dns_port and role.primary:
        from gatehouse.dns.nameserver import TcpLimits
        from gatehouse.dns.nameserver import start as start_nameserver

        limits = TcpLimits(
            idle_timeout=config.dns_tcp_idle_timeout,
            max_connections=config.dns_tcp_max_connections,
            max_per_address=config.dns_tcp_max_per_address,
            backlog=config.listen_backlog,
        )
        nameserver = await start_nameserver(
            gatehouse.engine, config.dns_bind, config.dns_port, limits
        )
        log.info("DNS (UDP and TCP) on %s port %s", config.dns_bind, config.dns_port)
    loop = asyncio.get_running_loop()
    ACCESS_LOG.batch_on(loop)  # access lines once per pass of this loop
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    _raise_file_limit(config, len(servers))
    service_tls = await _service_tls(gatehouse, servers)
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    await _until_listening(servers, tasks)
    ports = {config.http_port, config.https_port, config.cpanel_http_port, config.cpanel_https_port}
    trusted = PROXIES.trusted
    capper = asyncio.create_task(
        connections.cap_per_address(
            ports - {0},
            config.max_connections_per_address,
            trusted.allows if trusted is not None else None,
        )
    )
    # Everything made so far lives as long as the process: keep it out of the collector's
    # full passes, which otherwise walk it every time (a large zone edit allocates enough to
    # trigger one).
    gc.freeze()
    if role.count > 1:
        log.info("ready (worker %d of %d)", role.index + 1, role.count)
    else:
        log.info("ready")
    if ready is not None:
        ready()
    waiter = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        if task is not waiter and task.exception():
            raise task.exception()  # type: ignore[misc]
    log.info("shutting down")
    service_tls.cancel()
    for s in servers:
        s.stop()  # type: ignore[no-untyped-call]
    if tasks:
        await asyncio.wait(tasks, timeout=5)
    if nameserver is not None:
        await nameserver.close()
    provider.stopping.set()  # a check in progress stops after its current domain
    gatehouse.autossl_wake.set()  # and its wait ends now, not at its next poll
    for task in (capper, *background):
        task.cancel()
    await asyncio.gather(capper, *background, return_exceptions=True)
    try:  # the last few seconds of token usage
        gatehouse.usage.flush(gatehouse.engine)
    except Exception:
        log.exception("writing the token usage at shutdown failed")
    gatehouse.close()


async def _write_token_usage(gatehouse: Gatehouse) -> None:
    """The calls each token made, noted in memory, written every few seconds (and sooner when
    many are waiting) in one transaction: domain/token_usage.py. Off the loop."""
    usage = gatehouse.usage
    waited = 0.0
    while True:
        await asyncio.sleep(0.5)
        waited += 0.5
        if waited < token_usage.FLUSH_INTERVAL and not usage.due():
            continue
        waited = 0.0
        try:
            await asyncio.to_thread(usage.flush, gatehouse.engine)
        except Exception:
            log.exception("writing the token usage failed; retried shortly")


async def _publish_zones(gatehouse: Gatehouse) -> None:
    """The primary's zone files: a full reconcile (restoring files edited or deleted by hand),
    then a sync every few seconds. Off the loop: it is file I/O."""
    try:
        report = await asyncio.to_thread(gatehouse.zone_publisher.sync, full=True)
    except Exception:
        log.exception("reconciling the zone files at start-up failed; retried every few seconds")
    else:
        log.info("zone files reconciled: %d zones", report.zones)
    await publish_periodically(gatehouse.zone_publisher)


async def _push_to_peers(gatehouse: Gatehouse) -> None:
    """The DNS cluster changes that are due (domain/cluster_push.py), at once after a change
    made by this process and every couple of seconds for the others' (and for retries):
    every process may run this, each change is claimed by one. Off the loop."""
    changed = gatehouse.changed
    while True:
        await asyncio.to_thread(changed.wait, CLUSTER_PUSH_INTERVAL)
        changed.clear()
        try:
            pushed = await asyncio.to_thread(
                cluster_push.push_due, gatehouse.engine, gatehouse.keyring, gatehouse.now()
            )
        except Exception:
            log.exception("pushing to the DNS cluster peers failed; retried shortly")
            continue
        if pushed.sent or pushed.failed:
            log.info(
                "DNS cluster: %d change(s) sent, %d skipped, %d failed",
                pushed.sent,
                pushed.skipped,
                pushed.failed,
            )


async def _deliver_notices(gatehouse: Gatehouse) -> None:
    """Token notices (domain/notices.py): every few seconds, queue what is due (every
    notices.COLLECT_EVERY seconds, in whichever process holds the lease) and deliver what is
    due; every process may run this, each notice is claimed by one. Off the loop."""
    config = gatehouse.config
    holder = leases.new_holder()
    while True:
        await asyncio.sleep(NOTICE_INTERVAL)
        try:
            await asyncio.to_thread(
                notices.collect_if_due, gatehouse.engine, config, holder, gatehouse.now()
            )
            if notices.channels(config):
                await asyncio.to_thread(
                    notices.deliver_due,
                    gatehouse.engine,
                    config,
                    gatehouse.keyring,
                    gatehouse.now(),
                )
        except Exception:
            log.exception("the token notices pass failed; retried shortly")


def _autossl_provider(gatehouse: Gatehouse) -> autossl.AutoSsl:
    def zones_changed() -> None:
        gatehouse.changed.set()  # the cluster sender: the challenge records go to peers
        try:
            gatehouse.zone_publisher.sync_after_change()
        except Exception:
            log.exception("writing the zone files after an AutoSSL change failed")

    return autossl.AutoSsl(
        gatehouse.engine,
        gatehouse.keyring,
        gatehouse.config,
        gatehouse.clock,
        zones_changed=zones_changed,
        certificates_changed=gatehouse.ssl_publisher.publish,
    )


async def _run_autossl(gatehouse: Gatehouse, provider: autossl.AutoSsl) -> None:
    """AutoSSL (domain/autossl.py), when GATEHOUSE_AUTOSSL_DIRECTORY is set: a check asked
    for here runs at once, one asked for elsewhere within AUTOSSL_POLL seconds, the scheduled
    one every GATEHOUSE_AUTOSSL_INTERVAL — in whichever process holds the lease. Off the loop."""
    if not autossl.configured(gatehouse.config):
        return
    log.info("AutoSSL with the ACME directory %s", gatehouse.config.autossl_directory)
    wake = gatehouse.autossl_wake
    while True:
        await asyncio.to_thread(wake.wait, AUTOSSL_POLL)
        wake.clear()
        try:
            await asyncio.to_thread(provider.tick)
        except Exception:
            log.exception("the AutoSSL check failed; retried at its next pass")


# Connections of the pool that the requests' worker threads leave free: the event loop takes
# one at a time (two when a call reads its token's usage), the background tasks a few.
LOOP_RESERVE = 4


def _leave_connections_to_the_loop(gatehouse: Gatehouse) -> None:
    """Fewer worker threads for requests than the store's pool has connections. A call run
    off the loop holds its connection for as long as it runs, a slow "before" hook or Argon2
    included; were every connection held so, the event loop's next store read (a token not
    cached, an audit row) would wait for one, and every request of the process with it. A
    request beyond the limit waits for a thread without blocking the loop (anyio's default
    limiter, which every face's `to_thread.run_sync` uses)."""
    threads = max(2, store_engine.pool_capacity(gatehouse.engine) - LOOP_RESERVE)
    anyio.to_thread.current_default_thread_limiter().total_tokens = threads


async def _keep_house(gatehouse: Gatehouse) -> None:
    """Every hour (the first pass a minute after start, never during start-up): the audit
    trail's retention and cPHulk's expired history (domain/retention.py), and the expiry of
    tokens left unused (domain/token_policy.py, when configured). Off the loop."""
    delay = 60.0
    while True:
        await asyncio.sleep(delay)
        delay = retention.INTERVAL
        try:
            purged = await asyncio.to_thread(
                retention.purge,
                gatehouse.engine,
                gatehouse.now(),
                gatehouse.config.audit_retention_days,
            )
        except Exception:
            log.exception("the periodic purge failed; retried in an hour")
            continue
        if purged.audit_rows or purged.cphulk_rows:
            log.info(
                "purged %d audit rows and %d expired cPHulk records",
                purged.audit_rows,
                purged.cphulk_rows,
            )
        await _expire_unused_tokens(gatehouse)


async def _expire_unused_tokens(gatehouse: Gatehouse) -> None:
    days = gatehouse.config.token_expire_unused_days
    if days <= 0:
        return
    try:
        expired = await asyncio.to_thread(
            token_policy.expire_unused, gatehouse.engine, gatehouse.now(), days
        )
    except Exception:
        log.exception("expiring unused API tokens failed; retried in an hour")
        return
    for token in expired:
        log.info(
            "expired %s's %s token %s: unused for %d days", token.owner, token.service,
            token.name, days,
        )  # fmt: skip


def serve(config: Config, role: Role = Role(), ready: Callable[[], None] | None = None) -> None:
    configure_logging()
    try:
        asyncio.run(_with_signals_released(_serve(config, role, ready)))
    finally:
        # The last pass's access lines (a worker process ends without running atexit).
        ACCESS_LOG.batch_on(None)


async def _with_signals_released(serving: Coroutine[Any, Any, None]) -> None:
    """`serving`, then SIGINT and SIGTERM handed back before the loop closes. Python 3.11's
    loop.close() closes its self-pipe first and lets go of the signals after: a SIGTERM in
    between (a supervisor stopping a worker that is stopping by itself) is written to a closed
    descriptor and printed as a traceback."""
    try:
        await serving
    finally:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1):
            loop.remove_signal_handler(sig)  # False, and nothing done, if not handled
        # A sibling's certificate install (program/service_tls.py) must not end this process.
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)


async def _service_tls(gatehouse: Gatehouse, servers: list[Server]) -> asyncio.Task[None]:
    """The service certificate installed in the store (install_service_ssl_certificate) on the
    TLS listeners from the start, and followed while serving (program/service_tls.py)."""
    listeners = [s for s in servers if isinstance(s, ReloadableServer)]
    follower = ServiceTls(gatehouse, listeners)
    pair = await asyncio.to_thread(follower.prepare)
    if pair is not None:
        for server in listeners:
            server.use_paths(pair.cert, pair.key)
    return asyncio.create_task(follower.follow())
