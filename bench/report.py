"""Medians, ratios against the issue's targets, the printed tables and the JSON file."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import wrk
from bench.scenarios import BY_KEY

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True, slots=True)
class Ratio:
    label: str
    numerator: str
    denominator: str
    target: float | None  # None: a figure to read, not a target


RATIOS = (
    Ratio("Token ÷ bare floor", "token", "floor", 0.75),
    Ratio("Token ÷ /healthz", "token", "healthz", None),
    Ratio("/healthz ÷ bare floor", "healthz", "floor", None),
    Ratio("Token, WHM port alone ÷ bare floor", "token_whm_only", "floor", None),
    Ratio("Token ÷ Token, WHM port alone", "token", "token_whm_only", None),
    Ratio("1M ÷ Token", "token_1m", "token", 0.95),
    Ratio("allow-list ÷ Token", "allowlist", "token", 0.95),
    Ratio("Token, cPHulk listing others ÷ Token", "token_cphulk", "token", 0.95),
    Ratio("cPanel token (UAPI) ÷ bare floor", "uapi", "floor", None),
    Ratio("cPanel token (UAPI) ÷ Token", "uapi", "token", None),
)
STARTUP_TARGET_MS = 1000.0
MEMORY_FLAT_RATIO = 1.10  # our reading of "flat": within 10 % with a million more tokens
POSTGRES_REVOKE_TARGET_MS = 10.0
MASS_EDIT_P50_TARGET_MS = 50.0  # on a 10,000-record zone


def medians(runs: list[wrk.WrkResult]) -> dict[str, float]:
    return {
        "requests_per_s": median(r.requests_per_s for r in runs),
        "p50_ms": median(r.p50_ms for r in runs),
        "p99_ms": median(r.p99_ms for r in runs),
    }


def _verdict(ok: bool | None) -> str:
    if ok is None:
        return ""
    return "[green]PASS[/green]" if ok else "[red]MISS[/red]"


def checks(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target the run can judge: label, measured value, goal, pass."""
    out: list[dict[str, Any]] = []
    load = results.get("load", {})
    for ratio in RATIOS:
        if ratio.numerator in load and ratio.denominator in load:
            value = (
                load[ratio.numerator]["median"]["requests_per_s"]
                / load[ratio.denominator]["median"]["requests_per_s"]
            )
            out.append(
                {
                    "label": f"{ratio.label} (req/s)",
                    "value": round(value, 3),
                    "goal": "-" if ratio.target is None else f"≥ {ratio.target}",
                    "pass": None if ratio.target is None else value >= ratio.target,
                }
            )
    startup = results.get("startup")
    if startup:
        value = startup["startup_ms_median"]
        out.append(
            {
                "label": "Start-up to first answer (median, ms)",
                "value": round(value, 1),
                "goal": f"< {STARTUP_TARGET_MS:.0f}",
                "pass": value < STARTUP_TARGET_MS,
            }
        )
    memory = results.get("memory")
    if memory and memory.get("ratio") is not None:
        out.append(
            {
                "label": "RSS after 1M ÷ RSS after Token",
                "value": round(memory["ratio"], 3),
                "goal": f"≤ {MEMORY_FLAT_RATIO} (flat)",
                "pass": memory["ratio"] <= MEMORY_FLAT_RATIO,
            }
        )
    revocations = [(b, r, "") for b, r in results.get("revocation", {}).items()]
    revocations += [
        (b, r, " under load") for b, r in results.get("revocation_under_load", {}).items()
    ]
    for backend, rev, variant in revocations:
        out.append(
            {
                "label": f"Revocation {backend}{variant}: max 200s from B after revoke",
                "value": rev["max_answered_200_after_revoke"],
                "goal": "0",
                "pass": rev["max_answered_200_after_revoke"] == 0 and rev["never_refused"] == 0,
            }
        )
        if backend == "postgresql" and rev["first_401_ms_max"] is not None:
            out.append(
                {
                    "label": f"Revocation postgresql{variant}: max time to first 401 (ms)",
                    "value": round(rev["first_401_ms_max"], 2),
                    "goal": f"≤ {POSTGRES_REVOKE_TARGET_MS:.0f}",
                    "pass": rev["first_401_ms_max"] <= POSTGRES_REVOKE_TARGET_MS,
                }
            )
    dns = results.get("dns")
    if dns and "mass_edit" in dns:
        value = max(dns["mass_edit"]["add"]["p50_ms"], dns["mass_edit"]["remove"]["p50_ms"])
        out.append(
            {
                "label": (
                    f"mass_edit_dns_zone p50, {dns['zone']['records']:,} records "
                    "(slower of add/remove, ms)"
                ),
                "value": round(value, 1),
                "goal": f"< {MASS_EDIT_P50_TARGET_MS:.0f}",
                "pass": value < MASS_EDIT_P50_TARGET_MS,
            }
        )
    out += _scale_checks(results.get("scale"))
    return out


# Issue 19 §3's targets at hosting scale (scenario 13): label, path, sign, goal.
SCALE_TARGETS: tuple[tuple[str, tuple[str, ...], str, float], ...] = (
    ("listaccts, 10,000 accounts, p50 (ms)", ("accounts", "listaccts_all", "p50_ms"), "≤", 250),
    ("listaccts filtered to one account, p50 (ms)",
     ("accounts", "listaccts_filtered_one", "p50_ms"), "≤", 5),
    ("accountsummary, p50 (ms)", ("accounts", "accountsummary", "p50_ms"), "≤", 5),
    ("createacct throughput (accounts/s)", ("accounts", "createacct", "per_s"), "≥", 50),
    ("100,000 zones: start-up to first answer (s)", ("zones", "startup_s"), "<", 2),
    ("100,000 zones: RSS after the reconcile (MiB)", ("zones", "rss_after_reconcile_mib"),
     "<", 300),
    ("100,000 zones: SOA answer p99 (ms)", ("zones", "dns_soa_after_reconcile", "p99_ms"),
     "<", 5),
)  # fmt: skip


def _scale_checks(scale: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not scale:
        return []
    out = []
    for label, path, sign, goal in SCALE_TARGETS:
        value: Any = scale
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value is None:
            continue
        ok = {"≤": value <= goal, "<": value < goal, "≥": value >= goal}[sign]
        out.append({"label": label, "value": value, "goal": f"{sign} {goal:g}", "pass": ok})
    owasp = scale.get("accounts", {}).get("createacct_owasp_hashing", {}).get("per_s")
    if owasp is not None:
        out.append({"label": "createacct throughput, GATEHOUSE_PASSWORD_HASHING=owasp (accounts/s)",
                    "value": owasp, "goal": "-", "pass": None})  # fmt: skip
    reconcile = scale.get("zones", {}).get("full_reconcile_s")
    out.append({"label": "100,000 zones: the full zone-file reconcile (s)",
                "value": reconcile if reconcile is not None else "did not end",
                "goal": "-", "pass": None})  # fmt: skip
    return out


def _ms(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def print_dns(dns: dict[str, Any], console: Console) -> None:
    """Scenario 8's two tables: the API on the big zone, and the nameservers under dnsperf."""
    records = dns["zone"]["records"]
    store = f", {dns['backend']} store" if dns.get("backend") else ""
    table = Table(title=f"DNS: the API on a {records:,}-record zone (one call at a time{store})")
    for column in ("Figure", "calls", "p50 ms", "p99 ms", "note"):
        table.add_column(column, justify="left" if column in ("Figure", "note") else "right")
    growth = dns["zone"]["growth"]
    table.add_row(
        "Growing the zone (mass_edit_dns_zone)",
        str(growth["calls"]),
        "",
        "",
        f"{growth['seconds']:.1f} s in all; zone file {dns['zone'].get('file_bytes') or 0:,} B",
    )
    parse = dns["parse"]
    table.add_row(
        "parse_dns_zone",
        str(parse["count"]),
        _ms(parse["p50_ms"]),
        _ms(parse["p99_ms"]),
        f"response {parse['response_bytes'] / 1e6:.2f} MB, {parse['items']:,} items",
    )
    edit = dns["mass_edit"]
    for key in ("add", "remove"):
        table.add_row(
            f"mass_edit_dns_zone: {key} (DNS-01 TXT)",
            str(edit[key]["count"]),
            _ms(edit[key]["p50_ms"]),
            _ms(edit[key]["p99_ms"]),
            "zone unchanged afterwards" if edit["zone_unchanged"] else "ZONE CHANGED",
        )
    cold = dns["cold"]
    count = len(cold["samples"])
    table.add_row(
        "Cold: a fresh server's first mass edit",
        str(count),
        _ms(cold["add_ms_median"]),
        "",
        f"median of {count}; the remove after it {_ms(cold['remove_ms_median'])} ms",
    )
    after = dns["after_change"]
    table.add_row(
        "First DNS answer after a change",
        str(after["first"]["count"]),
        _ms(after["first"]["p50_ms"]),
        _ms(after["first"]["p99_ms"]),
        f"the next answer: {_ms(after['second']['p50_ms'])} ms",
    )
    console.print(table)

    ns = dns.get("nameserver", {})
    if not ns.get("measured"):
        return
    rounds = dns["settings"]["rounds"]
    load = ns["query_file"]["load"]
    table = Table(
        title=(
            f"DNS: nameservers under dnsperf (UDP, {load['outstanding']} in flight, "
            f"median of {rounds} rounds of {load['duration_s']:g} s)"
        )
    )
    columns = (
        "Server",
        "queries/s",
        "p50 ms",
        "p99 ms",
        "lost",
        "CPU srv/dnsperf",
        "runs q/s",
        "1 in flight p50/p99",
    )
    for column in columns:
        table.add_column(column, justify="left" if column == "Server" else "right")
    for entry in ns["servers"].values():
        m = entry["median"]
        single = entry.get("one_in_flight") or {}
        table.add_row(
            entry["title"],
            f"{m['queries_per_s']:,.0f}",
            _ms(m["p50_ms"], 3),
            _ms(m["p99_ms"], 3),
            str(m["lost"]),
            f"{_ms(m.get('server_cpu'))} / {_ms(m.get('client_cpu'))}",
            " ".join(f"{r['queries_per_s']:.0f}" for r in entry["runs"]),
            f"{_ms(single.get('p50_ms'), 3)} / {_ms(single.get('p99_ms'), 3)}",
        )
    console.print(table)


def _revocation_under_load_rows(table: Table, backend: str, rev: dict[str, Any]) -> None:
    med, mx = rev["first_401_ms_median"], rev["first_401_ms_max"]
    w = rev["wrk"]
    table.add_row(
        f"Revocation {backend}, B under load: first 401 after revoke, median / max ms "
        f"({rev['repetitions']} reps)",
        f"{med:.2f} / {mx:.2f}" if med is not None else "never",
    )
    table.add_row(
        f"Revocation {backend}, B under load: 200s from B after revoke (max)",
        str(rev["max_answered_200_after_revoke"]),
    )
    table.add_row(
        f"Revocation {backend}, B under load: wrk on B ({w['connections']} conns), "
        "req/s · p50 / p99 ms · non-2xx",
        f"{w['requests_per_s']:,.0f} · {w['p50_ms']:.2f} / {w['p99_ms']:.2f} · "
        f"{w['non_2xx']}"
        + (f" (socket errors {w['socket_errors']})" if w["socket_errors"] else ""),
    )


def print_tables(results: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(width=max(Console().width, 120))
    load = results.get("load", {})
    if load:
        table = Table(title=f"Load (wrk, median of {results['settings']['rounds']} rounds)")
        columns = ("#", "Scenario", "req/s", "p50 ms", "p99 ms", "runs req/s", "load (1 min)")
        for column in columns:
            table.add_column(column, justify="left" if column == "Scenario" else "right")
        for key, entry in load.items():
            scenario = BY_KEY[key]
            m = entry["median"]
            table.add_row(
                str(scenario.number),
                scenario.title,
                f"{m['requests_per_s']:,.0f}",
                f"{m['p50_ms']:.2f}",
                f"{m['p99_ms']:.2f}",
                " ".join(f"{r['requests_per_s']:.0f}" for r in entry["runs"]),
                " ".join(f"{r.get('load_average', 0.0):.1f}" for r in entry["runs"]),
            )
        console.print(table)

    if results.get("dns"):
        print_dns(results["dns"], console)

    other = Table(title="Other figures")
    other.add_column("Figure")
    other.add_column("Value", justify="right")
    seeding = results.get("seeding")
    if seeding:
        other.add_row(
            f"Seeding {seeding['tokens']:,} tokens ({seeding['backend']})",
            f"{seeding['seconds']:.1f} s",
        )
    basic = results.get("basic_cold")
    if basic:
        other.add_row("Basic: first request, cold (median ms)", f"{basic['first_ms_median']:.1f}")
        other.add_row(
            "Basic: second request, cached (median ms)", f"{basic['second_ms_median']:.2f}"
        )
    startup = results.get("startup")
    if startup:
        other.add_row("Start-up to first answer (median ms)", f"{startup['startup_ms_median']:.0f}")
        if startup.get("big_store_ms") is not None:
            other.add_row("Start-up on the 1M-token store (ms)", f"{startup['big_store_ms']:.0f}")
    memory = results.get("memory")
    if memory:
        for label, key in (("after Token", "after_token_kib"), ("after 1M", "after_token_1m_kib")):
            if memory.get(key) is not None:
                other.add_row(f"RSS {label} (MiB)", f"{memory[key] / 1024:.1f}")
    for backend, rev in results.get("revocation", {}).items():
        med, mx = rev["first_401_ms_median"], rev["first_401_ms_max"]
        other.add_row(
            f"Revocation {backend}, B idle: first 401 after revoke, median / max ms "
            f"({rev['repetitions']} reps)",
            f"{med:.2f} / {mx:.2f}" if med is not None else "never",
        )
        other.add_row(
            f"Revocation {backend}, B idle: 200s from B after revoke (max)",
            str(rev["max_answered_200_after_revoke"]),
        )
        loaded = results.get("revocation_under_load", {}).get(backend)
        if loaded:
            _revocation_under_load_rows(other, backend, loaded)
    for key, variant in (("cluster", "idle"), ("cluster_under_load", "under load")):
        clu = results.get(key)
        if clu:
            for part, label in (("write_only_ms", "the write-only peer answers"),
                                ("sync_ms", "the sync peer answers"),
                                ("both_ms", "both peers answer")):  # fmt: skip
                figures = clu[part]
                other.add_row(
                    f"Cluster, web node {variant}: TXT added → {label}, p50 / p99 ms "
                    f"({clu['repetitions']} changes, {figures['never']} never)",
                    _pair(figures["p50"], figures["p99"]),
                )
    for note in results.get("notes", []):
        other.add_row("note", note)
    if other.row_count:
        console.print(other)

    verdicts = results.get("checks", [])
    if verdicts:
        table = Table(title="Targets")
        for column in ("Target", "Measured", "Goal", ""):
            table.add_column(column, justify="left" if column == "Target" else "right")
        for c in verdicts:
            table.add_row(c["label"], str(c["value"]), c["goal"], _verdict(c["pass"]))
        console.print(table)


def _pair(a: float | None, b: float | None) -> str:
    return "never" if a is None or b is None else f"{a:.1f} / {b:.1f}"


def write(results: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return path
