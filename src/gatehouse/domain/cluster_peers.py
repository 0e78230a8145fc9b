"""The DNS cluster peers this node pushes its zone changes to (docs/cluster.md), as cPanel
keeps them (host, user, an API token with `clustering`, a role); the token is encrypted at
rest with the key ring, as the Remote Access Key is."""

from __future__ import annotations

import re
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
    origin: str = "added"  # or "trust": a cPanel server's reverse trust request

    @property
    def base_url(self) -> str:
        return base_url(self.scheme, self.host, self.port)

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
        str(m["origin"]),
    )


@dataclass(frozen=True, slots=True)
class Status:
    """A peer as the DNS Cluster page and `cluster status` show it."""

    peer: Peer
    pending: int  # changes queued for it
    oldest_pending: int | None  # when the oldest of them was made
    last_delivery: int | None
    last_error: str | None  # set while the peer is failing; cleared by a delivery
    last_error_time: int | None

    @property
    def healthy(self) -> bool:
        return self.last_error is None


def base_url(scheme: str, host: str, port: int) -> str:
    """Where a peer (or a master asking for trust) is reached; an IPv6 address bracketed."""
    return f"{scheme}://{f'[{host}]' if ':' in host else host}:{port}"


def validated(host: str, port: int, scheme: str, role: str) -> str:
    """The host as kept (lower case, no trailing dot), once host, port, scheme and role are
    known to be usable; InvalidParameter naming the first that is not."""
    host = host.strip().lower().rstrip(".")
    if not host or any(c in host for c in "/ @?#\r\n\t"):
        raise InvalidParameter(f"“{host}” is not a host name or address.")
    if not 1 <= port <= 65535:
        raise InvalidParameter(f"{port} is not a port.")
    if scheme not in ("https", "http"):
        raise InvalidParameter("The scheme must be https or http.")
    if role not in ROLES:
        raise InvalidParameter(f"The role must be one of {', '.join(ROLES)}.")
    return host


def clean_token(token: str) -> str:
    """The token as cPanel's setup reads it: whitespace and any `-----BEGIN/END WHM ACCESS
    KEY-----` wrapper taken off (an access hash is pasted with its line breaks)."""
    token = re.sub(r"-+\s*(BEGIN|END)\s+WHM\s+ACCESS\s+KEY\s*-+", "", token)
    return "".join(token.split())


# What an `Authorization: whm USER:TOKEN` header can carry: visible ASCII (a cPanel user
# name, an API token of [A-Z0-9] or an access hash's hex); the user holds no `:`.
_HEADER_WORD = re.compile(r"[!-~]+")


def sendable(text: str) -> bool:
    """Whether `text` can go into an HTTP header as it is: printable ASCII and spaces (a
    control character or a non-ASCII one cannot; httpx refuses to encode it)."""
    return all(" " <= c <= "~" for c in text)


def credentials(username: str, token: str) -> tuple[str, str]:
    """The user and token as kept and sent (`clean_token`'s token, the user stripped);
    InvalidParameter when either is empty or could not go into the peer's header."""
    username, token = username.strip(), clean_token(token)
    if not token or not username:
        raise InvalidParameter("A peer needs a user and its API token.")
    if not _HEADER_WORD.fullmatch(username) or ":" in username:
        raise InvalidParameter(
            "The peer's user name must be printable ASCII, without spaces or “:”."
        )
    if not _HEADER_WORD.fullmatch(token):
        raise InvalidParameter(
            "The API token must be printable ASCII (a token is 32 letters and digits)."
        )
    return username, token


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
    origin: str = "added",
) -> tuple[Peer, int]:
    """A new peer; with a pushing role every zone of this node is queued for it at once (as
    cPanel syncs a server it has just added). Returns the peer and the zones queued."""
    host = validated(host, port, scheme, role)
    username, token = credentials(username, token)
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
                origin=origin,
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
    queued = queue_all(conn, peer, now) if role in zones.PUSHING_ROLES else 0
    return peer, queued


def queue_all(conn: sa.Connection, peer: Peer, now: int) -> int:
    """Queue every zone of this node for the peer (cPanel's synczones); how many. Queued as
    adds: the peer may lack them (a new peer) or have them (quickzoneadd and a reload serve
    both)."""
    names = sorted(zones.versions(conn))
    if names:
        conn.execute(
            sa.insert(cluster_outbox),
            [
                {
                    "peer_id": peer.id,
                    "zone": name,
                    "action": zones.ADD,
                    "created_time": now,
                    "attempts": 0,
                    "next_attempt": now,
                    "claimed_until": 0,
                }
                for name in names
            ],
        )
    return len(names)


def set_role(conn: sa.Connection, peer: Peer, role: str, now: int) -> int:
    """Change the peer's role; a peer that starts pushing gets every zone queued (what it
    missed while it was standalone). Returns the zones queued."""
    if role not in ROLES:
        raise InvalidParameter(f"The role must be one of {', '.join(ROLES)}.")
    conn.execute(sa.update(cluster_peers).where(cluster_peers.c.id == peer.id).values(role=role))
    if role not in zones.PUSHING_ROLES:
        conn.execute(sa.delete(cluster_outbox).where(cluster_outbox.c.peer_id == peer.id))
        return 0
    if peer.role in zones.PUSHING_ROLES:
        return 0
    return queue_all(conn, peer, now)


def trust(
    conn: sa.Connection,
    keyring: KeyRing,
    *,
    host: str,
    port: int,
    username: str,
    token: str,
    now: int,
) -> tuple[Peer, bool]:
    """A cPanel server's reverse trust request: keep it as a standalone peer (cPanel's role
    for it) reached over TLS without verification (cPanel's own servers use self-signed
    certificates), or give an existing peer the new user and token, keeping its role.
    Returns the peer and whether it is new."""
    host = validated(host, port, "https", "standalone")
    existing = conn.execute(
        sa.select(cluster_peers).where(cluster_peers.c.host == host, cluster_peers.c.port == port)
    ).first()
    if existing is None:
        peer, _queued = add(
            conn, keyring, host=host, port=port, scheme="https", verify_tls=False,
            username=username, token=token, role="standalone", now=now, origin="trust",
        )  # fmt: skip
        return peer, True
    peer = _from_row(existing)
    set_credentials(conn, keyring, peer, username, token)
    return get(conn, peer.id), False


def set_credentials(
    conn: sa.Connection, keyring: KeyRing, peer: Peer, username: str, token: str
) -> None:
    """A new user and token for the peer (a token rotated on the peer)."""
    username, token = credentials(username, token)
    conn.execute(
        sa.update(cluster_peers)
        .where(cluster_peers.c.id == peer.id)
        .values(username=username, token_ciphertext=keyring.encrypt(token, _context(peer.id)))
    )


def retry_now(conn: sa.Connection, peer_id: int, now: int) -> None:
    """Make the peer's waiting changes due at once (after its token was fixed)."""
    conn.execute(
        sa.update(cluster_outbox)
        .where(cluster_outbox.c.peer_id == peer_id, cluster_outbox.c.next_attempt > now)
        .values(next_attempt=now)
    )


def delivered(conn: sa.Connection, peer_id: int, now: int) -> None:
    conn.execute(
        sa.update(cluster_peers)
        .where(cluster_peers.c.id == peer_id)
        .values(last_delivery_time=now, last_error=None, last_error_time=None)
    )


def checked(conn: sa.Connection, peer_id: int) -> None:
    """A successful check clears the failure the peer was in (not its last delivery)."""
    conn.execute(
        sa.update(cluster_peers)
        .where(cluster_peers.c.id == peer_id)
        .values(last_error=None, last_error_time=None)
    )


def failed(conn: sa.Connection, peer_id: int, error: str, now: int) -> None:
    conn.execute(
        sa.update(cluster_peers)
        .where(cluster_peers.c.id == peer_id)
        .values(last_error=error[:500], last_error_time=now)
    )


def get(conn: sa.Connection, peer_id: int) -> Peer:
    row = conn.execute(sa.select(cluster_peers).where(cluster_peers.c.id == peer_id)).first()
    if row is None:
        raise NotFound(f"No DNS cluster peer has the id {peer_id}.")
    return _from_row(row)


def pushed_to(conn: sa.Connection) -> list[Peer]:
    """The peers this node sends its changes to (write-only and sync; cPanel's getdnspeers),
    in the order they were added."""
    rows = conn.execute(
        sa.select(cluster_peers)
        .where(cluster_peers.c.role.in_(zones.PUSHING_ROLES))
        .order_by(cluster_peers.c.id)
    )
    return [_from_row(row) for row in rows]


def find(conn: sa.Connection, host: str, port: int | None = None) -> Peer:
    stmt = sa.select(cluster_peers).where(cluster_peers.c.host == host.strip().lower())
    if port is not None:
        stmt = stmt.where(cluster_peers.c.port == port)
    rows = conn.execute(stmt).all()
    if len(rows) != 1:
        where = f"{host}:{port}" if port else host
        raise NotFound(f"No single DNS cluster peer is {where}.")
    return _from_row(rows[0])


def any_at(conn: sa.Connection, hosts: list[str]) -> bool:
    """Whether this node has a peer at any of `hosts` (host names or addresses, as stored)."""
    wanted = {h.strip().lower() for h in hosts if h and h.strip()}
    if not wanted:
        return False
    stmt = sa.select(cluster_peers.c.id).where(cluster_peers.c.host.in_(wanted)).limit(1)
    return conn.execute(stmt).first() is not None


def token(conn: sa.Connection, keyring: KeyRing, peer: Peer) -> str:
    blob = conn.execute(
        sa.select(cluster_peers.c.token_ciphertext).where(cluster_peers.c.id == peer.id)
    ).scalar_one()
    return keyring.decrypt(bytes(blob), _context(peer.id))


def listing(conn: sa.Connection) -> list[Status]:
    """Every peer with its queue, last delivery and the failure it is in, if any."""
    queues = {
        int(peer_id): (int(count), oldest)
        for peer_id, count, oldest in conn.execute(
            sa.select(
                cluster_outbox.c.peer_id,
                sa.func.count(),
                sa.func.min(cluster_outbox.c.created_time),
            ).group_by(cluster_outbox.c.peer_id)
        )
    }
    out = []
    query = sa.select(cluster_peers).order_by(cluster_peers.c.host, cluster_peers.c.port)
    for row in conn.execute(query):
        peer = _from_row(row)
        pending, oldest = queues.get(peer.id, (0, None))
        m = row._mapping
        out.append(
            Status(
                peer,
                pending,
                None if oldest is None else int(oldest),
                _maybe_int(m["last_delivery_time"]),
                m["last_error"],
                _maybe_int(m["last_error_time"]),
            )
        )
    return out


def _maybe_int(value: object) -> int | None:
    return None if value is None else int(str(value))


def remove(conn: sa.Connection, peer: Peer) -> None:
    # The peer's row first, then its changes: the order the sender takes them in (its status,
    # then the change), so that removing a peer while its changes are being sent cannot
    # deadlock on PostgreSQL (seen in CI: each held what the other wanted).
    conn.execute(
        sa.select(cluster_peers.c.id).where(cluster_peers.c.id == peer.id).with_for_update()
    )
    conn.execute(sa.delete(cluster_outbox).where(cluster_outbox.c.peer_id == peer.id))
    conn.execute(sa.delete(cluster_peers).where(cluster_peers.c.id == peer.id))
