"""Scenario 13: figures at hosting scale (issue 19 §3).

* **10,000 accounts** (a store of its own): `listaccts` for all of them, `listaccts` filtered
  to one account (`api.filter`), `accountsummary` of a random account — each called one after
  another on a kept-alive connection from the load core, once the server's start-up
  zone-file reconcile is over, p50 and p95 —, and `createacct` throughput (each with its
  zone) with several clients at once.
* **100,000 zones** (another store): time from spawning `gatehouse serve` to its first
  answer, its resident memory then and once the full zone-file reconcile (in the background
  since issue 19) has finished, the reconcile's duration, and the built-in nameserver's
  latency for SOA queries of random zones (one after another, over UDP), p50 and p99.

The stores are seeded in bulk: one account made through `createacct` as a template, then its
`users` and `zones` rows copied with new names in one transaction (the password hash too:
Argon2 for 10,000 accounts would take half an hour). The servers run the default
configuration (four listeners) pinned like every other server, so one worker each."""

from __future__ import annotations

import random
import statistics
import threading
import time
import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from typing import Any

import dns.message
import dns.query
import dns.rdatatype
import httpx
import sqlalchemy as sa

from bench import server, stores
from bench.tools import Pinning, log
from gatehouse.store import engine as store_engine
from gatehouse.store.schema import users, zones

ACCOUNTS = 10_000
ZONES = 100_000
ZONE_OWNERS = 100
CALLS = 50
CREATE_CLIENTS = 8
CREATE_COUNT = 80
DNS_QUERIES = 2000
RECONCILE_GIVE_UP_S = 1800
TEMPLATE = "tmpl0"
SUFFIX = "scale.example"


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _timings(values_ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values_ms), 3),
        "p95_ms": round(_percentile(values_ms, 0.95), 3),
        "p99_ms": round(_percentile(values_ms, 0.99), 3),
        "count": len(values_ms),
    }


def seed(store: stores.Store, accounts: int, extra_zones: int) -> list[str]:
    """`accounts` accounts (each with its zone) and `extra_zones` more zones spread over the
    first ZONE_OWNERS accounts, copied from one made by `createacct`. Returns the usernames."""
    password = f"Scale-{uuid.uuid4().hex}"
    store.whmapi1(
        "createacct", f"username={TEMPLATE}", f"domain={TEMPLATE}.{SUFFIX}", f"password={password}"
    )
    engine = store_engine.create(store.url)
    started = time.perf_counter()
    try:
        with engine.begin() as conn:
            template = dict(conn.execute(sa.select(users).where(users.c.username == TEMPLATE))
                            .one()._mapping)  # fmt: skip
            zone = dict(conn.execute(sa.select(zones).where(zones.c.user_id == template["id"]))
                        .one()._mapping)  # fmt: skip
            old_domain = f"{TEMPLATE}.{SUFFIX}"
            names = [f"s{i:05d}" for i in range(accounts)]
            rows = []
            for name in names:
                row = {k: v for k, v in template.items() if k != "id"}
                row.update(username=name, domain=f"{name}.{SUFFIX}")
                rows.append(row)
            conn.execute(sa.insert(users), rows)
            ids = dict(
                conn.execute(
                    sa.select(users.c.username, users.c.id).where(users.c.username.in_(names))
                ).all()
            )
            zone_rows = []
            for name in names:
                domain = f"{name}.{SUFFIX}"
                zone_rows.append(_zone_row(zone, ids[name], old_domain, domain))
            owners = names[:ZONE_OWNERS]
            for i in range(extra_zones):
                owner = owners[i % len(owners)]
                domain = f"z{i:06d}.{owner}.{SUFFIX}"
                zone_rows.append(_zone_row(zone, ids[owner], old_domain, domain))
            for start in range(0, len(zone_rows), 10_000):
                conn.execute(sa.insert(zones), zone_rows[start : start + 10_000])
    finally:
        engine.dispose()
    log(f"seeded {accounts} accounts and {accounts + extra_zones} zones in "
        f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    return names


def _zone_row(template: dict[str, Any], user_id: int, old: str, new: str) -> dict[str, Any]:
    row = {k: v for k, v in template.items() if k != "id"}
    row.update(name=new, user_id=user_id, text=str(template["text"]).replace(old, new))
    return row


def _timed(
    client: httpx.Client, url: str, params: Sequence[tuple[str, str]], calls: int
) -> list[float]:
    out = []
    query = httpx.QueryParams(list(params))
    for _ in range(calls):
        started = time.perf_counter()
        answer = client.get(url, params=query)
        out.append((time.perf_counter() - started) * 1000)
        body = answer.json()
        if answer.status_code != 200 or body["metadata"]["result"] != 1:
            raise RuntimeError(f"{url}: {answer.status_code} {answer.text[:300]}")
    return out


def measure_accounts(backend: str, postgres_url: str | None, pinning: Pinning) -> dict[str, Any]:
    with ExitStack() as stack:
        store = stores.create(stack, backend, "scale-accounts", postgres_url)
        token = store.create_token("scale")
        names = seed(store, ACCOUNTS, 0)
        srv = server.start(stack, store, "scale-accounts", pinning, listeners=server.DEFAULT)
        # The server's steady state: its start-up zone-file reconcile (10,000 new zone files,
        # a thread of the same process, measured with the 100,000 zones below) is over, and
        # the harness is on the load core, so neither shares the server's core and lock.
        reconcile_s = _reconciled(srv)
        headers = {"Authorization": f"whm root:{token}"}
        base = f"{srv.url}/json-api"
        with pinning.harness_on_client(), httpx.Client(headers=headers, timeout=60) as client:
            every = _timed(client, f"{base}/listaccts", [("api.version", "1")], 10)
            count = len(client.get(f"{base}/listaccts", params={"api.version": "1"})
                        .json()["data"]["acct"])  # fmt: skip
            one = names[len(names) // 2]
            filtered = _timed(
                client,
                f"{base}/listaccts",
                [("api.version", "1"), ("api.filter.enable", "1"),
                 ("api.filter.a.field", "user"), ("api.filter.a.arg0", one),
                 ("api.filter.a.type", "eq")],
                CALLS,
            )  # fmt: skip
            summaries: list[float] = []
            for _ in range(CALLS):
                summaries += _timed(
                    client,
                    f"{base}/accountsummary",
                    [("api.version", "1"), ("user", random.choice(names))],
                    1,
                )
        created = _create_accounts(srv.url, token)
        # The same on a server whose new hashes cost OWASP's minimum (docs/security.md
        # #passwords): what Argon2id's default takes of the figure.
        srv.stop()
        cheaper = server.start(
            stack, store, "scale-accounts-owasp", pinning, listeners=server.DEFAULT,
            env={"GATEHOUSE_PASSWORD_HASHING": "owasp"},
        )  # fmt: skip
        _reconciled(cheaper)
        created_owasp = _create_accounts(cheaper.url, token)
        return {
            "accounts": count,
            "reconcile_before_timing_s": reconcile_s,
            "listaccts_all": _timings(every),
            "listaccts_filtered_one": _timings(filtered),
            "accountsummary": _timings(summaries),
            "createacct": created,
            "createacct_owasp_hashing": created_owasp,
        }


def _create_accounts(url: str, token: str) -> dict[str, Any]:
    """CREATE_COUNT createacct calls from CREATE_CLIENTS clients at once: accounts per second
    (each hashes its password with Argon2id and writes its zone)."""
    failures: list[str] = []
    latencies: list[float] = []
    lock = threading.Lock()
    names = iter(f"c{uuid.uuid4().hex[:9]}" for _ in range(CREATE_COUNT))

    def work() -> None:
        with httpx.Client(headers={"Authorization": f"whm root:{token}"}, timeout=120) as c:
            while True:
                with lock:
                    name = next(names, None)
                if name is None:
                    return
                started = time.perf_counter()
                answer = c.get(f"{url}/json-api/createacct", params={
                    "api.version": "1", "username": name, "domain": f"{name}.{SUFFIX}",
                    "password": f"Pw-{uuid.uuid4().hex}",
                })  # fmt: skip
                with lock:
                    latencies.append((time.perf_counter() - started) * 1000)
                    if answer.json()["metadata"]["result"] != 1:
                        failures.append(answer.text[:200])

    threads = [threading.Thread(target=work) for _ in range(CREATE_CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return {
        "accounts": CREATE_COUNT,
        "clients": CREATE_CLIENTS,
        "per_s": round(CREATE_COUNT / elapsed, 1),
        "latency": _timings(latencies),
        "failures": failures[:3],
    }


def measure_zones(backend: str, postgres_url: str | None, pinning: Pinning) -> dict[str, Any]:
    with ExitStack() as stack:
        store = stores.create(stack, backend, "scale-zones", postgres_url)
        names = seed(store, ZONE_OWNERS, ZONES - ZONE_OWNERS)
        srv = server.start(stack, store, "scale-zones", pinning, dns=True, listeners=server.DEFAULT)
        at_ready = srv.memory_kib()
        assert srv.dns_port is not None
        latencies = []
        zones_known = [f"{n}.{SUFFIX}" for n in names] + [
            f"z{i:06d}.{names[i % len(names)]}.{SUFFIX}" for i in range(ZONES - ZONE_OWNERS)
        ]
        for _ in range(DNS_QUERIES):
            query = dns.message.make_query(random.choice(zones_known), dns.rdatatype.SOA)
            started = time.perf_counter()
            answer = dns.query.udp(query, server.HOST, port=srv.dns_port, timeout=5)
            latencies.append((time.perf_counter() - started) * 1000)
            if not answer.answer:
                raise RuntimeError(f"no SOA for {query.question[0].name}")
        reconcile_s = _reconciled(srv)
        return {
            "zones": ZONES,
            "startup_s": round(srv.startup_s, 3),
            "rss_at_ready_mib": round(at_ready.get("VmRSS", 0) / 1024, 1),
            "rss_after_reconcile_mib": round(srv.memory_kib().get("VmRSS", 0) / 1024, 1),
            "rss_peak_mib": round(srv.memory_kib().get("VmHWM", 0) / 1024, 1),
            "full_reconcile_s": reconcile_s,
            "dns_soa_during_reconcile": _timings(latencies),
            "dns_soa_after_reconcile": _timings(_queries(srv, zones_known)),
        }


def _queries(srv: server.Server, names: list[str]) -> list[float]:
    assert srv.dns_port is not None
    out = []
    for _ in range(DNS_QUERIES):
        query = dns.message.make_query(random.choice(names), dns.rdatatype.SOA)
        started = time.perf_counter()
        dns.query.udp(query, server.HOST, port=srv.dns_port, timeout=5)
        out.append((time.perf_counter() - started) * 1000)
    return out


def _reconciled(srv: server.Server) -> float | None:
    """Seconds from the server's spawn to the end of its start-up zone-file reconcile (the
    log line's time), waiting up to RECONCILE_GIVE_UP_S; None if it never ended."""
    deadline = time.monotonic() + RECONCILE_GIVE_UP_S
    spawned = srv.log_path.stat().st_ctime
    while time.monotonic() < deadline:
        for line in srv.log_path.read_text().splitlines():
            if "zone files reconciled:" in line:
                stamp = time.mktime(time.strptime(line[:19], "%Y-%m-%d %H:%M:%S"))
                return round(stamp + int(line[20:23]) / 1000 - spawned, 1)
        time.sleep(1)
    return None


def measure(backend: str, postgres_url: str | None, pinning: Pinning) -> dict[str, Any]:
    log(f"scale: 10,000 accounts on {backend}")
    accounts = measure_accounts(backend, postgres_url, pinning)
    log(f"scale: 100,000 zones on {backend}")
    zone_figures = measure_zones(backend, postgres_url, pinning)
    return {"backend": backend, "accounts": accounts, "zones": zone_figures}
