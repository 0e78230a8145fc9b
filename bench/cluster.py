"""Scenario 12: DNS cluster delivery latency (issue 16). A web node and two nameserver
peers, each a `gatehouse serve` with a SQLite store of its own (three processes, pinned to
the server core like every server): peer 1 `write-only`, peer 2 `sync`, added through
`gatehouse_add_cluster_peer` as an administrator would.

Each repetition adds a DNS-01 style TXT record (`_acme-challenge`, a fresh value) to one zone
on the web node through WHM API 1 `addzonerecord`, then, from the moment the call has
returned (the change is committed and queued), asks both peers' own nameservers over UDP,
one after another every millisecond or so, until each answers the new value. Measured: the
time until each peer answers, and until both do (a certificate client waits for both).

Two variants: the web node idle, and under load (wrk on its token path for the whole of the
repetitions, spread over a load run's duration, as scenario 7's)."""

from __future__ import annotations

import time
import uuid
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from statistics import median, quantiles
from typing import Any

import dns.exception
import dns.message
import dns.query
import dns.rdatatype
import httpx

from bench import background, server, stores, wrk
from bench import load as load_mod
from bench.tools import Pinning, log

GIVE_UP_S = 10.0
ZONE = "cluster-bench.example"
NAME = f"_acme-challenge.{ZONE}"


@dataclass(frozen=True, slots=True)
class Sample:
    api_ms: float  # the addzonerecord call, request to response
    write_only_ms: float | None  # from the call's return until peer 1 answers; None: never
    sync_ms: float | None
    both_ms: float | None


def _answers(port: int, value: str) -> bool:
    # The name gathers a TXT record per change: EDNS, and TCP when even that is truncated.
    query = dns.message.make_query(NAME, dns.rdatatype.TXT, use_edns=0, payload=4096)
    try:
        response, _tcp = dns.query.udp_with_fallback(query, server.HOST, port=port, timeout=0.5)
    except dns.exception.Timeout:
        return False
    return any(
        b"".join(rdata.strings).decode() == value
        for rrset in response.answer
        if rrset.rdtype == dns.rdatatype.TXT
        for rdata in rrset
    )


def _cluster(
    stack: ExitStack, pinning: Pinning, label: str
) -> tuple[server.Server, str, list[int]]:
    """The web node (with its admin token) and the two peers' nameserver ports."""
    web_store = stores.create(stack, stores.SQLITE, f"{label}-web", None)
    admin = web_store.create_token("bench-admin")
    web = server.start(stack, web_store, f"{label}-web", pinning)
    ports = []
    for i, role in enumerate(("write-only", "sync"), start=1):
        store = stores.create(stack, stores.SQLITE, f"{label}-ns{i}", None)
        token = store.create_token("cluster", "acl-0=clustering")
        peer = server.start(stack, store, f"{label}-ns{i}", pinning, dns=True)
        assert peer.dns_port is not None
        ports.append(peer.dns_port)
        web_store.whmapi1(
            "gatehouse_add_cluster_peer", "host=127.0.0.1", f"port={peer.port}", "http=1",
            f"token={token}", f"role={role}",
        )  # fmt: skip
    created = httpx.get(
        f"{web.url}/json-api/adddns",
        params={"api.version": "1", "domain": ZONE, "ip": "192.0.2.10"},
        headers={"Authorization": f"whm root:{admin}"},
        timeout=30,
    )
    if created.json()["metadata"]["result"] != 1:
        raise RuntimeError(f"adddns failed: {created.text[:300]}")
    return web, admin, ports


def _repetitions(
    web: server.Server, admin: str, ports: list[int], repetitions: int, interval_s: float = 0.0
) -> list[Sample]:
    samples = []
    paced_from = time.perf_counter()
    with httpx.Client(timeout=30, headers={"Authorization": f"whm root:{admin}"}) as client:
        for i in range(repetitions):
            wait = paced_from + i * interval_s - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            value = uuid.uuid4().hex
            started = time.perf_counter()
            added = client.get(
                f"{web.url}/json-api/addzonerecord",
                params={"api.version": "1", "domain": ZONE, "name": "_acme-challenge",
                        "type": "TXT", "txtdata": value, "ttl": "60"},
            )  # fmt: skip
            returned = time.perf_counter()
            if added.json()["metadata"]["result"] != 1:
                raise RuntimeError(f"addzonerecord failed: {added.text[:300]}")
            seen: dict[int, float] = {}
            while len(seen) < len(ports) and time.perf_counter() - returned < GIVE_UP_S:
                for port in ports:
                    if port not in seen and _answers(port, value):
                        seen[port] = (time.perf_counter() - returned) * 1000
                time.sleep(0.001)
            one, two = (seen.get(p) for p in ports)
            both = max(one, two) if one is not None and two is not None else None
            samples.append(Sample((returned - started) * 1000, one, two, both))
    return samples


def measure(pinning: Pinning, repetitions: int) -> list[Sample]:
    with ExitStack() as stack:
        web, admin, ports = _cluster(stack, pinning, "cluster")
        with pinning.harness_on_client():
            return _repetitions(web, admin, ports, repetitions)


def measure_under_load(
    pinning: Pinning, repetitions: int, wrk_path: str, load: wrk.Load
) -> dict[str, Any]:
    with ExitStack() as stack:
        web, admin, ports = _cluster(stack, pinning, "cluster-load")
        load_token = web.store.create_token("bench-load")
        target = load_mod.Target(
            "cluster_load", web, load_mod.VERSION_PATH, f"whm root:{load_token}"
        )
        load_mod.verify(target)
        bound = load.duration_s + repetitions * (GIVE_UP_S + 5) + 30  # stop() ends it
        running = background.start(
            stack, wrk_path, target.url, target.authorization, load, pinning, bound
        )
        time.sleep(0.25)
        with pinning.harness_on_client():
            samples = _repetitions(
                web, admin, ports, repetitions, load.duration_s / max(repetitions, 1)
            )
        result = running.stop()
        log(
            f"cluster under load: wrk on the web node {result.requests_per_s:.0f} req/s, "
            f"p99 {result.p99_ms:.2f} ms, non-2xx {result.non_2xx}"
        )
        return {
            **summarise(samples),
            "wrk": {"connections": load.connections, **result.to_json(), "clean": result.clean},
        }


def _p(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return quantiles(values, n=100, method="inclusive")[q - 1]


def summarise(samples: list[Sample]) -> dict[str, Any]:
    out: dict[str, Any] = {"repetitions": len(samples)}
    for key in ("write_only_ms", "sync_ms", "both_ms"):
        values = [getattr(s, key) for s in samples if getattr(s, key) is not None]
        out[key] = {
            "p50": median(values) if values else None,
            "p99": _p(values, 99),
            "max": max(values) if values else None,
            "never": len(samples) - len(values),
        }
    out["api_ms_median"] = median(s.api_ms for s in samples)
    out["samples"] = [asdict(s) for s in samples]
    return out
