"""PowerDNS Authoritative (Debian's pdns-server with pdns-backend-bind) serving the zone files
gatehouse writes for a store: its bind backend reads `named.conf.zones`, which names every
`<zone>.db`. Started the way the tests start it — its own empty configuration directory and
control-socket directory, on a free port of 127.0.0.1, in the foreground, no syslog, no pid
file — plus no security poll (a DNS query to the outside world at start-up), and pinned to
the server core like gatehouse. Everything else is PowerDNS's default, its packet cache
included: PowerDNS as an operator would run it."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import dns.exception
import dns.message
import dns.query
import dns.rdatatype

from bench.server import HOST, free_dns_port
from bench.stores import Store
from bench.tools import Pinning

INCLUDE = "named.conf.zones"
START_TIMEOUT_S = 60.0


@dataclass
class PowerDns:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    startup_s: float = 0.0

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def pdns_server() -> str:
    found = shutil.which("pdns_server") or shutil.which("pdns_server", path="/usr/sbin:/sbin")
    if not found:
        raise RuntimeError(
            "pdns_server is missing (Debian packages pdns-server, pdns-backend-bind)"
        )
    return found


def start(stack: ExitStack, store: Store, pinning: Pinning, apex: str) -> PowerDns:
    """pdns_server on the store's zone directory; returns once it answers `apex` SOA."""
    include = store.zone_dir / INCLUDE
    if not include.exists():
        raise RuntimeError(f"gatehouse has not written {include}")
    home = Path(tempfile.mkdtemp(prefix="gatehouse-bench-pdns-"))
    stack.callback(shutil.rmtree, home, ignore_errors=True)
    (home / "config").mkdir()
    (home / "config" / "pdns.conf").touch(mode=0o600)
    (home / "sockets").mkdir()
    port = free_dns_port()
    command = [
        *pinning.server(),
        pdns_server(),
        f"--config-dir={home / 'config'}",
        "--launch=bind",
        f"--bind-config={include}",
        f"--local-address={HOST}",
        f"--local-port={port}",
        f"--socket-dir={home / 'sockets'}",
        "--daemon=no",
        "--guardian=no",
        "--disable-syslog=yes",
        "--write-pid=no",
        "--security-poll-suffix=",  # no status query to the outside world
    ]
    log_path = home / "pdns.log"
    with open(log_path, "ab") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=home)
    pdns = PowerDns(port, process, log_path)
    stack.callback(pdns.stop)
    query = dns.message.make_query(f"{apex}.", dns.rdatatype.SOA)
    deadline = started + START_TIMEOUT_S
    while True:
        try:
            dns.query.udp(query, HOST, port=port, timeout=0.2)
            break
        except (dns.exception.Timeout, OSError):
            pass
        if process.poll() is not None or time.perf_counter() > deadline:
            raise RuntimeError(f"pdns_server did not start:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.01)
    pdns.startup_s = time.perf_counter() - started
    return pdns
