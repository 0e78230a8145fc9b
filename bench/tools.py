"""External tools the benchmark needs: wrk, dnsperf, PostgreSQL, and CPU pinning with taskset."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package if it is missing."""
    return ensure_command("wrk", "wrk")


def ensure_dnsperf() -> str:
    """The path of dnsperf (DNS-OARC's load generator), from Debian's package if missing."""
    return ensure_command("dnsperf", "dnsperf")


def ensure_command(command: str, package: str) -> str:
    """The path of `command`, installing Debian's `package` with apt-get if it is missing
    (which needs root: otherwise the error says what to install)."""
    found = shutil.which(command)
    if found:
        return found
    if os.geteuid() != 0:
        raise RuntimeError(f"{command} is missing: install the Debian package {package}")
    log(f"{command} is missing; installing {package} with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", package]
    if subprocess.run(install, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True)
        subprocess.run(install, env=env, check=True)
    found = shutil.which(command)
    if not found:
        raise RuntimeError(f"{command} could not be installed")
    return found


def postgres_admin_url() -> str | None:
    """A PostgreSQL URL whose role may CREATE DATABASE, from scripts/ensure-postgres."""
    script = REPO / "scripts" / "ensure-postgres"
    result = subprocess.run(
        ["bash", "-c", f'eval "$({script})" && printf %s "${{GATEHOUSE_TEST_POSTGRES_URL:-}}"'],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not result.stdout.strip():
        log(f"no PostgreSQL available: {result.stderr.strip()}")
        return None
    return result.stdout.strip()


@dataclass(frozen=True, slots=True)
class Pinning:
    """Which core the server runs on and which the load generator runs on."""

    server_cpu: int | None
    client_cpu: int | None

    @classmethod
    def plan(cls) -> Pinning:
        cpus = sorted(os.sched_getaffinity(0))
        if len(cpus) >= 2 and shutil.which("taskset"):
            return cls(cpus[0], cpus[1])
        return cls(None, None)

    def server(self) -> list[str]:
        return _taskset(self.server_cpu)

    def client(self) -> list[str]:
        return _taskset(self.client_cpu)

    @contextmanager
    def harness_on_client(self) -> Iterator[None]:
        """Run this (the harness's) process on the load core meanwhile: calls it times itself
        then never take the server's CPU."""
        if self.client_cpu is None:
            yield
            return
        before = os.sched_getaffinity(0)
        os.sched_setaffinity(0, {self.client_cpu})
        try:
            yield
        finally:
            os.sched_setaffinity(0, before)


def _taskset(cpu: int | None) -> list[str]:
    return ["taskset", "-c", str(cpu)] if cpu is not None else []
