"""Scenario 8's zone and the questions asked of it.

The zone `bench.example` is made by `adddns` (cPanel's standard template) and grown with
`mass_edit_dns_zone` to RECORDS records: A, AAAA, TXT, MX and CNAME in a fixed rotation,
plus one wildcard (`*.wild`). Names and data are deterministic (a seeded generator), so two
runs load the same zone. The query mix draws names from it: records that exist (each type),
names that do not (NXDOMAIN) and names under the wildcard."""

from __future__ import annotations

import ipaddress
import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ZONE = "bench.example"
APEX = f"{ZONE}."
ADDDNS_IP = "192.0.2.1"
WILDCARD_OWNER = "*.wild"
WILDCARD_ADDRESS = "198.51.100.7"
# One record per step, in this order: index i gets KINDS[i % 10]. Step 0 is always an A, so
# `host{i - i % 10}` is an address the MX and CNAME records of the same decade can point at.
KINDS = ("A", "AAAA", "TXT", "A", "MX", "A", "CNAME", "TXT", "A", "AAAA")
TTLS = (300, 3600, 14400)
# The query mix, in per cent: what an authoritative server for a hosting company sees is
# mostly addresses, then mail and TXT (SPF, DKIM, ACME), and a share of names that do not
# exist (typos, scanners, negative-caching resolvers).
MIX: tuple[tuple[str, int], ...] = (
    ("A", 35),
    ("AAAA", 10),
    ("TXT", 15),
    ("MX", 10),
    ("CNAME", 10),  # asked as A: the CNAME and its target's address in one answer
    ("NXDOMAIN", 15),
    ("wildcard", 5),
)


@dataclass(frozen=True, slots=True)
class Record:
    dname: str  # relative to the zone
    ttl: int
    record_type: str
    data: tuple[str, ...]

    def add_json(self) -> str:
        """mass_edit_dns_zone's `add` item."""
        return json.dumps(
            {
                "dname": self.dname,
                "ttl": self.ttl,
                "record_type": self.record_type,
                "data": list(self.data),
            },
            separators=(",", ":"),
        )


def _address(i: int) -> str:
    return str(ipaddress.IPv4Address("198.18.0.0") + i)  # RFC 2544's benchmarking range


def _address6(i: int) -> str:
    return str(ipaddress.IPv6Address("2001:db8::") + i)


def record(i: int, rng: random.Random) -> Record:
    """The i-th generated record (its kind by KINDS)."""
    kind = KINDS[i % len(KINDS)]
    ttl = rng.choice(TTLS)
    target = f"host{i - i % len(KINDS)}.{APEX}"
    if kind == "A":
        return Record(f"host{i}", ttl, "A", (_address(i),))
    if kind == "AAAA":
        return Record(f"host{i}", ttl, "AAAA", (_address6(i),))
    if kind == "TXT":
        return Record(f"txt{i}", ttl, "TXT", (f"v=bench1 n={i} k={rng.getrandbits(128):032x}",))
    if kind == "MX":
        return Record(f"mx{i}", ttl, "MX", ("10", target))
    return Record(f"alias{i}", ttl, "CNAME", (target,))


def records(count: int, seed: int = 8) -> Iterator[Record]:
    """`count` records: the wildcard first, then the rotation."""
    rng = random.Random(seed)
    if count <= 0:
        return
    yield Record(WILDCARD_OWNER, 300, "A", (WILDCARD_ADDRESS,))
    for i in range(count - 1):
        yield record(i, rng)


@dataclass(frozen=True, slots=True)
class Query:
    name: str  # absolute, with the final dot
    rdtype: str  # what is asked
    kind: str  # which part of the mix
    rcode: str  # the answer expected: NOERROR or NXDOMAIN
    values: tuple[str, ...]  # values expected among the answer's `rdtype` records


def _expected(rec: Record) -> tuple[str, ...]:
    if rec.record_type == "MX":
        return (" ".join(rec.data),)
    return rec.data


def queries(generated: Sequence[Record], count: int, seed: int = 53) -> list[Query]:
    """`count` questions in the proportions of MIX, shuffled, about the `generated` records
    (those `records()` gave the zone)."""
    rng = random.Random(seed)
    by_kind: dict[str, list[Record]] = {k: [] for k in ("A", "AAAA", "TXT", "MX", "CNAME")}
    for rec in generated:
        if rec.dname != WILDCARD_OWNER:
            by_kind[rec.record_type].append(rec)
    total = sum(weight for _kind, weight in MIX)
    out: list[Query] = []
    for kind, weight in MIX:
        for _ in range(round(count * weight / total)):
            out.append(_query(kind, by_kind, rng))
    rng.shuffle(out)
    return out


def _query(kind: str, by_kind: dict[str, list[Record]], rng: random.Random) -> Query:
    if kind == "NXDOMAIN":
        return Query(f"nx-{rng.getrandbits(40):010x}.{APEX}", "A", kind, "NXDOMAIN", ())
    if kind == "wildcard":
        name = f"w{rng.getrandbits(32):08x}.wild.{APEX}"
        return Query(name, "A", kind, "NOERROR", (WILDCARD_ADDRESS,))
    rec = rng.choice(by_kind[kind])
    name = f"{rec.dname}.{APEX}"
    if kind == "CNAME":
        target = rec.data[0].removesuffix(f".{APEX}")
        i = int(target.removeprefix("host"))
        return Query(name, "A", kind, "NOERROR", (_address(i),))
    return Query(name, kind, kind, "NOERROR", _expected(rec))


def probes(mix: Sequence[Query], per_kind: int = 3) -> list[Query]:
    """A few questions of each kind, for checking answers before any load."""
    out: list[Query] = []
    for kind, _weight in MIX:
        out += [q for q in mix if q.kind == kind][:per_kind]
    return out


def write_query_file(path: Path, mix: Sequence[Query]) -> Path:
    """dnsperf's input: `name type` per line (it loops over the file)."""
    path.write_text("".join(f"{q.name} {q.rdtype}\n" for q in mix))
    return path
