"""Side by side: several server variants on one store, loaded in turn by short wrk runs, round
after round, so that whatever else the machine does hits them all alike. For each run: req/s,
the server's CPU per request from /proc (its event-loop thread and its other threads — granian's
— apart) and the machine's load average as the run began; the medians at the end.

    python -m bench.ab VARIANT [VARIANT …] [--rounds 6] [--seconds 2] [--connections 32]

A VARIANT is `NAME=SPEC`; SPEC is `bare` (bench/bare.py, answering the token path's bytes),
`bare-rsgi` (the same through granian's RSGI interface) or
`LISTENERS[,KEY=VALUE…][:healthz]`: LISTENERS `default` or `whm-only` (bench/server.py),
environment settings for that server (e.g. `PYTHONPATH=/tmp/before/src` to run an older source
tree — a `git archive` of a commit — or `GATEHOUSE_MAX_CONNECTIONS_PER_ADDRESS=1000`), and
`:healthz` to load `/healthz` rather than the token path. docs/performance.md shows its use.
With `--unpinned` nothing is pinned: `w1=default,GATEHOUSE_WORKERS=1
w2=default,GATEHOUSE_WORKERS=2 --unpinned` compares one worker with two on every core (a
pinned server has one core, and so one worker by default). CPU is counted over the server's
process and its workers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from contextlib import ExitStack
from dataclasses import dataclass

import httpx

from bench import load as load_mod
from bench import server, stores, wrk
from bench.stores import gatehouse_bin
from bench.tools import Pinning, ensure_wrk, log


@dataclass
class Variant:
    name: str
    srv: server.Server
    path: str
    authorization: str | None


def _processes(pid: int) -> list[int]:
    """The process and its descendants (a `serve --workers N` supervisor and its workers)."""
    found = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as children:
            kids = [int(part) for part in children.read().split()]
    except OSError:
        kids = []
    for kid in kids:
        found += _processes(kid)
    return found


def _ticks(pid: int) -> tuple[int, int]:
    """CPU ticks of the main (event-loop) threads and of all the threads of the process and
    its descendants (the workers of `serve --workers N`)."""
    main = total = 0
    for process in _processes(pid):
        for task in os.listdir(f"/proc/{process}/task"):
            try:
                stat = open(f"/proc/{process}/task/{task}/stat").read()  # noqa: SIM115
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            used = int(fields[11]) + int(fields[12])
            total += used
            if int(task) == process:
                main += used
    return main, total


def _start(
    stack: ExitStack, store: stores.Store, name: str, spec: str, pinning: Pinning, token: str
) -> Variant:
    spec, _, target = spec.partition(":")
    listeners, *settings = spec.split(",")
    port = server.free_port()
    others = [str(server.free_port()) for _ in range(3)] if listeners == server.DEFAULT else []
    if listeners not in (server.DEFAULT, server.WHM_ONLY):
        raise SystemExit(f"unknown listeners {listeners!r}")
    others = others or ["0", "0", "0"]
    command = [
        *pinning.server(),
        gatehouse_bin(),
        "serve",
        "--bind",
        server.HOST,
        "--http-port",
        str(port),
        "--https-port",
        others[0],
        "--cpanel-http-port",
        others[1],
        "--cpanel-https-port",
        others[2],
    ]
    env = {**store.env(), **dict(s.split("=", 1) for s in settings)}
    log_path = store.data_dir / f"ab-{name}.log"
    with open(log_path, "ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    srv = server.Server(name, store, port, process, log_path)
    stack.callback(srv.stop)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{srv.url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start:\n{log_path.read_text()[-4000:]}")
        time.sleep(0.01)
    if target == "healthz":
        return Variant(name, srv, "/healthz", None)
    return Variant(name, srv, load_mod.VERSION_PATH, f"whm root:{token}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ab", description=__doc__)
    parser.add_argument("variants", nargs="+", metavar="NAME=SPEC")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--unpinned",
        action="store_true",
        help="pin neither the servers nor wrk (for `GATEHOUSE_WORKERS=N`: N workers on N cores)",
    )
    args = parser.parse_args()
    pinning = Pinning(None, None) if args.unpinned else Pinning.plan()
    wrk_path = ensure_wrk()
    load = wrk.Load(connections=args.connections)
    with ExitStack() as stack:
        store = stores.create(stack, stores.SQLITE, "ab", None)
        token = store.create_token("ab")
        variants: list[Variant] = []
        bare: list[str] = []
        for item in args.variants:
            name, _, spec = item.partition("=")
            if spec in ("bare", "bare-rsgi"):
                bare.append(item)
                continue
            variants.append(_start(stack, store, name, spec, pinning, token))
        for item in bare:
            name, _, spec = item.partition("=")
            reference = _start(stack, store, f"{name}-reference", "whm-only", pinning, token)
            answer = httpx.get(
                reference.srv.url + load_mod.VERSION_PATH,
                headers={"Authorization": f"whm root:{token}"},
                timeout=30,
            )
            reference.srv.stop()
            srv = server.start_bare(stack, store, name, pinning, answer, rsgi=spec == "bare-rsgi")
            variants.append(Variant(name, srv, load_mod.VERSION_PATH, None))
        runs: dict[str, list[tuple[float, float, float, float]]] = {v.name: [] for v in variants}
        for n in range(1, args.rounds + 1):
            for v in variants:
                url = v.srv.url + v.path
                wrk.run(wrk_path, url, v.authorization, load, pinning, 1)
                busy = os.getloadavg()[0]
                main0, all0 = _ticks(v.srv.pid)
                result = wrk.run(wrk_path, url, v.authorization, load, pinning, args.seconds)
                main1, all1 = _ticks(v.srv.pid)
                per = 10_000 / max(1, result.requests)  # µs per tick (100 Hz) per request
                loop_us, other_us = (main1 - main0) * per, (all1 - all0 - main1 + main0) * per
                runs[v.name].append((result.requests_per_s, loop_us, other_us, busy))
                log(
                    f"round {n}/{args.rounds} {v.name:<14} {result.requests_per_s:8.0f} req/s  "
                    f"CPU {loop_us:6.1f} + {other_us:5.1f} µs/req  load {busy:.2f}"
                    + ("" if result.clean else "  (non-2xx or socket errors)")
                )
    print("median of", args.rounds, "rounds: req/s, CPU µs per request (loop + other threads)")
    for name, found in runs.items():
        med = [statistics.median(r[i] for r in found) for i in range(4)]
        print(
            f"{name:<14} {med[0]:8.0f} req/s  {med[1]:6.1f} + {med[2]:5.1f} µs/req  "
            f"load {med[3]:.2f}"
        )


if __name__ == "__main__":
    main()
