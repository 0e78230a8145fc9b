"""Drive a URL with wrk (`--latency`) and parse what it prints."""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.tools import Pinning

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}
_PERCENTILE = re.compile(r"^\s+(50|75|90|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s|m)\s*$", re.M)
_RATE = re.compile(r"^Requests/sec:\s+([\d.]+)", re.M)
_TOTAL = re.compile(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m)", re.M)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses: (\d+)")
_SOCKET = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True, slots=True)
class Load:
    """How hard and how long: sized for a 2-core machine (one core for wrk)."""

    threads: int = 1
    connections: int = 32
    warmup_s: float = 1.0
    duration_s: float = 5.0


@dataclass(frozen=True, slots=True)
class WrkResult:
    requests_per_s: float
    p50_ms: float
    p75_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    load_average: float = 0.0  # the machine's 1-minute load average as the run began

    @property
    def clean(self) -> bool:
        return self.non_2xx == 0 and self.socket_errors == 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parse(output: str) -> WrkResult:
    percentiles = {p: float(v) * _UNITS[u] for p, v, u in _PERCENTILE.findall(output)}
    rate = _RATE.search(output)
    total = _TOTAL.search(output)
    if rate is None or total is None or "50" not in percentiles or "99" not in percentiles:
        raise ValueError(f"cannot parse wrk output:\n{output}")
    non_2xx = _NON_2XX.search(output)
    socket = _SOCKET.search(output)
    return WrkResult(
        requests_per_s=float(rate.group(1)),
        p50_ms=percentiles["50"],
        p75_ms=percentiles.get("75", 0.0),
        p90_ms=percentiles.get("90", 0.0),
        p99_ms=percentiles["99"],
        requests=int(total.group(1)),
        seconds=float(total.group(2)) * _UNITS[total.group(3)] / 1000.0,
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in socket.groups()) if socket else 0,
    )


def _lua(authorization: str | None) -> str:
    """The script that sets headers; kept off the command line (and so out of `ps`)."""
    lines = ['wrk.method = "GET"']
    if authorization is not None:
        if any(c in authorization for c in '"\\\n\r'):
            raise ValueError("unexpected character in the Authorization header")
        lines.append(f'wrk.headers["Authorization"] = "{authorization}"')
    return "\n".join(lines) + "\n"


def command_line(
    wrk: str, url: str, script: Path, load: Load, pinning: Pinning, duration: str
) -> list[str]:
    """wrk on the load core (taskset execs wrk: the process is wrk itself, so a signal to it
    reaches wrk), with the request script that sets the headers."""
    return [
        *pinning.client(),
        wrk,
        f"-t{load.threads}",
        f"-c{load.connections}",
        f"-d{duration}",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(script),
        url,
    ]


def run(
    wrk: str,
    url: str,
    authorization: str | None,
    load: Load,
    pinning: Pinning,
    seconds: float,
) -> WrkResult:
    with tempfile.TemporaryDirectory(prefix="gatehouse-bench-wrk-") as tmp:
        script = Path(tmp) / "request.lua"
        script.touch(mode=0o600)
        script.write_text(_lua(authorization))
        command = command_line(wrk, url, script, load, pinning, f"{seconds:g}s")
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=seconds + 60, check=False
        )
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed: {result.stdout}{result.stderr}")
    return parse(result.stdout)
