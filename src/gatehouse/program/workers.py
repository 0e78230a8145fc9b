"""`gatehouse serve --workers N`: N processes serve the same ports, one event loop each.

One Python process runs gatehouse's per-request work on one core (the interpreter's lock), so
a server with more cores needs more processes. The supervisor (this module, the process
systemd or the shell started) prepares what must happen once — the store's migrations, the
data directory's modes, the key ring, the self-signed TLS pair — and then forks the workers.
Each worker is a whole `program.server` process with its own Gatehouse: granian binds every
port with SO_REUSEPORT, so the kernel spreads new connections over the workers. Everything
that must agree across workers already lives in the store and is shared the way it is
shared between nodes: the token cache follows the store's auth generation, cPHulk counts in
the store, the show-once token is in the store, leases elect one AutoSSL runner, each DNS
cluster change is claimed by one sender. What a node does once (its nameserver, its zone
files, the hourly housekeeping) runs in worker 1, the primary.

The supervisor serves nothing itself. It restarts a worker that dies (after a pause that
grows while it keeps dying), stops every worker on SIGTERM or SIGINT, and stops at once —
exit status 1 — if a worker dies before it ever became ready, since a worker that cannot
start (a port taken by another program, a store it cannot open) would only fail again.
Workers ask the kernel for SIGTERM when the supervisor dies, so a killed supervisor never
leaves workers holding the ports.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from types import FrameType

from gatehouse import private_files, tls
from gatehouse.config import Config
from gatehouse.domain.accesshash import KeyRing
from gatehouse.program.server import ListenError, Role, configure_logging, serve
from gatehouse.store import engine as store_engine
from gatehouse.store import migrate

log = logging.getLogger("gatehouse.program.workers")

STOP_GRACE = 10.0  # seconds a worker has to stop after SIGTERM before it is killed
RESTART_PAUSE = (0.5, 30.0)  # the first pause before restarting a dead worker, and the longest
STEADY = 60.0  # a worker that served this long before dying is restarted after the first pause
PR_SET_PDEATHSIG = 1


def usable_cores() -> int:
    """The cores this process may run on (its affinity: taskset, a cgroup's cpuset)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def worker_count(config: Config) -> int:
    return config.workers if config.workers > 0 else usable_cores()


def prepare(config: Config) -> None:
    """What every worker would otherwise race to do: migrate the store (a newer schema than
    this version knows stops here, in plain words), tighten the data directory, make the key
    ring's key and the self-signed TLS pair."""
    for change in private_files.secure(config):
        log.warning("tightened what other local users could read: %s", change)
    engine = store_engine.create(config.resolved_database_url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    KeyRing(config.data_dir, config.secret_key)
    tls_ports = config.https_port or config.cpanel_https_port
    if tls_ports and tls.ensure_self_signed(config.cert_path, config.key_path):
        log.info("made a self-signed certificate at %s", config.cert_path)


@dataclass
class _Worker:
    role: Role
    process: BaseProcess
    ready: multiprocessing.connection.Connection
    started: float
    became_ready: bool = False


@dataclass
class Supervisor:
    config: Config
    count: int
    context: multiprocessing.context.ForkContext = field(
        default_factory=lambda: multiprocessing.get_context("fork")
    )
    workers: dict[int, _Worker] = field(default_factory=dict)
    stopping: bool = False
    pauses: dict[int, float] = field(default_factory=dict)

    def run(self) -> int:
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            for index in range(self.count):
                self._start(index)
            log.info(
                "serving with %d worker processes (supervisor pid %d)", self.count, os.getpid()
            )
            return self._watch()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _start(self, index: int) -> None:
        receiver, sender = self.context.Pipe(duplex=False)
        role = Role(index, self.count)
        process = self.context.Process(
            target=_worker_main,
            args=(self.config, role, sender, os.getpid()),
            name=f"gatehouse-worker-{index + 1}",
        )
        process.start()
        sender.close()
        self.workers[index] = _Worker(role, process, receiver, time.monotonic())

    def _watch(self) -> int:
        while not self.stopping:
            waitables: list[object] = []
            for worker in self.workers.values():
                waitables.append(worker.process.sentinel)
                if not worker.became_ready:
                    waitables.append(worker.ready)
            multiprocessing.connection.wait(waitables, timeout=0.5)  # type: ignore[arg-type]
            for index, worker in list(self.workers.items()):
                if not worker.became_ready and worker.ready.poll():
                    with contextlib.suppress(EOFError, OSError):
                        worker.ready.recv()
                        worker.became_ready = True
                if worker.process.is_alive() or self.stopping:
                    continue
                code = worker.process.exitcode
                if not worker.became_ready:
                    log.error(
                        "worker %d of %d exited (status %s) before it was ready: stopping",
                        index + 1,
                        self.count,
                        code,
                    )
                    return 1
                self._restart(index, code)
        log.info("stopping %d worker processes", len(self.workers))
        return 0

    def _restart(self, index: int, code: int | None) -> None:
        worker = self.workers.pop(index)
        worker.ready.close()
        lived = time.monotonic() - worker.started
        first, longest = RESTART_PAUSE
        pause = first if lived >= STEADY else min(longest, self.pauses.get(index, first) * 2)
        self.pauses[index] = pause
        log.error(
            "worker %d of %d (pid %s) exited with status %s; starting it again in %.1f s",
            index + 1,
            self.count,
            worker.process.pid,
            code,
            pause,
        )
        deadline = time.monotonic() + pause
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(0.1)
        if not self.stopping:
            self._start(index)

    def _stop_all(self) -> None:
        for worker in self.workers.values():
            if worker.process.is_alive():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.process.pid or 0, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for worker in self.workers.values():
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                log.warning("worker %d did not stop in time: killed", worker.role.index + 1)
                worker.process.kill()
                worker.process.join(1)
            worker.ready.close()
        self.workers.clear()


def _die_with_parent(parent: int) -> None:
    """SIGTERM to this worker when the supervisor dies (Linux); and if it is already gone,
    stop now."""
    libc_name = ctypes.util.find_library("c")
    if libc_name and sys.platform.startswith("linux"):
        libc = ctypes.CDLL(libc_name, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)


def _worker_main(
    config: Config, role: Role, ready: multiprocessing.connection.Connection, parent: int
) -> None:
    _die_with_parent(parent)
    # The supervisor's handlers only set its flag: a worker stops the way a lone server does.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)

    def tell_ready() -> None:
        with contextlib.suppress(OSError):
            ready.send(role.index)
            ready.close()

    try:
        serve(config, role, tell_ready)
    except ListenError as exc:
        log.error("worker %d of %d: %s", role.index + 1, role.count, exc)
        sys.exit(1)


def serve_workers(config: Config, count: int) -> None:
    """Prepare once, then run `count` workers until SIGTERM/SIGINT; exit 1 if one cannot
    start."""
    configure_logging()
    prepare(config)
    code = Supervisor(config, count).run()
    if code:
        raise SystemExit(code)
