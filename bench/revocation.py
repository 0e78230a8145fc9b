"""Scenario 7: once `api_token_revoke` has returned on server A, how soon does server B (a
second process on the same store, whose token cache holds the token) refuse it?

Each repetition: create a token on A; use it on B until B has cached it; revoke it on A;
from the moment the revoke call returns, send requests to B one after another until one is
refused. Counted: requests B still answered 200 (must be 0) and the time to the first 401.

Two variants, each on a store and servers of its own: B *idle* (serving only the harness's
requests) and B *under load* (kept busy throughout by wrk, pinned to the load core like every
other wrk run, with another token that is never revoked; the repetitions spread over a load
run's duration). The harness runs on the load core in both (`Pinning.harness_on_client`),
so its own client never takes the servers' core.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from statistics import median
from typing import Any

import httpx

from bench import background, server, stores, wrk
from bench import load as load_mod
from bench.tools import Pinning, log

GIVE_UP_S = 2.0
# Every repetition ends with B refusing a revoked token from the harness's address, which
# cPHulk records as a failed login but never blocks: the harness is on loopback, of local
# origin (as cPanel's cPHulk).
SETTLE_S = 0.25  # after wrk starts, before the first repetition: its connections are open


@dataclass(frozen=True, slots=True)
class Sample:
    answered_200_after_revoke: int
    first_401_ms: float | None  # None: B still accepted the token after GIVE_UP_S
    other_after_revoke: int = 0  # answers neither 200 nor 401 (none expected)
    revoke_ms: float = 0.0  # the api_token_revoke call on A, request to whole response
    cached_use_ms: float = 0.0  # B's answer to the last use before the revoke (token cached)


def _get(client: httpx.Client, url: str, token: str) -> httpx.Response:
    return client.get(url, headers={"Authorization": f"whm root:{token}"})


def _ok(response: httpx.Response) -> Any:
    body = response.json()
    if response.status_code != 200 or body["metadata"]["result"] != 1:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
    return body.get("data")


def _repetitions(
    stack: ExitStack,
    a: server.Server,
    b: server.Server,
    admin: str,
    repetitions: int,
    interval_s: float = 0.0,
) -> list[Sample]:
    """With `interval_s`, repetition i starts no earlier than i × interval_s after the first."""
    ca = stack.enter_context(httpx.Client(timeout=10))
    cb = stack.enter_context(httpx.Client(timeout=10))
    version_b = f"{b.url}{load_mod.VERSION_PATH}"
    samples = []
    paced_from = time.perf_counter()
    for i in range(repetitions):
        wait = paced_from + i * interval_s - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        name = f"revoke-{i}"
        create = f"{a.url}/json-api/api_token_create?api.version=1&token_name={name}"
        token = _ok(_get(ca, create, admin))["token"]
        cached_ms = 0.0
        for _ in range(3):  # the first is B's cache miss; the rest are served from cache
            started = time.perf_counter()
            _ok(_get(cb, version_b, token))
            cached_ms = (time.perf_counter() - started) * 1000
        revoke = f"{a.url}/json-api/api_token_revoke?api.version=1&token_name={name}"
        started = time.perf_counter()
        response = _get(ca, revoke, admin)
        returned = time.perf_counter()
        _ok(response)
        accepted = other = 0
        first_401: float | None = None
        while time.perf_counter() - returned < GIVE_UP_S:
            response = _get(cb, version_b, token)
            if response.status_code == 401:
                first_401 = (time.perf_counter() - returned) * 1000
                break
            if response.status_code == 200:
                accepted += 1
            else:
                other += 1
        samples.append(Sample(accepted, first_401, other, (returned - started) * 1000, cached_ms))
    return samples


def _other_node(stack: ExitStack) -> dict[str, str]:
    """B's settings: a data directory of its own, as a second node has. Sharing A's would
    also share the workers' `auth-generation` file, which tells B of A's revoke at once
    (docs/authentication.md): the scenario measures what reaches another node, i.e. the
    store's notification on PostgreSQL."""
    own = tempfile.mkdtemp(prefix="gatehouse-bench-node-b-")
    stack.callback(shutil.rmtree, own, ignore_errors=True)
    return {"GATEHOUSE_DATA_DIR": own}


def measure(
    backend: str, postgres_url: str | None, pinning: Pinning, repetitions: int, workers: int = 1
) -> list[Sample]:
    """B idle: only the harness's requests. Each server runs `workers` worker processes."""
    with ExitStack() as stack:
        store = stores.create(stack, backend, "revoke", postgres_url)
        admin = store.create_token("bench-admin")
        a = server.start(stack, store, "revoke-a", pinning, workers=workers)
        b = server.start(stack, store, "revoke-b", pinning, workers=workers, env=_other_node(stack))
        with pinning.harness_on_client():
            return _repetitions(stack, a, b, admin, repetitions)


def measure_under_load(
    backend: str,
    postgres_url: str | None,
    pinning: Pinning,
    repetitions: int,
    wrk_path: str,
    load: wrk.Load,
    workers: int = 1,
) -> dict[str, Any]:
    """B kept busy by wrk (`load.connections` connections, another token: never revoked)
    for the whole of the repetitions, after a warm-up run that is thrown away. The repetitions
    are spread over `load.duration_s` (one every duration ÷ repetitions, back to back if one
    takes longer), so that wrk's run is as long as the load scenarios' and B spends it mostly
    in its steady state, as between revocations in production. Returns the summary of the
    samples with what wrk measured on B meanwhile."""
    with ExitStack() as stack:
        store = stores.create(stack, backend, "revoke-load", postgres_url)
        admin = store.create_token("bench-admin")
        load_token = store.create_token("bench-load")
        a = server.start(stack, store, "revoke-load-a", pinning, workers=workers)
        b = server.start(
            stack, store, "revoke-load-b", pinning, workers=workers, env=_other_node(stack)
        )
        target = load_mod.Target(
            "revocation_load", b, load_mod.VERSION_PATH, f"whm root:{load_token}"
        )
        load_mod.verify(target)
        wrk.run(wrk_path, target.url, target.authorization, load, pinning, load.warmup_s)
        bound = SETTLE_S + load.duration_s + repetitions * (GIVE_UP_S + 10) + 30  # stop() ends it
        running = background.start(
            stack, wrk_path, target.url, target.authorization, load, pinning, bound
        )
        time.sleep(SETTLE_S)
        started = time.perf_counter()
        with pinning.harness_on_client():
            samples = _repetitions(
                stack, a, b, admin, repetitions, load.duration_s / max(repetitions, 1)
            )
        seconds = time.perf_counter() - started
        if running.process.poll() is not None:
            raise RuntimeError("wrk ended before the repetitions did")
        result = running.stop()
        log(
            f"revocation on {backend} under load: wrk on B {result.requests_per_s:.0f} req/s, "
            f"p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, non-2xx "
            f"{result.non_2xx}, socket errors {result.socket_errors}"
        )
        return {
            **summarise(samples),
            "repetitions_seconds": seconds,
            "repetition_interval_ms": load.duration_s / max(repetitions, 1) * 1000,
            "wrk": {
                "connections": load.connections,
                "threads": load.threads,
                "path": load_mod.VERSION_PATH,
                **result.to_json(),
                "clean": result.clean,
            },
        }


def summarise(samples: list[Sample]) -> dict[str, Any]:
    times = [s.first_401_ms for s in samples if s.first_401_ms is not None]
    return {
        "repetitions": len(samples),
        "max_answered_200_after_revoke": max(s.answered_200_after_revoke for s in samples),
        "never_refused": sum(1 for s in samples if s.first_401_ms is None),
        "other_after_revoke": sum(s.other_after_revoke for s in samples),
        "first_401_ms_median": median(times) if times else None,
        "first_401_ms_max": max(times) if times else None,
        "revoke_ms_median": median(s.revoke_ms for s in samples),
        "cached_use_ms_median": median(s.cached_use_ms for s in samples),
        "samples": [asdict(s) for s in samples],
    }
