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
    target: float


RATIOS = (
    Ratio("Token ÷ Floor", "token", "floor", 0.75),
    Ratio("1M ÷ Token", "token_1m", "token", 0.95),
    Ratio("allow-list ÷ Token", "allowlist", "token", 0.95),
)
STARTUP_TARGET_MS = 1000.0
MEMORY_FLAT_RATIO = 1.10  # our reading of "flat": within 10 % with a million more tokens
POSTGRES_REVOKE_TARGET_MS = 10.0


def medians(runs: list[wrk.WrkResult]) -> dict[str, float]:
    return {
        "requests_per_s": median(r.requests_per_s for r in runs),
        "p50_ms": median(r.p50_ms for r in runs),
        "p99_ms": median(r.p99_ms for r in runs),
    }


def _verdict(ok: bool) -> str:
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
                    "goal": f"≥ {ratio.target}",
                    "pass": value >= ratio.target,
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
    for backend, rev in results.get("revocation", {}).items():
        out.append(
            {
                "label": f"Revocation {backend}: max 200s from B after revoke",
                "value": rev["max_answered_200_after_revoke"],
                "goal": "0",
                "pass": rev["max_answered_200_after_revoke"] == 0 and rev["never_refused"] == 0,
            }
        )
        if backend == "postgresql" and rev["first_401_ms_max"] is not None:
            out.append(
                {
                    "label": "Revocation postgresql: max time to first 401 (ms)",
                    "value": round(rev["first_401_ms_max"], 2),
                    "goal": f"≤ {POSTGRES_REVOKE_TARGET_MS:.0f}",
                    "pass": rev["first_401_ms_max"] <= POSTGRES_REVOKE_TARGET_MS,
                }
            )
    return out


def print_tables(results: dict[str, Any], console: Console | None = None) -> None:
    console = console or Console(width=max(Console().width, 120))
    load = results.get("load", {})
    if load:
        table = Table(title=f"Load (wrk, median of {results['settings']['rounds']} rounds)")
        for column in ("#", "Scenario", "req/s", "p50 ms", "p99 ms", "runs req/s"):
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
            )
        console.print(table)

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
            f"Revocation {backend}: first 401 after revoke, median / max ms "
            f"({rev['repetitions']} reps)",
            f"{med:.2f} / {mx:.2f}" if med is not None else "never",
        )
        other.add_row(
            f"Revocation {backend}: 200s from B after revoke (max)",
            str(rev["max_answered_200_after_revoke"]),
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


def write(results: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS / f"{stamp}.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    return path
