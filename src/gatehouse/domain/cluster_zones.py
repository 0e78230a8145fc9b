"""Zones kept for DNS cluster peers (the receiving side of cPanel's dnsadmin protocol,
docs/cluster.md): a peer with the `clustering` privilege creates, replaces, reads and removes
whole zones.

A received zone is validated like any other and stored with the serial it carries. It is
owned by the account of this node whose main domain it is, else by root; the audit trail
records which peer user sent what, from where."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.dns import zones
from gatehouse.domain import accounts, audit, users
from gatehouse.errors import InvalidParameter
from gatehouse.store.rows import upsert
from gatehouse.store.schema import cluster_seen

SEEN_FOR = 600  # seconds a dnsuniqid is remembered
SAVE = "CLUSTERSAVEZONE"
REMOVE = "CLUSTERREMOVEZONE"
# A DNS name as a zone: labels of letters, digits, hyphens and underscores (reverse zones and
# service names included), 253 characters at most.
_NAME = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*"
                   r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Sender:
    """Who sent a change: the authenticated peer user and its address (for the audit)."""

    username: str
    address: str | None


def zone_name(raw: str | None) -> str:
    """The zone a request names (a trailing dot and a `.db` suffix are taken off)."""
    name = (raw or "").strip().rstrip(".").lower().removesuffix(".db")
    if not name or not _NAME.match(name):
        raise InvalidParameter(f"“{raw or ''}” is not a valid zone name.")
    return name


def first_time(conn: sa.Connection, dnsuniqid: str, action: str, names: str, now: int) -> bool:
    """Whether this (dnsuniqid, action, zones) is new to every process and node on the store,
    remembering it; call it in the transaction of the change, so that a change that fails is
    not remembered. Without an id every request is new (cPanel always sends one)."""
    if not dnsuniqid:
        return True
    conn.execute(sa.delete(cluster_seen).where(cluster_seen.c.seen_time < now - SEEN_FOR))
    digest = hashlib.sha256(f"{dnsuniqid}\0{action}\0{names}".encode()).hexdigest()
    # A concurrent twin blocks on the key until this commits, then does nothing.
    inserted = conn.execute(
        upsert(conn, cluster_seen)
        .values(digest=digest, seen_time=now)
        .on_conflict_do_nothing(index_elements=["digest"])
        .returning(cluster_seen.c.digest)
    ).first()
    return inserted is not None


def check(raw_name: str, text: str) -> zones.NewZone:
    """A zone a peer sent, its name and text checked before anything is written (and outside
    the transaction: dnspython's read does not hold SQLite's write lock); InvalidParameter or
    InvalidZone when it cannot be stored."""
    return zones.as_given(zone_name(raw_name), text.replace("\r\n", "\n"))


def save(conn: sa.Connection, given: zones.NewZone, sender: Sender, now: int) -> zones.Zone:
    """Create or replace a zone with what a peer sent (`check`ed), audited."""
    owner = accounts.by_domain(conn, given.name) or users.require(conn, users.ROOT)
    stored = zones.store_given(conn, given, user_id=owner.id, now=now)
    audit.record(
        conn,
        now=now,
        action=SAVE,
        actor=sender.username,
        subject=given.name,
        source_ip=sender.address,
        detail=f"serial {stored.serial}",
    )
    return stored


def remove(conn: sa.Connection, raw_name: str, sender: Sender, now: int) -> bool:
    name = zone_name(raw_name)
    gone = zones.delete(conn, name, push=False)  # a peer's removal is not sent back
    if gone:
        audit.record(
            conn, now=now, action=REMOVE, actor=sender.username, subject=name,
            source_ip=sender.address,
        )  # fmt: skip
    return gone


def text_of(conn: sa.Connection, raw_name: str) -> str | None:
    zone = zones.get(conn, zone_name(raw_name))
    return zone.text if zone is not None else None


def names(conn: sa.Connection) -> list[str]:
    return sorted(zones.versions(conn))
