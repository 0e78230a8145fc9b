"""A `gatehouse serve` process as in production: one process, plain HTTP on 127.0.0.1 only
(the cPanel ports off), optionally the built-in nameserver on 127.0.0.1, pinned to the server
core."""

from __future__ import annotations

import socket
import subprocess
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.stores import Store, gatehouse_bin
from bench.tools import Pinning

HOST = "127.0.0.1"


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
    stack: ExitStack, store: Store, name: str, pinning: Pinning, *, dns: bool = False
) -> Server:
    """Spawn `gatehouse serve` and wait for its first answered request (the start-up time:
    from spawn to the first 200 on /healthz, polled every 2 ms). With `dns`, the built-in
    nameserver listens too, on a free port of 127.0.0.1 (UDP and TCP)."""
    port = free_port()
    dns_port = free_dns_port() if dns else None
    log_path = store.data_dir / f"{name}.log"
    command = [
        *pinning.server(),
        gatehouse_bin(),
        "serve",
        "--bind",
        HOST,
        "--http-port",
        str(port),
        "--https-port",
        "0",
        "--cpanel-http-port",
        "0",
        "--cpanel-https-port",
        "0",
        *(["--dns-port", str(dns_port), "--dns-bind", HOST] if dns_port is not None else []),
    ]
    client = httpx.Client(timeout=1)  # made before the spawn so it is not timed
    stack.callback(client.close)
    with open(log_path, "ab") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=store.env())
    server = Server(name, store, port, process, log_path, dns_port=dns_port)
    stack.callback(server.stop)
    deadline = started + 60
    while True:
        try:
            if client.get(f"{server.url}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.perf_counter() > deadline:
            raise RuntimeError(f"{name} did not start:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.002)
    server.startup_s = time.perf_counter() - started
    client.close()
    return server
