"""Pushing queued zone changes to DNS cluster peers (docs/cluster.md), as a cPanel web
server pushes to its nameservers, each request carrying a fresh `dnsuniqid`:

* a zone new to the peer: `quickzoneadd_local` with the whole zone — on cPanel `savezone`
  only writes the zone file, `quickzoneadd` also adds the zone to named.conf and has BIND
  reread it (Cpanel/NameServer/Local/cPanel.pm; Cpanel/DnsUtils/Add.pm sends it);
* a changed zone: `savezone_local`, then `reloadzones_local` for that zone — a cPanel peer
  serves the new text only once BIND reloads it (Whostmgr/DNS.pm, Cpanel/ZoneFile/LineEdit.pm
  pair SAVEZONE with RELOADBIND, which is reloadzones);
* a removed zone: `removezone_local`.

Every process of every node may run `push_due`: a change is claimed by one UPDATE that only
one of them can win, so each is sent once; a failure is kept with its error and retried with
backoff (5 s doubling, up to an hour). The zone is read when it is sent, so several queued
changes of one zone go as its latest text. A `sync` peer is asked for its serial first and
gets the zone only when its serial is lower; a `write-only` peer gets it regardless."""

from __future__ import annotations

import logging
import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import sqlalchemy as sa

from gatehouse.dns import zones
from gatehouse.domain import cluster_check, cluster_peers
from gatehouse.domain.accesshash import KeyRing
from gatehouse.store.schema import cluster_outbox

log = logging.getLogger("gatehouse.cluster")

CLAIM_FOR = 120  # seconds a claimed change is another sender's to leave alone
BATCH = 50
TIMEOUT = 15.0
MAX_BACKOFF = 3600
MAX_PEERS_AT_ONCE = 8
_SERIAL = re.compile(r"\bSOA\s+\S+\s+\S+\s+\(?\s*(\d+)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Pushed:
    sent: int
    skipped: int
    failed: int


def push_due(engine: sa.Engine, keyring: KeyRing, now: int, budget: float = 10.0) -> Pushed:
    """Send the changes due at `now` for at most `budget` seconds (what is left waits for the
    next pass): each peer's in the order they were made, over one connection per peer, the
    peers side by side (a slow or unreachable peer does not hold the others up)."""
    started = time.monotonic()
    deadline = started + budget
    totals = Pushed(0, 0, 0)
    while time.monotonic() - started < budget:
        with engine.connect() as conn:
            due = conn.execute(
                sa.select(cluster_outbox.c.id, cluster_outbox.c.peer_id)
                .where(cluster_outbox.c.next_attempt <= now, cluster_outbox.c.claimed_until < now)
                .order_by(cluster_outbox.c.id)
                .limit(BATCH)
            ).all()
        if not due:
            break
        by_peer: dict[int, list[int]] = {}
        for change_id, peer_id in due:
            by_peer.setdefault(int(peer_id), []).append(int(change_id))
        with ThreadPoolExecutor(max_workers=min(len(by_peer), MAX_PEERS_AT_ONCE)) as pool:
            passes = list(
                pool.map(
                    lambda ids: _push_peer(engine, keyring, ids, now, deadline), by_peer.values()
                )
            )
        for one in passes:
            totals = Pushed(
                totals.sent + one.sent, totals.skipped + one.skipped, totals.failed + one.failed
            )
        if not any(one.sent or one.skipped for one in passes):
            break  # only failures (retried later) or changes another sender took
    return totals


def _push_peer(
    engine: sa.Engine, keyring: KeyRing, change_ids: list[int], now: int, deadline: float
) -> Pushed:
    """One peer's due changes, in order, on one connection."""
    sent = skipped = failed = 0
    clients: dict[int, httpx.Client] = {}
    try:
        for change_id in change_ids:
            if time.monotonic() >= deadline:
                break
            outcome = _push_one(engine, keyring, change_id, now, clients)
            sent += outcome == SENT
            skipped += outcome == SKIPPED
            failed += outcome == FAILED
    finally:
        for client in clients.values():
            client.close()
    return Pushed(sent, skipped, failed)


SENT, SKIPPED, FAILED, TAKEN = "sent", "skipped", "failed", "taken"


def _push_one(
    engine: sa.Engine,
    keyring: KeyRing,
    change_id: int,
    now: int,
    clients: dict[int, httpx.Client],
) -> str:
    with engine.begin() as conn:
        claimed = conn.execute(
            sa.update(cluster_outbox)
            .where(cluster_outbox.c.id == change_id, cluster_outbox.c.claimed_until < now)
            .values(claimed_until=now + CLAIM_FOR)
        ).rowcount
        if not claimed:
            return TAKEN  # another sender has it
        row = conn.execute(sa.select(cluster_outbox).where(cluster_outbox.c.id == change_id)).one()
        peer = cluster_peers.get(conn, row.peer_id)
        client = clients.get(peer.id)
        if client is None:
            secret = cluster_peers.token(conn, keyring, peer)
            client = clients[peer.id] = httpx.Client(
                base_url=peer.base_url,
                headers={"Authorization": f"whm {peer.username}:{secret}"},
                verify=peer.verify_tls,
                timeout=TIMEOUT,
            )
        zone = zones.get(conn, row.zone)
    try:
        error = _send(client, peer.role, row.action, row.zone, zone)
    except httpx.HTTPError as exc:
        error = cluster_check.explain(exc)
    with engine.begin() as conn:
        # The peer's row before the change's, in both outcomes: the order in which removing
        # a peer takes them (cluster_peers.remove), so that the two cannot deadlock.
        if error is None or error == SKIPPED:
            cluster_peers.delivered(conn, peer.id, now)
            conn.execute(sa.delete(cluster_outbox).where(cluster_outbox.c.id == change_id))
            return SENT if error is None else SKIPPED
        cluster_peers.failed(conn, peer.id, error, now)
        attempts = row.attempts + 1
        conn.execute(
            sa.update(cluster_outbox)
            .where(cluster_outbox.c.id == change_id)
            .values(
                attempts=attempts,
                next_attempt=now + min(5 * 2 ** (attempts - 1), MAX_BACKOFF),
                claimed_until=0,
                last_error=error,
            )
        )
    log.warning("pushing %s of %s to %s failed: %s", row.action, row.zone, peer.label, error)
    return FAILED


def _send(
    client: httpx.Client, role: str, action: str, name: str, zone: zones.Zone | None
) -> str | None:
    """None when sent, SKIPPED when nothing needed sending, else the error."""
    if action == zones.REMOVE:
        if zone is not None:
            return SKIPPED  # made again since: its add follows (quickzoneadd, then a reload)
        return _checked(client.post("/scripts2/removezone_local", data=_form(zone=name)))
    if zone is None:
        return SKIPPED  # removed since: its removal follows
    new_to_peer = action == zones.ADD
    if role == "sync":
        theirs = client.post("/scripts2/getzone_local", data=_form(zone=name))
        if theirs.status_code == 200:
            found = _SERIAL.search(theirs.text)
            if found and int(found.group(1)) >= zone.serial:
                return SKIPPED
            # The peer's own answer is better than the outbox's guess: a zone it has needs
            # only a save and a reload; one it lacks, the add (whatever the change was).
            new_to_peer = not theirs.text.strip()
            if new_to_peer:
                return _checked(_post_zone(client, "quickzoneadd", name, zone))
    if new_to_peer:
        # An add may reach a peer that has the zone already (a peer being synced; a zone
        # removed and made again, whose removal was skipped): quickzoneadd writes it there
        # too but BIND's reconfig does not reload a zone it has loaded, hence the reload.
        error = _checked(_post_zone(client, "quickzoneadd", name, zone))
    else:
        error = _checked(_post_zone(client, "savezone", name, zone))
    if error is not None:
        return error
    return _checked(client.post("/scripts2/reloadzones_local", data=_form(zone=name)))


def _post_zone(client: httpx.Client, verb: str, name: str, zone: zones.Zone) -> httpx.Response:
    return client.post(f"/scripts2/{verb}_local", data=_form(zone=name, zonedata=zone.text))


def _form(**fields: str) -> dict[str, str]:
    return {**fields, "dnsuniqid": uuid.uuid4().hex}


def _checked(response: httpx.Response) -> str | None:
    if response.status_code == 200:
        return None
    return cluster_check.refusal(response)
