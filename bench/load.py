"""Load scenarios: each a URL and an Authorization header on one server, driven by wrk in
rounds that alternate between the scenarios (so drift in the machine hits them all alike)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from bench import wrk
from bench.server import HOST, Server
from bench.tools import Pinning, log

VERSION_PATH = "/json-api/version?api.version=1"
LIST_PATH = "/json-api/api_token_list?api.version=1"
# What ACME DNS-01 clients ask the cPanel face first (lego, acme.sh, certbot-dns-cpanel).
UAPI_PATH = "/execute/DomainInfo/list_domains"


@dataclass(frozen=True, slots=True)
class Target:
    key: str
    server: Server
    path: str
    authorization: str | None
    port: int | None = None  # another port of the server's (the cPanel face's), else its WHM one

    @property
    def url(self) -> str:
        base = self.server.url if self.port is None else f"http://{HOST}:{self.port}"
        return base + self.path


def verify(target: Target) -> None:
    """One request first: a load run of refusals would measure the wrong thing."""
    headers = {"Authorization": target.authorization} if target.authorization else {}
    response = httpx.get(target.url, headers=headers, timeout=30)
    if response.status_code != 200:
        raise RuntimeError(f"{target.key}: HTTP {response.status_code}: {response.text[:300]}")
    if target.path.startswith("/json-api/"):  # the floor answers the same bytes
        metadata = response.json()["metadata"]
        if metadata["result"] != 1:
            raise RuntimeError(f"{target.key}: result 0: {metadata['reason']}")
    if target.path.startswith("/execute/") and response.json()["status"] != 1:
        raise RuntimeError(f"{target.key}: status 0: {response.json()['errors']}")


def run_rounds(
    targets: Sequence[Target],
    *,
    rounds: int,
    load: wrk.Load,
    wrk_path: str,
    pinning: Pinning,
    after_run: Callable[[Target], None] = lambda _t: None,
) -> dict[str, list[wrk.WrkResult]]:
    """`rounds` rounds; in each, every target gets a warm-up and then a measured run."""
    for target in targets:
        verify(target)
    results: dict[str, list[wrk.WrkResult]] = {t.key: [] for t in targets}
    for n in range(1, rounds + 1):
        for target in targets:
            wrk.run(wrk_path, target.url, target.authorization, load, pinning, load.warmup_s)
            busy = os.getloadavg()[0]
            result = wrk.run(
                wrk_path, target.url, target.authorization, load, pinning, load.duration_s
            )
            result = dataclasses.replace(result, load_average=round(busy, 2))
            results[target.key].append(result)
            after_run(target)
            flag = (
                ""
                if result.clean
                else f"  (non-2xx {result.non_2xx}, errors {result.socket_errors})"
            )
            log(
                f"round {n}/{rounds} {target.key:<10} {result.requests_per_s:>9.0f} req/s  "
                f"p50 {result.p50_ms:.2f} ms  p99 {result.p99_ms:.2f} ms  "
                f"load {result.load_average:.2f}{flag}"
            )
    return results
