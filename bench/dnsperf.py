"""Drive a nameserver with dnsperf (DNS-OARC, Debian's package) over UDP and parse what it
prints: its statistics block, and with `-v` one line per query (`> RCODE name TYPE seconds`),
from which the latency percentiles are computed (dnsperf 2.10 prints only the mean)."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.server import HOST
from bench.stats import percentile
from bench.tools import Pinning

_SENT = re.compile(r"^\s+Queries sent:\s+(\d+)", re.M)
_COMPLETED = re.compile(r"^\s+Queries completed:\s+(\d+)", re.M)
_LOST = re.compile(r"^\s+Queries lost:\s+(\d+)", re.M)
_INTERRUPTED = re.compile(r"^\s+Queries interrupted:\s+(\d+)", re.M)
_RCODES = re.compile(r"^\s+Response codes:\s+(.*)$", re.M)
_RCODE = re.compile(r"([A-Z0-9]+) (\d+) \(")
_RUNTIME = re.compile(r"^\s+Run time \(s\):\s+([\d.]+)", re.M)
_QPS = re.compile(r"^\s+Queries per second:\s+([\d.]+)", re.M)
_LATENCY = re.compile(r"^\s+Average Latency \(s\):\s+([\d.]+) \(min ([\d.]+), max ([\d.]+)\)", re.M)
_STDDEV = re.compile(r"^\s+Latency StdDev \(s\):\s+([\d.]+)", re.M)
_VERBOSE = re.compile(r"^> (\S+) \S+ \S+ ([\d.]+)$", re.M)


@dataclass(frozen=True, slots=True)
class Load:
    """How hard and how long. One dnsperf thread on the load core; `outstanding` queries in
    flight at most (wrk's 32 connections, in DNS terms), sent from `clients` sockets."""

    clients: int = 4
    outstanding: int = 32
    timeout_s: float = 5.0
    warmup_s: float = 1.0
    duration_s: float = 5.0


@dataclass(frozen=True, slots=True)
class DnsperfResult:
    queries_per_s: float
    sent: int
    completed: int
    lost: int  # no answer within the timeout
    interrupted: int  # still in flight when the time limit ended the run
    seconds: float
    mean_ms: float
    min_ms: float
    max_ms: float
    stddev_ms: float
    p50_ms: float | None  # from the per-query lines (-v)
    p99_ms: float | None
    rcodes: dict[str, int] = field(default_factory=dict)
    # Share of one core used during the run (set by the caller): the server's, dnsperf's.
    server_cpu: float | None = None
    client_cpu: float | None = None

    @property
    def failures(self) -> int:
        """Answers that are not an authoritative server's normal ones, plus the lost."""
        bad = sum(n for code, n in self.rcodes.items() if code not in ("NOERROR", "NXDOMAIN"))
        return bad + self.lost

    @property
    def clean(self) -> bool:
        return self.failures == 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _int(pattern: re.Pattern[str], output: str, default: int | None = None) -> int:
    m = pattern.search(output)
    if m is None:
        if default is not None:
            return default
        raise ValueError(f"cannot parse dnsperf output ({pattern.pattern}):\n{output[-3000:]}")
    return int(m.group(1))


def parse(output: str) -> DnsperfResult:
    qps = _QPS.search(output)
    runtime = _RUNTIME.search(output)
    latency = _LATENCY.search(output)
    stddev = _STDDEV.search(output)
    if qps is None or runtime is None or latency is None:
        raise ValueError(f"cannot parse dnsperf output:\n{output[-3000:]}")
    rcodes: dict[str, int] = {}
    found = _RCODES.search(output)
    if found is not None:
        rcodes = {code: int(n) for code, n in _RCODE.findall(found.group(1))}
    answered = [float(s) * 1000 for code, s in _VERBOSE.findall(output) if code != "T"]
    answered.sort()
    return DnsperfResult(
        queries_per_s=float(qps.group(1)),
        sent=_int(_SENT, output),
        completed=_int(_COMPLETED, output),
        lost=_int(_LOST, output),
        interrupted=_int(_INTERRUPTED, output, default=0),
        seconds=float(runtime.group(1)),
        mean_ms=float(latency.group(1)) * 1000,
        min_ms=float(latency.group(2)) * 1000,
        max_ms=float(latency.group(3)) * 1000,
        stddev_ms=float(stddev.group(1)) * 1000 if stddev else 0.0,
        p50_ms=percentile(answered, 50) if answered else None,
        p99_ms=percentile(answered, 99) if answered else None,
        rcodes=rcodes,
    )


def command(
    dnsperf: str,
    port: int,
    query_file: Path,
    load: Load,
    pinning: Pinning,
    seconds: float,
    *,
    verbose: bool = True,
) -> Sequence[str]:
    return [
        *pinning.client(),
        dnsperf,
        "-s",
        HOST,
        "-p",
        str(port),
        "-m",
        "udp",
        "-d",
        str(query_file),
        "-l",
        f"{seconds:g}",
        "-c",
        str(load.clients),
        "-T",
        "1",
        "-q",
        str(load.outstanding),
        "-t",
        f"{load.timeout_s:g}",
        *(["-v"] if verbose else []),
    ]


def run(
    dnsperf: str,
    port: int,
    query_file: Path,
    load: Load,
    pinning: Pinning,
    seconds: float,
    *,
    verbose: bool = True,
) -> DnsperfResult:
    argv = command(dnsperf, port, query_file, load, pinning, seconds, verbose=verbose)
    result = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=seconds + load.timeout_s + 60,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"dnsperf failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")
    return parse(result.stdout)
