"""External tools the benchmark needs: wrk, PostgreSQL, and CPU pinning with taskset."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package if it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    log("wrk is missing; installing it with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, check=True)
        subprocess.run(install, env=env, check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk could not be installed")
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


def _taskset(cpu: int | None) -> list[str]:
    return ["taskset", "-c", str(cpu)] if cpu is not None else []
