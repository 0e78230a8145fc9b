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
installed by another process (`gatehouse whmapi1`, another worker, another node on the
store) is served within that time.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from granian.server.embed import Server

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

    def prepare(self) -> tuple[Path, Path] | None:
        """Before serving (blocking): the store's certificate as files, and their paths; None
        when none is installed (the self-signed or configured pair is served)."""
        config = self.gatehouse.config
        found = service_ssl.write_files(
            self.gatehouse.engine, self.gatehouse.keyring, config.data_dir
        )
        if found is None:
            return None
        self.served = found
        return service_ssl.file_paths(config.data_dir)

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
            if found is None or found == self.served:
                return
            cert, key = service_ssl.file_paths(config.data_dir)
            for server in self.servers:
                await server.use_certificate(cert, key)
            self.served = found
            log.info("serving the installed service certificate %s", found[:16])

    def changed(self) -> None:
        """From an installing call's thread: apply now and wait for it (bounded)."""
        loop = self.loop
        if loop is None or not self.servers:
            return
        future = asyncio.run_coroutine_threadsafe(self.apply(), loop)
        future.result(APPLY_WAIT)

    async def follow(self) -> None:
        """Poll the store: a certificate installed elsewhere is served within POLL seconds."""
        self.loop = asyncio.get_running_loop()
        self.gatehouse.service_certificate_changed = self.changed
        while True:
            await asyncio.sleep(POLL)
            try:
                current = await asyncio.to_thread(self._fingerprint)
                if current is not None and current != self.served:
                    await self.apply()
            except Exception:
                log.exception("serving the service certificate failed; retried shortly")

    def _fingerprint(self) -> str | None:
        with self.gatehouse.engine.connect() as conn:
            return service_ssl.fingerprint(conn)
