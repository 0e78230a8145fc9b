"""The service certificate on this process's TLS listeners, without a restart
(docs/ssl.md#the-service-certificate).

granian reads a listener's certificate and key when it builds a worker (its Rust side loads
the files into its TLS configuration once), and re-reads nothing per handshake. What it does
allow is what its SIGHUP reload does: a new worker spawned on the SAME listening socket, then
the old one told to stop. `apply` does exactly that for each TLS listener of this process,
with the new files' paths and no pause in between (granian's reload waits 3.5 s by default):
the socket is never closed, so no connection is refused — one that arrives during the swap
waits in the kernel's accept queue and is taken by the new worker. The old worker stops
accepting at once and finishes what it was answering. Measured on this machine: the swap takes
1–5 ms, and every handshake after it presents the new certificate.

How a change arrives: the API call that installs a certificate (in this process) calls
`Gatehouse.service_certificate_changed`, which runs `apply` on the event loop and waits for
it; every process also polls the store's fingerprint every POLL seconds, so a certificate
installed by another process (`gatehouse whmapi1`, another node on the store) is served
within that time.

The other worker processes of the same node (`gatehouse serve --workers N`) are waited for
too: each process notes the fingerprint it serves in `<data dir>/tls/served/<pid>`; the
installing call wakes its siblings (SIGUSR1 to the processes with the same parent — the
supervisor — found there) and returns once each notes the new fingerprint (or is gone), so
the caller's next handshake meets the new certificate whichever worker the kernel picks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

from granian.server.embed import Server

from gatehouse import private_files
from gatehouse.core import Gatehouse
from gatehouse.domain import service_ssl

POLL = 1.0  # seconds between two looks at the store's service certificate
APPLY_WAIT = 10.0  # seconds an installing call waits for its own process to serve it
log = logging.getLogger("gatehouse.program.service_tls")


class ReloadableServer(Server):
    """granian's embedded server, keeping what it was started with so that its workers can
    be replaced (granian.server.embed.Server._serve)."""

    _spawn_target: Any = None
    _target: Any = None

    async def _serve(self, spawn_target: Any, target_loader: Any) -> None:
        # What granian's own start passes its workers: the spawner and the loaded application.
        self._spawn_target, self._target = spawn_target, target_loader()
        await super()._serve(spawn_target, target_loader)  # type: ignore[no-untyped-call]

    async def use_certificate(self, cert: Path, key: Path) -> None:
        """Serve `cert`/`key` from the next accepted connection on."""
        self.use_paths(cert, key)
        if self._spawn_target is None:  # not serving yet: its start reads them
            return
        for idx in range(len(self.wrks)):
            old = self.wrks.pop(idx)
            new = self._spawn_worker(
                idx=idx, target=self._spawn_target, callback_loader=self._target
            )
            new.start()  # type: ignore[no-untyped-call]
            self.wrks.insert(idx, new)
            await asyncio.sleep(0)  # the new worker starts serving on the same socket
            old.terminate()  # type: ignore[no-untyped-call]
            asyncio.get_running_loop().create_task(_reap(old))

    def use_paths(self, cert: Path, key: Path) -> None:
        """The files its next workers load."""
        _on, _cert, _key, password, proto, ca, crl, verify = self.ssl_ctx
        paths: Any = (True, str(cert), str(key), password, proto, ca, crl, verify)
        self.ssl_ctx = paths


async def _reap(worker: Any) -> None:
    """Wait for a replaced worker to finish the requests it was answering."""
    try:
        await worker.join(30)
    except Exception:  # a worker that will not stop is killed
        worker.kill()


class ServiceTls:
    """This process's TLS listeners and the service certificate they present."""

    def __init__(self, gatehouse: Gatehouse, servers: list[ReloadableServer]) -> None:
        self.gatehouse = gatehouse
        self.servers = servers
        self.served: str | None = None  # the store's fingerprint being served; None: none
        self.lock = asyncio.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.wake: asyncio.Event | None = None
        self.notes = gatehouse.config.data_dir / "tls" / "served"
        self.failed: str | None = None  # the certificate that could not be served (logged once)

    def prepare(self) -> service_ssl.PairFiles | None:
        """Before serving (blocking): the store's certificate as files, and their paths; None
        when none is installed (the self-signed or configured pair is served)."""
        config = self.gatehouse.config
        try:
            found = service_ssl.write_files(
                self.gatehouse.engine, self.gatehouse.keyring, config.data_dir
            )
        except Exception:  # e.g. a GATEHOUSE_SECRET_KEY that is not the store's
            log.exception(
                "the installed service certificate cannot be served; serving %s", config.cert_path
            )
            found = None
            with contextlib.suppress(Exception):
                self.failed = self._fingerprint()  # said now: not again at every poll
        self._note(found.fingerprint if found is not None else None)
        self._sweep()
        if found is None:
            return None
        self.served = found.fingerprint
        return found

    async def apply(self) -> None:
        """Serve the store's certificate now, if it is not the one being served."""
        async with self.lock:
            config = self.gatehouse.config
            found = await asyncio.to_thread(
                service_ssl.write_files,
                self.gatehouse.engine,
                self.gatehouse.keyring,
                config.data_dir,
            )
            if found is None or found.fingerprint == self.served:
                return
            for server in self.servers:
                await server.use_certificate(found.cert, found.key)
            self.served = found.fingerprint
            await asyncio.to_thread(self._note, found.fingerprint)
            await asyncio.to_thread(self._sweep)
            log.info("serving the installed service certificate %s", found.fingerprint[:16])

    def changed(self) -> None:
        """From an installing call's thread: apply now and wait for it (bounded)."""
        loop = self.loop
        if loop is None or not self.servers:
            return
        deadline = time.monotonic() + APPLY_WAIT
        future = asyncio.run_coroutine_threadsafe(self.apply(), loop)
        future.result(APPLY_WAIT)
        self._wait_for_siblings(self.served, deadline)

    async def follow(self) -> None:
        """Poll the store: a certificate installed elsewhere is served within POLL seconds."""
        self.loop = asyncio.get_running_loop()
        self.wake = asyncio.Event()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            self.loop.add_signal_handler(signal.SIGUSR1, self.wake.set)
        self.gatehouse.service_certificate_changed = self.changed
        try:
            await self._follow(self.wake)
        finally:
            with contextlib.suppress(OSError):
                (self.notes / str(os.getpid())).unlink()

    async def _follow(self, wake: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), POLL)
            wake.clear()
            current = None
            try:
                current = await asyncio.to_thread(self._fingerprint)
                if current is not None and current != self.served:
                    await self.apply()
                self.failed = None
            except Exception:
                # e.g. a node whose GATEHOUSE_SECRET_KEY is not the store's: it cannot decrypt
                # the key, keeps serving what it served, and says so once per certificate.
                if current != self.failed:
                    log.exception(
                        "serving the service certificate %s failed; the current one stays "
                        "served, and it is retried every %.0f s",
                        (current or "?")[:16],
                        POLL,
                    )
                self.failed = current

    def _fingerprint(self) -> str | None:
        with self.gatehouse.engine.connect() as conn:
            return service_ssl.fingerprint(conn)

    # -- the other workers of this node -----------------------------------------------------------

    def _note(self, fingerprint: str | None) -> None:
        """Note what this process serves, for its siblings (a private folder of the data dir)."""
        try:
            private_files.make_dir(self.notes, private_files.PRIVATE_DIR)
            note = self.notes / str(os.getpid())
            temporary = note.with_name(f".{note.name}.tmp")
            started = _identity(os.getpid())[1]
            text = f"{fingerprint or '-'} {started}"
            private_files.write_private(temporary, text.encode())
            temporary.replace(note)
        except OSError:
            log.exception("noting the served service certificate failed")

    def _sweep(self) -> None:
        """Remove the pairs no live process of any node sharing this data directory serves."""
        served = set()
        if self.served is not None:
            served.add(self.served)
        with contextlib.suppress(OSError):
            for entry in self.notes.iterdir():
                note = self._read_note(int(entry.name)) if entry.name.isdigit() else []
                alive = len(note) == 2 and _identity(int(entry.name))[1] == note[1]
                if alive and note[0] != "-":
                    served.add(note[0])
        try:
            service_ssl.sweep_files(self.gatehouse.config.data_dir, served)
        except OSError:
            log.exception("removing the service certificates no longer served failed")

    def _siblings(self) -> list[int]:
        """The other live worker processes of this node: the same parent (the supervisor)."""
        own, parent = os.getpid(), os.getppid()
        found = []
        with contextlib.suppress(OSError):
            for entry in self.notes.iterdir():
                if not entry.name.isdigit() or int(entry.name) == own:
                    continue
                pid = int(entry.name)
                if self._alive_sibling(pid, parent):
                    found.append(pid)
                else:  # a process that is gone (or not ours): its note goes
                    with contextlib.suppress(OSError):
                        entry.unlink()
        return found

    def _wait_for_siblings(self, fingerprint: str | None, deadline: float) -> None:
        if fingerprint is None:
            return
        waiting = self._siblings()
        for pid in waiting:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGUSR1)
        while waiting:
            parent = os.getppid()
            waiting = [
                pid
                for pid in waiting
                if self._alive_sibling(pid, parent) and self._noted(pid) != fingerprint
            ]
            if not waiting:
                return
            if time.monotonic() > deadline:
                log.warning(
                    "%d worker(s) did not serve the new service certificate within %.0f s; "
                    "they will at their next poll",
                    len(waiting),
                    APPLY_WAIT,
                )
                return
            time.sleep(0.02)

    def _read_note(self, pid: int) -> list[str]:
        try:
            return (self.notes / str(pid)).read_text().split()
        except OSError:
            return []

    def _noted(self, pid: int) -> str | None:
        note = self._read_note(pid)
        return note[0] if note else None

    def _alive_sibling(self, pid: int, parent: int) -> bool:
        """The process that wrote the note is alive (same pid AND start time: a pid reused by
        another program is never signalled) and has our parent."""
        note = self._read_note(pid)
        ppid, started = _identity(pid)
        return len(note) == 2 and started is not None and note[1] == started and ppid == parent


def _identity(pid: int) -> tuple[int | None, str | None]:
    """A process's parent and start time (Linux's /proc), or Nones when it is gone or cannot
    be read: a pid and its start time name one process for ever."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None, None
    # "pid (comm) state ppid ... starttime(22nd)": comm may hold spaces and parentheses; the
    # last ")" ends it, and the fields after it start at the 3rd.
    fields = stat[stat.rindex(")") + 2 :].split()
    if len(fields) < 20:
        return None, None
    return int(fields[1]), fields[19]
