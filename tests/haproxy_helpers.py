"""A real HAProxy (Debian's) running deploy/haproxy.cfg on loopback in front of test nodes:
tests/test_trusted_proxies.py (one node behind both of its servers) and
tests/test_haproxy_nodes.py (two nodes). Skipped without HAProxy, failed when CI=true
(scripts/ensure-test-tools installs it)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import Server, free_port

ROOT = Path(__file__).resolve().parent.parent
HAPROXY_CFG = ROOT / "deploy" / "haproxy.cfg"
FRONTS = (2087, 2083)


def tool(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")


def need(name: str, package: str) -> str:
    path = tool(name)
    if path is None:
        why = (
            f"`{name}` is not installed (Debian: apt-get install {package}; "
            "scripts/ensure-test-tools installs it as root)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)
    return path


def front_pem(node: Server, into: Path) -> Path:
    """The node's own certificate and key in one file, as HAProxy's `crt` wants them: the
    fronts present it, so a client verifies them with `node.tls()`."""
    tls = node.data_dir / "tls"
    into.write_text((tls / "cert.pem").read_text() + (tls / "key.pem").read_text())
    return into


def nodes_ca(nodes: list[Server], into: Path) -> Path:
    """Every node's self-signed certificate in one file: HAProxy verifies the nodes with it."""
    into.write_text("".join((n.data_dir / "tls" / "cert.pem").read_text() for n in nodes))
    return into


def with_files(cfg: str, pem: Path, ca: Path) -> str:
    return cfg.replace("/etc/haproxy/certs/gatehouse.pem", str(pem)).replace(
        "/etc/haproxy/gatehouse-nodes.pem", str(ca)
    )


def for_loopback(
    cfg: str, pem: Path, ca: Path, fronts: dict[int, int], servers: dict[str, Server]
) -> str:
    """deploy/haproxy.cfg on loopback: its fronts on free ports, each `server` line (node1,
    node2) on the test node given for it, no syslog nor user switch (a test runs it in the
    foreground, maybe not as root)."""
    lines = []
    for line in with_files(cfg, pem, ca).splitlines():
        words = line.split()
        if words[:1] in (["log"], ["user"], ["group"]) and words[1:2] != ["global"]:
            continue
        if words[:1] == ["bind"] and words[1].startswith(":"):
            port = int(words[1][1:])
            line = line.replace(f":{port}", f"127.0.0.1:{fronts[port]}", 1)
        if words[:1] == ["server"]:
            node = servers[words[1]]
            port = int(words[2].rsplit(":", 1)[1])
            local = {2087: node.https_port, 2083: node.cpanel_https_port}[port]
            line = line.replace(words[2], f"127.0.0.1:{local}")
        lines.append(line)
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def running_haproxy(
    workdir: Path, servers: dict[str, Server], verify: Server
) -> Iterator[dict[int, str]]:
    """HAProxy with deploy/haproxy.cfg in front of `servers` (node1, node2), its fronts
    presenting `verify`'s certificate, which is also the one it trusts for the nodes (every
    node serves it, as docs/deployment.md advises); yields the URL of each front."""
    binary = need("haproxy", "haproxy")
    fronts = {port: free_port() for port in FRONTS}
    nodes = [verify]
    cfg = workdir / "haproxy.cfg"
    cfg.write_text(
        for_loopback(
            HAPROXY_CFG.read_text(),
            front_pem(verify, workdir / "front.pem"),
            nodes_ca(nodes, workdir / "nodes.pem"),
            fronts,
            servers,
        )
    )
    log = workdir / "haproxy.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([binary, "-db", "-f", str(cfg)], stdout=out, stderr=out)
    urls = {port: f"https://127.0.0.1:{front}" for port, front in fronts.items()}
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                answer = httpx.get(f"{urls[2087]}/healthz", timeout=1, verify=verify.tls())
                if answer.status_code == 200:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"haproxy did not come up:\n{log.read_text()}")
            time.sleep(0.1)
        yield urls
    finally:
        process.terminate()
        process.wait(timeout=10)
