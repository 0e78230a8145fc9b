"""Scenario 7: once `api_token_revoke` has returned on server A, how soon does server B (a
second process on the same store, whose token cache holds the token) refuse it?

Each repetition: create a token on A; use it on B until B has cached it; revoke it on A;
from the moment the revoke call returns, send requests to B one after another until one is
refused. Counted: requests B still answered 200 (must be 0) and the time to the first 401.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from bench import server, stores
from bench.tools import Pinning

GIVE_UP_S = 2.0


@dataclass(frozen=True, slots=True)
class Sample:
    answered_200_after_revoke: int
    first_401_ms: float | None  # None: B still accepted the token after GIVE_UP_S


def _get(client: httpx.Client, url: str, token: str) -> httpx.Response:
    return client.get(url, headers={"Authorization": f"whm root:{token}"})


def _ok(response: httpx.Response) -> Any:
    body = response.json()
    if response.status_code != 200 or body["metadata"]["result"] != 1:
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")
    return body.get("data")


def measure(
    backend: str, postgres_url: str | None, pinning: Pinning, repetitions: int
) -> list[Sample]:
    with ExitStack() as stack:
        store = stores.create(stack, backend, "revoke", postgres_url)
        admin = store.create_token("bench-admin")
        a = server.start(stack, store, "revoke-a", pinning)
        b = server.start(stack, store, "revoke-b", pinning)
        ca = stack.enter_context(httpx.Client(timeout=10))
        cb = stack.enter_context(httpx.Client(timeout=10))
        version_b = f"{b.url}/json-api/version?api.version=1"
        samples = []
        for i in range(repetitions):
            name = f"revoke-{i}"
            token = _ok(
                _get(
                    ca, f"{a.url}/json-api/api_token_create?api.version=1&token_name={name}", admin
                )
            )["token"]
            for _ in range(3):  # the first is B's cache miss; the rest are served from cache
                _ok(_get(cb, version_b, token))
            _ok(
                _get(
                    ca, f"{a.url}/json-api/api_token_revoke?api.version=1&token_name={name}", admin
                )
            )
            returned = time.perf_counter()
            accepted = 0
            first_401: float | None = None
            while time.perf_counter() - returned < GIVE_UP_S:
                response = _get(cb, version_b, token)
                if response.status_code == 401:
                    first_401 = (time.perf_counter() - returned) * 1000
                    break
                if response.status_code == 200:
                    accepted += 1
            samples.append(Sample(accepted, first_401))
        return samples


def summarise(samples: list[Sample]) -> dict[str, Any]:
    from statistics import median

    times = [s.first_401_ms for s in samples if s.first_401_ms is not None]
    return {
        "repetitions": len(samples),
        "max_answered_200_after_revoke": max(s.answered_200_after_revoke for s in samples),
        "never_refused": sum(1 for s in samples if s.first_401_ms is None),
        "first_401_ms_median": median(times) if times else None,
        "first_401_ms_max": max(times) if times else None,
        "samples": [asdict(s) for s in samples],
    }
