"""The DNS cluster peers this node pushes its zone changes to (docs/cluster.md), as cPanel
keeps them (host, user, an API token with `clustering`, a role); the token is encrypted at
rest with the key ring, as the Remote Access Key is."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from gatehouse.dns import zones
from gatehouse.domain.accesshash import KeyRing
from gatehouse.errors import Conflict, InvalidParameter, NotFound
from gatehouse.store.schema import cluster_outbox, cluster_peers

ROLES = ("standalone", "sync", "write-only")


@dataclass(frozen=True, slots=True)
class Peer:
    id: int
    host: str
    port: int
    scheme: str
    verify_tls: bool
    username: str
    role: str
    created_time: int

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}"


def _context(peer_id: int) -> str:
    return f"cluster-peer:{peer_id}"


def _from_row(row: sa.Row[tuple[object, ...]]) -> Peer:
    m = row._mapping
    return Peer(
        int(m["id"]),
        str(m["host"]),
        int(m["port"]),
        str(m["scheme"]),
        bool(m["verify_tls"]),
        str(m["username"]),
        str(m["role"]),
        int(m["created_time"]),
    )


def add(
    conn: sa.Connection,
    keyring: KeyRing,
    *,
    host: str,
    port: int,
    scheme: str,
    verify_tls: bool,
    username: str,
    token: str,
    role: str,
    now: int,
) -> tuple[Peer, int]:
    """A new peer; with a pushing role every zone of this node is queued for it at once (as
    cPanel syncs a server it has just added). Returns the peer and the zones queued."""
    host = host.strip().lower().rstrip(".")
    token = "".join(token.split())
    if not host or "/" in host or " " in host:
        raise InvalidParameter(f"“{host}” is not a host name or address.")
    if not 1 <= port <= 65535:
        raise InvalidParameter(f"{port} is not a port.")
    if scheme not in ("https", "http"):
        raise InvalidParameter("The scheme must be https or http.")
    if role not in ROLES:
        raise InvalidParameter(f"The role must be one of {', '.join(ROLES)}.")
    if not token or not username:
        raise InvalidParameter("A peer needs a user and its API token.")
    try:
        inserted = conn.execute(
            sa.insert(cluster_peers).values(
                host=host,
                port=port,
                scheme=scheme,
                verify_tls=verify_tls,
                username=username,
                token_ciphertext=b"",
                role=role,
                created_time=now,
            )
        ).inserted_primary_key
    except IntegrityError as exc:
        raise Conflict(f"{host}:{port} is a peer already.") from exc
    assert inserted is not None
    peer_id = int(inserted[0])
    conn.execute(
        sa.update(cluster_peers)
        .where(cluster_peers.c.id == peer_id)
        .values(token_ciphertext=keyring.encrypt(token, _context(peer_id)))
    )
    peer = get(conn, peer_id)
    queued = 0
    if role in zones.PUSHING_ROLES:
        names = sorted(zones.versions(conn))
        if names:
            conn.execute(
                sa.insert(cluster_outbox),
                [
                    {
                        "peer_id": peer_id,
                        "zone": name,
                        "action": "save",
                        "created_time": now,
                        "attempts": 0,
                        "next_attempt": now,
                        "claimed_until": 0,
                    }
                    for name in names
                ],
            )
        queued = len(names)
    return peer, queued


def get(conn: sa.Connection, peer_id: int) -> Peer:
    row = conn.execute(sa.select(cluster_peers).where(cluster_peers.c.id == peer_id)).first()
    if row is None:
        raise NotFound(f"No DNS cluster peer has the id {peer_id}.")
    return _from_row(row)


def find(conn: sa.Connection, host: str, port: int | None = None) -> Peer:
    stmt = sa.select(cluster_peers).where(cluster_peers.c.host == host.strip().lower())
    if port is not None:
        stmt = stmt.where(cluster_peers.c.port == port)
    rows = conn.execute(stmt).all()
    if len(rows) != 1:
        where = f"{host}:{port}" if port else host
        raise NotFound(f"No single DNS cluster peer is {where}.")
    return _from_row(rows[0])


def token(conn: sa.Connection, keyring: KeyRing, peer: Peer) -> str:
    blob = conn.execute(
        sa.select(cluster_peers.c.token_ciphertext).where(cluster_peers.c.id == peer.id)
    ).scalar_one()
    return keyring.decrypt(bytes(blob), _context(peer.id))


def listing(conn: sa.Connection) -> list[tuple[Peer, int, str | None]]:
    """Every peer with its pending changes and the last error of those."""
    out = []
    for row in conn.execute(sa.select(cluster_peers).order_by(cluster_peers.c.host)):
        peer = _from_row(row)
        pending = conn.execute(
            sa.select(sa.func.count()).where(cluster_outbox.c.peer_id == peer.id)
        ).scalar_one()
        error = conn.execute(
            sa.select(cluster_outbox.c.last_error)
            .where(cluster_outbox.c.peer_id == peer.id, cluster_outbox.c.last_error.is_not(None))
            .order_by(cluster_outbox.c.id.desc())
            .limit(1)
        ).scalar()
        out.append((peer, int(pending), error))
    return out


def remove(conn: sa.Connection, peer: Peer) -> None:
    conn.execute(sa.delete(cluster_outbox).where(cluster_outbox.c.peer_id == peer.id))
    conn.execute(sa.delete(cluster_peers).where(cluster_peers.c.id == peer.id))
