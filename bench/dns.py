"""Scenario 8: DNS. On a fresh store and a production server with the built-in nameserver:

1. the zone `bench.example` (adddns) grown to 10,000 records with a few POSTed
   `mass_edit_dns_zone` calls (bench/zone.py says what is in it);
2. `parse_dns_zone` timed call by call;
3. the DNS-01 pattern timed call by call: `mass_edit_dns_zone` adding an `_acme-challenge`
   TXT, then removing it by its line index, the serial carried from each answer — and the zone
   checked to be as it was, serial aside;
4. the cold case: the first mass edit of freshly started server processes (nothing parsed);
5. the first DNS answer after a change (the nameserver loads the changed zone) and the next;
6. queries/s of the built-in nameserver and of PowerDNS serving gatehouse's zone files for the
   same store, with dnsperf (bench/dnsload.py).

Timed API calls are made one after another on one keep-alive connection, from this process
moved to the load core; a time is from sending the request to having the whole response."""

from __future__ import annotations

import base64
import random
import shutil
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import median
from typing import Any
from urllib.parse import urlencode

import dns.exception
import httpx

from bench import dnsload, dnsperf, powerdns, server, stores, zone
from bench.stats import summary
from bench.tools import Pinning, ensure_dnsperf, log

BATCH = 1_900  # adds per growing call: the API takes at most 2,000 parameters a request
ACME = "_acme-challenge"


@dataclass(frozen=True, slots=True)
class Settings:
    records: int = 10_000  # in the zone, the template's included
    calls: int = 100  # parse_dns_zone calls, and add+remove pairs, timed
    cold_starts: int = 3
    after_change: int = 3  # first answers after a change, timed
    rounds: int = 3
    load: dnsperf.Load = field(default_factory=dnsperf.Load)
    queries: int = 10_000  # lines of dnsperf's query file (it loops over them)


@dataclass(frozen=True, slots=True)
class Timed:
    data: Any
    ms: float
    size: int  # response body, bytes


class Api:
    """WHM API 1 over one keep-alive connection, as root with a token (in a header: never
    on a command line)."""

    def __init__(self, url: str, token: str) -> None:
        self._client = httpx.Client(
            base_url=url, headers={"Authorization": f"whm root:{token}"}, timeout=120
        )

    def close(self) -> None:
        self._client.close()

    def call(self, function: str, params: Sequence[tuple[str, str]]) -> Timed:
        """POST the parameters as a form; the time excludes encoding and JSON decoding."""
        body = urlencode(params).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        url = f"/json-api/{function}?api.version=1"
        started = time.perf_counter()
        response = self._client.post(url, content=body, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        envelope = response.json()
        if response.status_code != 200 or envelope["metadata"]["result"] != 1:
            raise RuntimeError(
                f"{function}: HTTP {response.status_code}: {envelope['metadata']['reason']}"
            )
        return Timed(envelope.get("data"), elapsed, len(response.content))


# -- the zone as parse_dns_zone gives it ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Item:
    line_index: int
    kind: str
    dname: str
    ttl: int
    record_type: str
    data: tuple[str, ...]


def _b64(value: str) -> str:
    return base64.b64decode(value).decode("utf-8", "surrogateescape")


def items(payload: list[dict[str, Any]]) -> list[Item]:
    out = []
    for p in payload:
        if p["type"] == "record":
            data = tuple(_b64(d) for d in p["data_b64"])
            out.append(
                Item(
                    p["line_index"],
                    "record",
                    _b64(p["dname_b64"]),
                    p["ttl"],
                    p["record_type"],
                    data,
                )
            )
        else:
            out.append(Item(p["line_index"], p["type"], _b64(p["text_b64"]), 0, "", ()))
    return out


def soa_serial(found: Sequence[Item]) -> int:
    return next(int(i.data[2]) for i in found if i.record_type == "SOA")


def without_serial(found: Sequence[Item]) -> list[Item]:
    """The items with the SOA's serial blanked: what must be equal before and after."""
    return [
        Item(i.line_index, i.kind, i.dname, i.ttl, i.record_type, (*i.data[:2], "-", *i.data[3:]))
        if i.record_type == "SOA"
        else i
        for i in found
    ]


def read_zone(api: Api) -> list[Item]:
    return items(api.call("parse_dns_zone", [("zone", zone.ZONE)]).data["payload"])


# -- the measurements --------------------------------------------------------------------------


@dataclass
class State:
    """What a client keeps between calls: the serial of the last answer."""

    serial: int
    acme_index: int  # where an added record lands: the line after the last one


def grow(api: Api, records: int) -> tuple[dict[str, Any], list[zone.Record], State]:
    api.call("adddns", [("domain", zone.ZONE), ("ip", zone.ADDDNS_IP)])
    found = read_zone(api)
    serial = soa_serial(found)
    present = sum(1 for i in found if i.kind == "record")
    generated = list(zone.records(max(0, records - present)))
    log(f"dns: growing {zone.ZONE} from {present} to {present + len(generated):,} records")
    started = time.perf_counter()
    calls: list[float] = []
    for start in range(0, len(generated), BATCH):
        batch = generated[start : start + BATCH]
        params = [("zone", zone.ZONE), ("serial", str(serial))]
        params += [(f"add-{k}", r.add_json()) for k, r in enumerate(batch)]
        answer = api.call("mass_edit_dns_zone", params)
        serial = int(answer.data["new_serial"])
        calls.append(answer.ms)
    seconds = time.perf_counter() - started
    found = read_zone(api)
    count = sum(1 for i in found if i.kind == "record")
    if count != records and generated:
        raise RuntimeError(f"the zone has {count} records, expected {records}")
    last = max(i.line_index for i in found)
    info = {
        "name": zone.ZONE,
        "records": count,
        "lines": last + 1,
        "growth": {"calls": len(calls), "seconds": seconds, "call_ms": calls},
    }
    return info, generated, State(soa_serial(found), last + 1)


def time_parse(api: Api, calls: int) -> dict[str, Any]:
    log(f"dns: {calls} parse_dns_zone calls")
    answers = [api.call("parse_dns_zone", [("zone", zone.ZONE)]) for _ in range(calls)]
    out = summary([a.ms for a in answers])
    out["response_bytes"] = answers[-1].size
    out["items"] = len(answers[-1].data["payload"])
    return out


def _acme_value(rng: random.Random) -> str:
    """What a DNS-01 TXT holds: base64url of a SHA-256 digest, 43 characters."""
    return base64.urlsafe_b64encode(rng.randbytes(32)).decode().rstrip("=")


def add_remove(api: Api, state: State, rng: random.Random) -> tuple[float, float]:
    """The DNS-01 pair: add an _acme-challenge TXT, then remove it. Returns both times."""
    record = zone.Record(ACME, 300, "TXT", (_acme_value(rng),))
    add = api.call(
        "mass_edit_dns_zone",
        [("zone", zone.ZONE), ("serial", str(state.serial)), ("add", record.add_json())],
    )
    state.serial = int(add.data["new_serial"])
    remove = api.call(
        "mass_edit_dns_zone",
        [("zone", zone.ZONE), ("serial", str(state.serial)), ("remove", str(state.acme_index))],
    )
    state.serial = int(remove.data["new_serial"])
    return add.ms, remove.ms


def check_acme_index(api: Api, state: State, rng: random.Random) -> None:
    """Once, untimed: an added record is where the remove will look for it."""
    record = zone.Record(ACME, 300, "TXT", (_acme_value(rng),))
    add = api.call(
        "mass_edit_dns_zone",
        [("zone", zone.ZONE), ("serial", str(state.serial)), ("add", record.add_json())],
    )
    state.serial = int(add.data["new_serial"])
    at = [i for i in read_zone(api) if i.line_index == state.acme_index]
    if not at or at[0].dname != ACME or at[0].data != record.data:
        raise RuntimeError(f"the added TXT is not at line index {state.acme_index}: {at}")
    remove = api.call(
        "mass_edit_dns_zone",
        [("zone", zone.ZONE), ("serial", str(state.serial)), ("remove", str(state.acme_index))],
    )
    state.serial = int(remove.data["new_serial"])


def time_edits(api: Api, state: State, calls: int, rng: random.Random) -> dict[str, Any]:
    log(f"dns: {calls} mass_edit_dns_zone add+remove pairs")
    before = without_serial(read_zone(api))
    check_acme_index(api, state, rng)
    adds: list[float] = []
    removes: list[float] = []
    for _ in range(calls):
        add_ms, remove_ms = add_remove(api, state, rng)
        adds.append(add_ms)
        removes.append(remove_ms)
    after = read_zone(api)
    unchanged = without_serial(after) == before
    if soa_serial(after) != state.serial:
        raise RuntimeError(
            f"the zone's serial is {soa_serial(after)}, the last answer said {state.serial}"
        )
    if not unchanged:
        raise RuntimeError("after the add+remove pairs the zone is not what it was (serial aside)")
    return {
        "pairs": calls,
        "add": summary(adds),
        "remove": summary(removes),
        "zone_unchanged": unchanged,
        "acme_line_index": state.acme_index,
    }


def time_cold(
    store: stores.Store, token: str, state: State, pinning: Pinning, count: int, rng: random.Random
) -> dict[str, Any]:
    """The first mass edit (an add, then its remove) of `count` freshly started servers."""
    log(f"dns: {count} cold mass edits (fresh server processes)")
    samples = []
    for n in range(count):
        with ExitStack() as stack:
            srv = server.start(stack, store, f"dns-cold-{n}", pinning)
            api = Api(srv.url, token)
            stack.callback(api.close)
            add_ms, remove_ms = add_remove(api, state, rng)
            samples.append(
                {"startup_ms": srv.startup_s * 1000, "add_ms": add_ms, "remove_ms": remove_ms}
            )
    return {
        "add_ms_median": median(s["add_ms"] for s in samples),
        "remove_ms_median": median(s["remove_ms"] for s in samples),
        "samples": samples,
    }


def time_first_answers(
    api: Api, port: int, state: State, count: int, rng: random.Random, known: zone.Query
) -> dict[str, Any]:
    """After a change (an add+remove pair), the time of the nameserver's next answer — it
    loads the changed zone — and of the one after."""
    log(f"dns: {count} first answers after a change")
    first: list[float] = []
    second: list[float] = []
    for _ in range(count):
        add_remove(api, state, rng)
        for into in (first, second):
            started = time.perf_counter()
            response = dnsload.ask(port, known.name, known.rdtype)
            into.append((time.perf_counter() - started) * 1000)
            if set(known.values) - dnsload.values(response, known.rdtype):
                raise RuntimeError(f"wrong answer for {known.name}: {response}")
    return {"first": summary(first), "second": summary(second)}


# -- the scenario ------------------------------------------------------------------------------


def measure(
    backend: str, postgres_url: str | None, pinning: Pinning, settings: Settings
) -> dict[str, Any]:
    results: dict[str, Any] = {"settings": asdict(settings), "notes": []}
    notes: list[str] = results["notes"]
    rng = random.Random(8)
    with ExitStack() as stack:
        store = stores.create(stack, backend, "dns", postgres_url)
        token = store.create_token("bench-dns")
        srv = server.start(stack, store, "dns", pinning, dns=True)
        assert srv.dns_port is not None
        api = Api(srv.url, token)
        stack.callback(api.close)
        with pinning.harness_on_client():
            info, generated, state = grow(api, settings.records)
            results["zone"] = info
            results["parse"] = time_parse(api, settings.calls)
            results["mass_edit"] = time_edits(api, state, settings.calls, rng)
            results["cold"] = time_cold(store, token, state, pinning, settings.cold_starts, rng)
            mix = zone.queries(generated, settings.queries)
            known = next(q for q in mix if q.kind == "A")
            results["after_change"] = time_first_answers(
                api, srv.dns_port, state, settings.after_change, rng, known
            )
        zone_file = store.zone_dir / f"{zone.ZONE}.db"
        results["zone"]["file_bytes"] = zone_file.stat().st_size if zone_file.exists() else None
        results["nameserver"] = _nameservers(
            stack, store, srv, state, pinning, settings, mix, known
        )
        notes += results["nameserver"].pop("notes")
        results["memory_kib"] = srv.memory_kib()
    return results


def _nameservers(
    stack: ExitStack,
    store: stores.Store,
    srv: server.Server,
    state: State,
    pinning: Pinning,
    settings: Settings,
    mix: list[zone.Query],
    known: zone.Query,
) -> dict[str, Any]:
    out: dict[str, Any] = {"measured": False, "notes": []}
    try:
        dnsperf_path = ensure_dnsperf()
    except (RuntimeError, OSError) as exc:
        out["notes"].append(f"nameserver load not measured: {exc}")
        return out
    assert srv.dns_port is not None
    targets = [dnsload.Target("builtin", "gatehouse (built-in)", srv.dns_port, srv.pid)]
    try:
        pdns = powerdns.start(stack, store, pinning, zone.ZONE)
        out["powerdns_startup_ms"] = pdns.startup_s * 1000
        targets.append(dnsload.Target("powerdns", "PowerDNS (bind backend)", pdns.port, pdns.pid))
    except (RuntimeError, OSError) as exc:
        out["notes"].append(f"PowerDNS not measured: {exc}")
    serials: dict[str, int | None] = {}
    for target in targets:
        try:
            serials[target.key] = dnsload.serial(target.port, zone.APEX)
        except (dns.exception.DNSException, RuntimeError) as exc:
            serials[target.key] = None
            out["notes"].append(f"{target.key}: no SOA for {zone.APEX}: {exc}")
    out["serials"] = {**serials, "store": state.serial}
    for key, seen in serials.items():
        if seen != state.serial:
            out["notes"].append(f"{key} serves serial {seen}, the store has {state.serial}")
    targets, problems = dnsload.check(targets, known, zone.probes(mix))
    out["check_problems"] = problems
    out["notes"] += problems
    if not targets:
        return out
    directory = Path(tempfile.mkdtemp(prefix="gatehouse-bench-dnsperf-"))
    stack.callback(shutil.rmtree, directory, ignore_errors=True)
    query_file = zone.write_query_file(directory / "queries.txt", mix)
    out["query_file"] = {
        "queries": len(mix),
        "mix_percent": dict(zone.MIX),
        "load": asdict(settings.load),
    }
    log(f"dns: {settings.rounds} rounds of dnsperf on {', '.join(t.key for t in targets)}")
    runs = dnsload.run_rounds(
        targets,
        rounds=settings.rounds,
        load=settings.load,
        dnsperf_path=dnsperf_path,
        query_file=query_file,
        pinning=pinning,
    )
    unloaded = dnsload.run_unloaded(
        targets,
        load=settings.load,
        dnsperf_path=dnsperf_path,
        query_file=query_file,
        pinning=pinning,
    )
    out["servers"] = {
        key: {
            "title": next(t.title for t in targets if t.key == key),
            "median": dnsload.medians(found),
            "runs": [r.to_json() for r in found],
            "one_in_flight": unloaded[key].to_json(),
        }
        for key, found in runs.items()
    }
    for key, found in runs.items():
        dirty = [r for r in (*found, unloaded[key]) if not r.clean]
        if dirty:
            out["notes"].append(f"dns {key}: {len(dirty)} run(s) saw lost queries or failures")
    out["measured"] = True
    return out
