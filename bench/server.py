"""A `gatehouse serve` process as in production, pinned to the server core: one process, on
127.0.0.1 only, either in the default configuration (`DEFAULT`: the four listeners `make run`
opens — WHM and cPanel, plain HTTP and TLS — on free ports) or with the WHM plain-HTTP port
alone (`WHM_ONLY`); optionally the built-in nameserver on 127.0.0.1. And the floor: a bare
ASGI application on the same granian (`bench/bare.py`)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.stores import Store, gatehouse_bin
from bench.tools import Pinning

HOST = "127.0.0.1"
_ROOT = Path(__file__).resolve().parent.parent  # `python -m bench.bare` runs from here
DEFAULT = "default"  # WHM and cPanel, plain HTTP and TLS: what `gatehouse serve` opens
WHM_ONLY = "whm-only"  # the WHM plain-HTTP port alone


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def free_dns_port() -> int:
    """A port free on 127.0.0.1 for both TCP and UDP (a nameserver takes both)."""
    for _ in range(100):
        port = free_port()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            try:
                udp.bind((HOST, port))
            except OSError:
                continue
            return port
    raise RuntimeError("no port free for both TCP and UDP on 127.0.0.1")


@dataclass
class Server:
    name: str
    store: Store
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    startup_s: float = 0.0
    dns_port: int | None = None
    cpanel_port: int | None = None  # the cPanel face's plain-HTTP port (`DEFAULT` only)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def memory_kib(self) -> dict[str, int]:
        """VmRSS and VmHWM (peak RSS) from /proc/PID/status, in KiB."""
        out: dict[str, int] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
        return out

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(
    stack: ExitStack,
    store: Store,
    name: str,
    pinning: Pinning,
    *,
    dns: bool = False,
    listeners: str = WHM_ONLY,
    workers: int | None = None,
    env: dict[str, str] | None = None,
) -> Server:
    """Spawn `gatehouse serve` and wait for its first answered request (the start-up time:
    from spawn to the first 200 on /healthz, polled every 2 ms). `listeners`: `WHM_ONLY` or
    `DEFAULT` (the load always goes to the WHM plain-HTTP port). With `dns`, the built-in
    nameserver listens too, on a free port of 127.0.0.1 (UDP and TCP)."""
    port = free_port()
    dns_port = free_dns_port() if dns else None
    log_path = store.data_dir / f"{name}.log"
    if listeners == DEFAULT:
        others = [str(free_port()) for _ in range(3)]
    elif listeners == WHM_ONLY:
        others = ["0", "0", "0"]
    else:
        raise ValueError(f"unknown listeners {listeners!r}")
    command = [
        *pinning.server(),
        gatehouse_bin(),
        "serve",
        "--bind",
        HOST,
        "--http-port",
        str(port),
        "--https-port",
        others[0],
        "--cpanel-http-port",
        others[1],
        "--cpanel-https-port",
        others[2],
        *(["--dns-port", str(dns_port), "--dns-bind", HOST] if dns_port is not None else []),
        *(["--workers", str(workers)] if workers is not None else []),
    ]
    server = _spawn(stack, store, name, port, command, log_path, "/healthz", dns_port, env)
    server.cpanel_port = int(others[1]) or None
    return server


def start_bare(
    stack: ExitStack,
    store: Store,
    name: str,
    pinning: Pinning,
    response: httpx.Response,
    *,
    rsgi: bool = False,
) -> Server:
    """The floor (`bench/bare.py`): a bare ASGI app answering every request with exactly
    `response`'s status, headers and body, on the same granian, pinned like the servers
    (`rsgi`: through granian's RSGI interface instead)."""
    port = free_port()
    path = store.data_dir / f"{name}.response.json"
    headers = [
        (k, v)
        for k, v in response.headers.items()
        if k.lower() not in ("date", "server", "content-length", "transfer-encoding")
    ]
    path.write_text(
        json.dumps({"status": response.status_code, "headers": headers, "body": response.text})
    )
    log_path = store.data_dir / f"{name}.log"
    command = [*pinning.server(), sys.executable, "-m", "bench.bare", str(port), str(path)]
    if rsgi:
        command.append("--rsgi")
    return _spawn(stack, store, name, port, command, log_path, "/", None)


def _spawn(
    stack: ExitStack,
    store: Store,
    name: str,
    port: int,
    command: list[str],
    log_path: Path,
    probe: str,
    dns_port: int | None,
    env: dict[str, str] | None = None,
) -> Server:
    client = httpx.Client(timeout=1)  # made before the spawn so it is not timed
    stack.callback(client.close)
    with open(log_path, "ab") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**store.env(), **(env or {})},
            cwd=_ROOT,
        )
    server = Server(name, store, port, process, log_path, dns_port=dns_port)
    stack.callback(server.stop)
    deadline = started + 60
    while True:
        try:
            if client.get(f"{server.url}{probe}").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.perf_counter() > deadline:
            raise RuntimeError(f"{name} did not start:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.002)
    server.startup_s = time.perf_counter() - started
    client.close()
    return server
