"""Fresh server starts: time from spawn to the first answered request (scenario 9) and, on
the same cold process, the first Basic-auth request (Argon2, nothing cached) and the second
(served by the verified-password cache) — scenario 5's latency half."""

from __future__ import annotations

import base64
import time
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from bench import server
from bench.load import VERSION_PATH
from bench.stores import Store
from bench.tools import Pinning


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


@dataclass(frozen=True, slots=True)
class ColdStart:
    startup_ms: float
    first_basic_ms: float
    second_basic_ms: float


def _timed(client: httpx.Client, url: str, authorization: str) -> float:
    started = time.perf_counter()
    response = client.get(url, headers={"Authorization": authorization})
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200 or response.json()["metadata"]["result"] != 1:
        raise RuntimeError(f"Basic auth failed: HTTP {response.status_code} {response.text[:200]}")
    return elapsed


def cold_start(store: Store, pinning: Pinning, label: str) -> ColdStart:
    with ExitStack() as stack:
        client = stack.enter_context(httpx.Client(timeout=30))
        srv = server.start(stack, store, label, pinning)
        url = srv.url + VERSION_PATH
        authorization = basic_header("root", store.root_password)
        first = _timed(client, url, authorization)
        second = _timed(client, url, authorization)
        return ColdStart(srv.startup_s * 1000, first, second)


def to_json(samples: list[ColdStart]) -> list[dict[str, Any]]:
    return [asdict(s) for s in samples]
