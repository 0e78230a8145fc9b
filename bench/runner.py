"""One benchmark run: set up stores and servers, run the chosen scenarios, collect results.
Every process and store it makes is undone when the ExitStack closes, whatever happens."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from statistics import median
from typing import Any

import httpx

from bench import cluster, machine, report, revocation, scale, seed, server, startup, stores, wrk
from bench import dns as dns_bench
from bench import load as load_mod
from bench.scenarios import Scenario
from bench.tools import Pinning, ensure_wrk, log, postgres_admin_url

ALLOW_LIST = [f"10.0.{i}.0/24" for i in range(99)] + ["127.0.0.1"]  # sorted: 127.0.0.1 last
LIST_TOKENS = 100
CPHULK_BLACK = 1_000  # ranges black-listed on scenario 15's server
UAPI_USER = "benchuapi"  # the account whose `cpanel` token scenario 14 uses


@dataclass(frozen=True, slots=True)
class Options:
    scenarios: list[Scenario]
    rounds: int
    load: wrk.Load
    backend: str
    tokens: int
    revocation_repetitions: int
    quick: bool
    cluster_changes: int = 100
    revocation_workers: int = 2
    dns: dns_bench.Settings = field(default_factory=dns_bench.Settings)


def run(options: Options) -> dict[str, Any]:
    keys = {s.key for s in options.scenarios}
    pinning = Pinning.plan()
    results: dict[str, Any] = {
        "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": machine.facts(),
        "settings": {
            "scenarios": sorted(keys),
            "rounds": options.rounds,
            "load": asdict(options.load),
            "backend": options.backend,
            "tokens": options.tokens,
            "revocation_repetitions": options.revocation_repetitions,
            "revocation_workers": options.revocation_workers,
            "cluster_changes": options.cluster_changes,
            "quick": options.quick,
            "dns": asdict(options.dns),
            "pinning": asdict(pinning),
        },
        "notes": [],
    }
    busy = results["machine"]["load_average"][0]
    if busy > 1.0:
        results["notes"].append(
            f"the machine was busy when the run began (load average {busy:.1f}): figures are "
            "lower and noisier than on an idle machine"
        )
    if pinning.server_cpu is None:
        results["notes"].append("fewer than 2 usable cores: server and wrk share the CPU")
    load_keys = [s.key for s in options.scenarios if s.load]
    needs_pg = options.backend == stores.POSTGRESQL or "revocation" in keys
    postgres_url = postgres_admin_url() if needs_pg else None
    wrk_path = ensure_wrk() if load_keys or keys & {"revocation", "cluster"} else ""
    with ExitStack() as stack:
        base: BaseStore | None = None
        if set(load_keys) - {"token_1m"} or "startup" in keys:
            base = _base_store(stack, options.backend, postgres_url)
        if "basic" in keys or "startup" in keys:
            assert base is not None
            _cold_starts(results, base.store, pinning, max(options.rounds, 3), keys)
        if load_keys:
            _load(stack, results, options, base, postgres_url, pinning, wrk_path)
    if "revocation" in keys:
        results["revocation"] = {}
        for backend in (stores.SQLITE, stores.POSTGRESQL):
            if backend == stores.POSTGRESQL and not postgres_url:
                results["notes"].append(
                    "PostgreSQL unavailable: revocation measured on SQLite only"
                )
                continue
            log(f"revocation on {backend}: {options.revocation_repetitions} repetitions")
            samples = revocation.measure(
                backend,
                postgres_url,
                pinning,
                options.revocation_repetitions,
                options.revocation_workers,
            )
            results["revocation"][backend] = revocation.summarise(samples)
            log(f"revocation on {backend} under load: {options.revocation_repetitions} repetitions")
            loaded = revocation.measure_under_load(
                backend,
                postgres_url,
                pinning,
                options.revocation_repetitions,
                wrk_path,
                options.load,
                options.revocation_workers,
            )
            results.setdefault("revocation_under_load", {})[backend] = loaded
            if not loaded["wrk"]["clean"]:
                results["notes"].append(
                    f"revocation under load on {backend}: wrk saw non-2xx answers or socket errors"
                )
    if "cluster" in keys:
        log(f"cluster: scenario 12, {options.cluster_changes} changes, web node idle")
        idle = cluster.measure(pinning, options.cluster_changes)
        results["cluster"] = cluster.summarise(idle)
        log(f"cluster: scenario 12, {options.cluster_changes} changes, web node under load")
        loaded = cluster.measure_under_load(
            pinning, options.cluster_changes, wrk_path, options.load
        )
        results["cluster_under_load"] = loaded
        if not loaded["wrk"]["clean"]:
            results["notes"].append("cluster under load: wrk saw non-2xx answers or errors")
    if "scale" in keys:
        results["scale"] = scale.measure(options.backend, postgres_url, pinning)
    if "dns" in keys:
        log(f"dns: scenario 8 on {options.backend}")
        results["dns"] = dns_bench.measure(options.backend, postgres_url, pinning, options.dns)
        results["dns"]["backend"] = options.backend
        results["notes"] += results["dns"].pop("notes")
    results["checks"] = report.checks(results)
    return results


@dataclass(frozen=True, slots=True)
class BaseStore:
    """Root with exactly 100 tokens: the load token, the allow-listed one and 98 more."""

    store: stores.Store
    token: str
    allow_token: str
    cpanel_token: str  # a `cpanel` token of the account UAPI_USER


def _base_store(stack: ExitStack, backend: str, postgres_url: str | None) -> BaseStore:
    log(f"preparing the base store ({backend})")
    store = stores.create(stack, backend, "base", postgres_url)
    token = store.create_token("bench")
    allow_token = store.create_token(
        "bench-allow", *(f"whitelist_ip-{i}={ip}" for i, ip in enumerate(ALLOW_LIST))
    )
    seed.seed_root_tokens(store, LIST_TOKENS - 2, prefix="filler-")
    listed = store.whmapi1("api_token_list")["tokens"]
    assert len(listed) == LIST_TOKENS, len(listed)
    store.whmapi1(
        "createacct",
        f"username={UAPI_USER}",
        f"domain={UAPI_USER}.example",
        f"password={secrets.token_urlsafe(24)}",
    )
    made = json.loads(
        store.cli(
            "uapi", "--user", UAPI_USER, "Tokens", "create_full_access", "name=bench",
            "--output", "json",
        )
    )  # fmt: skip
    return BaseStore(store, token, allow_token, str(made["result"]["data"]["token"]))


def _cold_starts(
    results: dict[str, Any], store: stores.Store, pinning: Pinning, count: int, keys: set[str]
) -> None:
    log(f"{count} cold starts (start-up time, first Basic request)")
    samples = [startup.cold_start(store, pinning, f"cold-{i}") for i in range(count)]
    if "startup" in keys:
        results["startup"] = {
            "startup_ms_median": median(s.startup_ms for s in samples),
            "startup_ms_max": max(s.startup_ms for s in samples),
            "samples": startup.to_json(samples),
        }
    if "basic" in keys:
        results["basic_cold"] = {
            "first_ms_median": median(s.first_basic_ms for s in samples),
            "second_ms_median": median(s.second_basic_ms for s in samples),
            "samples": startup.to_json(samples),
        }


def _load(
    stack: ExitStack,
    results: dict[str, Any],
    options: Options,
    base: BaseStore | None,
    postgres_url: str | None,
    pinning: Pinning,
    wrk_path: str,
) -> None:
    keys = [s.key for s in options.scenarios if s.load]
    targets: list[load_mod.Target] = []
    token_auth = "whm root:{}"
    if base is not None:
        main_token, allow_token = base.token, base.allow_token
        default = server.DEFAULT
        srv = server.start(stack, base.store, "base", pinning, listeners=default)
        # Basic and list: keeps base's RSS clean
        aux = server.start(stack, base.store, "aux", pinning, listeners=default)
        candidates = {
            "healthz": load_mod.Target("healthz", srv, "/healthz", None),
            "token": load_mod.Target(
                "token", srv, load_mod.VERSION_PATH, token_auth.format(main_token)
            ),
            "allowlist": load_mod.Target(
                "allowlist", srv, load_mod.VERSION_PATH, token_auth.format(allow_token)
            ),
            "basic": load_mod.Target(
                "basic",
                aux,
                load_mod.VERSION_PATH,
                startup.basic_header("root", base.store.root_password),
            ),
            "list": load_mod.Target("list", aux, load_mod.LIST_PATH, token_auth.format(main_token)),
            "uapi": load_mod.Target(
                "uapi",
                srv,
                load_mod.UAPI_PATH,
                f"cpanel {UAPI_USER}:{base.cpanel_token}",
                port=srv.cpanel_port,
            ),
        }
        if "token_whm_only" in keys:
            alone = server.start(stack, base.store, "whm-only", pinning, listeners=server.WHM_ONLY)
            candidates["token_whm_only"] = load_mod.Target(
                "token_whm_only", alone, load_mod.VERSION_PATH, token_auth.format(main_token)
            )
        if "token_cphulk" in keys:
            # A store of its own: a black list in the base store would reach every scenario.
            guarded = stores.create(stack, options.backend, "cphulk", postgres_url)
            guarded_token = guarded.create_token("bench")
            # 1,000 ranges (operators black-list whole networks). wrk comes from loopback,
            # which cPHulk takes as local origin and never looks up in the lists (as cPanel's):
            # what this measures is the gate with lists in force, for a local client; a remote
            # client's search of them is measured in process (docs/performance.md).
            black = [f"ip-{i}=10.{i // 250}.{i % 250}.0/24" for i in range(CPHULK_BLACK)]
            guarded.whmapi1("create_cphulk_record", "list_name=black", *black)
            srv_guarded = server.start(stack, guarded, "cphulk", pinning, listeners=default)
            candidates["token_cphulk"] = load_mod.Target(
                "token_cphulk", srv_guarded, load_mod.VERSION_PATH, token_auth.format(guarded_token)
            )
        if "floor" in keys:
            # The same bytes as the token path's answer, from a bare app on the same granian.
            answer = httpx.get(
                srv.url + load_mod.VERSION_PATH,
                headers={"Authorization": token_auth.format(main_token)},
                timeout=30,
            )
            bare = server.start_bare(stack, base.store, "bare", pinning, answer)
            candidates["floor"] = load_mod.Target("floor", bare, load_mod.VERSION_PATH, None)
        targets += [candidates[k] for k in keys if k in candidates]
    big_server: server.Server | None = None
    if "token_1m" in keys:
        log(f"preparing the 1M store: seeding {options.tokens:,} tokens ({options.backend})")
        big = stores.create(stack, options.backend, "big", postgres_url)
        big_token = big.create_token("bench-main")
        seconds = seed.seed_root_tokens(big, options.tokens)
        log(f"seeded {options.tokens:,} tokens in {seconds:.1f} s")
        results["seeding"] = {
            "tokens": options.tokens,
            "backend": options.backend,
            "seconds": seconds,
        }
        big_server = server.start(stack, big, "big", pinning, listeners=server.DEFAULT)
        if "startup" in results:
            results["startup"]["big_store_ms"] = big_server.startup_s * 1000
        targets.append(
            load_mod.Target(
                "token_1m", big_server, load_mod.VERSION_PATH, token_auth.format(big_token)
            )
        )
    order = [k for k in keys if any(t.key == k for t in targets)]
    targets.sort(key=lambda t: order.index(t.key))
    timeline: list[dict[str, Any]] = []

    def after_run(target: load_mod.Target) -> None:
        timeline.append(
            {"after": target.key, "server": target.server.name, **target.server.memory_kib()}
        )

    runs = load_mod.run_rounds(
        targets,
        rounds=options.rounds,
        load=options.load,
        wrk_path=wrk_path,
        pinning=pinning,
        after_run=after_run,
    )
    results["load"] = {
        key: {
            "server": next(t.server.name for t in targets if t.key == key),
            "median": report.medians(found),
            "runs": [r.to_json() for r in found],
        }
        for key, found in runs.items()
    }
    for key, found in runs.items():
        dirty = [r for r in found if not r.clean]
        if dirty:
            results["notes"].append(
                f"{key}: {len(dirty)} run(s) saw non-2xx answers or socket errors"
            )

    def last(key: str) -> int | None:
        seen = [t["VmRSS"] for t in timeline if t["after"] == key]
        return seen[-1] if seen else None

    memory: dict[str, Any] = {
        "after_token_kib": last("token"),
        "after_token_1m_kib": last("token_1m"),
        "timeline": timeline,
    }
    if memory["after_token_kib"] and memory["after_token_1m_kib"]:
        memory["ratio"] = memory["after_token_1m_kib"] / memory["after_token_kib"]
    results["memory"] = memory
