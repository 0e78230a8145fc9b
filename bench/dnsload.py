"""Nameservers under load: each a UDP port on 127.0.0.1 serving the same zone, checked with a
few questions whose answers are known, then driven by dnsperf in rounds that alternate
between them (so drift in the machine hits them all alike)."""

from __future__ import annotations

import os
import resource
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from statistics import median
from typing import Any

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.rdtypes.ANY.SOA
import dns.rdtypes.txtbase

from bench import dnsperf
from bench.server import HOST
from bench.tools import Pinning, log
from bench.zone import Query

CHECK_TIMEOUT_S = 10.0  # the built-in server parses a changed zone on its first question


@dataclass(frozen=True, slots=True)
class Target:
    key: str  # builtin | powerdns
    title: str
    port: int
    pid: int  # the server process, whose CPU time is read around each run


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system time of a process, all its threads, from /proc/PID/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime (fields 14, 15)


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measured(
    target: Target,
    dnsperf_path: str,
    query_file: Path,
    load: dnsperf.Load,
    pinning: Pinning,
) -> dnsperf.DnsperfResult:
    """One measured run, with the share of a core the server and dnsperf each used: the one
    near 1.0 is what limited the run."""
    server_before, client_before = cpu_seconds(target.pid), children_cpu_seconds()
    result = dnsperf.run(dnsperf_path, target.port, query_file, load, pinning, load.duration_s)
    server_used = cpu_seconds(target.pid) - server_before
    client_used = children_cpu_seconds() - client_before
    return replace(
        result,
        server_cpu=round(server_used / result.seconds, 3),
        client_cpu=round(client_used / result.seconds, 3),
    )


def ask(port: int, name: str, rdtype: str, timeout: float = CHECK_TIMEOUT_S) -> dns.message.Message:
    query = dns.message.make_query(name, dns.rdatatype.from_text(rdtype))
    return dns.query.udp(query, HOST, port=port, timeout=timeout)


def values(response: dns.message.Message, rdtype: str) -> set[str]:
    """The answer's records of `rdtype`, as text (TXT: the strings joined, unquoted)."""
    wanted = dns.rdatatype.from_text(rdtype)
    out: set[str] = set()
    for rrset in response.answer:
        if rrset.rdtype != wanted:
            continue
        for rdata in rrset:
            if isinstance(rdata, dns.rdtypes.txtbase.TXTBase):
                out.add(b"".join(rdata.strings).decode())
            else:
                out.add(rdata.to_text())
    return out


def serial(port: int, apex: str) -> int:
    response = ask(port, apex, "SOA")
    for rrset in response.answer:
        for rdata in rrset:
            if isinstance(rdata, dns.rdtypes.ANY.SOA.SOA):
                return int(rdata.serial)
    raise RuntimeError(f"no SOA in the answer from port {port}: {response}")


def problem(target: Target, q: Query) -> str | None:
    """What is wrong with `target`'s answer to `q`, or None."""
    try:
        response = ask(target.port, q.name, q.rdtype)
    except dns.exception.Timeout:
        return f"{target.key}: {q.name} {q.rdtype}: no answer within {CHECK_TIMEOUT_S:g} s"
    rcode = dns.rcode.to_text(response.rcode())
    if rcode != q.rcode:
        return f"{target.key}: {q.name} {q.rdtype}: {rcode}, expected {q.rcode}"
    if not response.flags & dns.flags.AA:
        return f"{target.key}: {q.name} {q.rdtype}: not authoritative (no AA)"
    missing = set(q.values) - values(response, q.rdtype)
    if missing:
        return f"{target.key}: {q.name} {q.rdtype}: {sorted(missing)} missing from {response}"
    return None


def check(
    targets: Sequence[Target], known: Query, probes: Sequence[Query]
) -> tuple[list[Target], list[str]]:
    """The targets that answer `known` right — the others are not loaded: a run of refusals
    or failures would measure the wrong thing — and the problems seen, to be reported (the
    probes' on the targets kept, and why a target was dropped)."""
    kept: list[Target] = []
    problems: list[str] = []
    for target in targets:
        wrong = problem(target, known)
        if wrong is None:
            kept.append(target)
        else:
            problems.append(f"not loaded, a known name is not answered right: {wrong}")
    problems += [p for t in kept for q in probes if (p := problem(t, q)) is not None]
    return kept, problems


def run_rounds(
    targets: Sequence[Target],
    *,
    rounds: int,
    load: dnsperf.Load,
    dnsperf_path: str,
    query_file: Path,
    pinning: Pinning,
) -> dict[str, list[dnsperf.DnsperfResult]]:
    """`rounds` rounds; in each, every target gets a warm-up and then a measured run."""
    results: dict[str, list[dnsperf.DnsperfResult]] = {t.key: [] for t in targets}
    for n in range(1, rounds + 1):
        for target in targets:
            dnsperf.run(
                dnsperf_path, target.port, query_file, load, pinning, load.warmup_s, verbose=False
            )
            result = measured(target, dnsperf_path, query_file, load, pinning)
            results[target.key].append(result)
            flag = "" if result.clean else f"  (lost {result.lost}, rcodes {result.rcodes})"
            p50 = f"{result.p50_ms:.2f}" if result.p50_ms is not None else "-"
            p99 = f"{result.p99_ms:.2f}" if result.p99_ms is not None else "-"
            log(
                f"round {n}/{rounds} dns {target.key:<9} {result.queries_per_s:>9.0f} q/s  "
                f"p50 {p50} ms  p99 {p99} ms  CPU server {result.server_cpu:.2f} "
                f"dnsperf {result.client_cpu:.2f}{flag}"
            )
    return results


def run_unloaded(
    targets: Sequence[Target],
    *,
    load: dnsperf.Load,
    dnsperf_path: str,
    query_file: Path,
    pinning: Pinning,
) -> dict[str, dnsperf.DnsperfResult]:
    """One run per target with a single query in flight: the time one answer takes, without
    queueing behind others. (Its queries/s say little: with one query in flight dnsperf's
    sending thread paces itself on wake-ups. The latencies are stamped per query.)"""
    single = replace(load, clients=1, outstanding=1)
    out = {}
    for target in targets:
        result = dnsperf.run(
            dnsperf_path, target.port, query_file, single, pinning, single.duration_s
        )
        out[target.key] = result
        p50 = f"{result.p50_ms:.3f}" if result.p50_ms is not None else "-"
        p99 = f"{result.p99_ms:.3f}" if result.p99_ms is not None else "-"
        log(
            f"dns {target.key:<9} one in flight: {result.completed} answers  "
            f"p50 {p50} ms  p99 {p99} ms"
        )
    return out


def medians(runs: Sequence[dnsperf.DnsperfResult]) -> dict[str, Any]:
    def med(values: list[float | None]) -> float | None:
        present = [v for v in values if v is not None]
        return median(present) if present else None

    return {
        "queries_per_s": median(r.queries_per_s for r in runs),
        "p50_ms": med([r.p50_ms for r in runs]),
        "p99_ms": med([r.p99_ms for r in runs]),
        "mean_ms": median(r.mean_ms for r in runs),
        "lost": sum(r.lost for r in runs),
        "failures": sum(r.failures for r in runs),
        "server_cpu": med([r.server_cpu for r in runs]),
        "client_cpu": med([r.client_cpu for r in runs]),
    }
