"""`python -m bench` options."""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from bench import dns, dnsperf, report, runner, scenarios, stores, wrk
from bench.tools import log


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark gatehouse with wrk and dnsperf on loopback (docs/performance.md).",
    )
    parser.add_argument(
        "--quick", action="store_true", help="1 round of 2 s runs: a smoke check, not figures"
    )
    parser.add_argument(
        "--scenarios",
        help="comma-separated numbers or keys: "
        + ", ".join(f"{s.number}={s.key}" for s in scenarios.ALL)
        + " (default: all)",
    )
    parser.add_argument("--rounds", type=int, help="rounds per load scenario (default 3)")
    parser.add_argument("--duration", type=int, help="seconds per measured run (default 5)")
    parser.add_argument(
        "--backend",
        choices=[stores.SQLITE, stores.POSTGRESQL],
        default=stores.SQLITE,
        help="store for the load scenarios (revocation always runs on both)",
    )
    parser.add_argument(
        "--tokens", type=int, default=1_000_000, help="tokens seeded for scenario 3"
    )
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--revocations",
        type=int,
        help="repetitions of scenario 7 per store, B idle and B under load (default 20)",
    )
    parser.add_argument(
        "--revocation-workers",
        type=int,
        default=2,
        help="scenario 7: `serve --workers` of each of the two servers (default 2)",
    )
    parser.add_argument(
        "--cluster-changes",
        type=int,
        help="scenario 12: TXT changes timed, web node idle and under load (default 100)",
    )
    parser.add_argument(
        "--dns-records", type=int, default=10_000, help="records in scenario 8's zone"
    )
    parser.add_argument(
        "--dns-calls",
        type=int,
        help="scenario 8: parse_dns_zone calls and add+remove pairs timed (default 100)",
    )
    parser.add_argument(
        "--dns-outstanding",
        type=int,
        default=32,
        help="scenario 8: dnsperf's queries in flight at most",
    )
    return parser


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(143)  # unwinds through every cleanup


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        chosen = scenarios.select(args.scenarios)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.dns_records < 100 or (args.dns_calls is not None and args.dns_calls < 1):
        print("--dns-records must be at least 100 and --dns-calls at least 1", file=sys.stderr)
        return 2
    quick = bool(args.quick)
    duration = args.duration or (2 if quick else 5)
    rounds = args.rounds or (1 if quick else 3)
    options = runner.Options(
        scenarios=chosen,
        rounds=rounds,
        load=wrk.Load(
            threads=args.threads,
            connections=args.connections,
            warmup_s=1,
            duration_s=duration,
        ),
        backend=args.backend,
        tokens=args.tokens,
        revocation_repetitions=args.revocations or (5 if quick else 20),
        revocation_workers=args.revocation_workers,
        cluster_changes=args.cluster_changes or (20 if quick else 100),
        quick=quick,
        dns=dns.Settings(
            records=args.dns_records,
            calls=args.dns_calls or (10 if quick else 100),
            cold_starts=1 if quick else 3,
            after_change=1 if quick else 3,
            rounds=rounds,
            load=dnsperf.Load(outstanding=args.dns_outstanding, warmup_s=1, duration_s=duration),
        ),
    )
    results = runner.run(options)
    path = report.write(results)
    report.print_tables(results)
    log(f"raw results: {path}")
    return 0
