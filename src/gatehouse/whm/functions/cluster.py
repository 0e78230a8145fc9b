"""The DNS cluster peers this node pushes its zones to (docs/cluster.md). cPanel manages its
peers through pages and CGI scripts, with no public API, so these are **gatehouse
extensions**, named `gatehouse_*_cluster_peer(s)`; the `gatehouse cluster` commands and the
DNS Cluster page use them.

Privilege: `clustering`, which cPanel's DNS cluster pages need. Adding a peer checks, before
anything is stored, that the peer answers and accepts the token for the cluster protocol,
and says what is wrong when it does not (`check=0` stores it unchecked)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gatehouse.api.call import Call
from gatehouse.api.registry import Param
from gatehouse.domain import cluster_check, cluster_peers
from gatehouse.errors import InvalidParameter
from gatehouse.numerals import digits
from gatehouse.whm.registry import REGISTRY

PRIVILEGES = ("clustering",)
HOST = Param("host", "The peer's host name or address.", required=True)
PORT = Param("port", "The peer's WHM port (default 2087, or 2086 with `http=1`).")
PORT_OF_ONE = Param("port", "The peer's port, when two peers share a host.")


def _port(call: Call, default: int | None) -> int | None:
    raw = (call.params.get("port") or "").strip()
    if not raw:
        return default
    if not digits(raw) or not 1 <= int(raw) <= 65535:
        raise InvalidParameter(f"“{raw[:20]}” is not a port.")
    return int(raw)


def _peer(call: Call) -> cluster_peers.Peer:
    return cluster_peers.find(call.conn, call.require("host"), _port(call, None))


def _when(timestamp: int | None) -> str | None:
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def _describe(status: cluster_peers.Status) -> dict[str, Any]:
    peer = status.peer
    return {
        "host": peer.host,
        "port": peer.port,
        "scheme": peer.scheme,
        "verify_tls": int(peer.verify_tls),
        "user": peer.username,
        "role": peer.role,
        "origin": peer.origin,
        "created": peer.created_time,
        "pending": status.pending,
        "oldest_pending": status.oldest_pending,
        "last_delivery": status.last_delivery,
        "last_delivery_time": _when(status.last_delivery),
        "last_error": status.last_error,
        "last_error_time": _when(status.last_error_time),
        "healthy": int(status.healthy),
    }


def _status_of(call: Call, peer: cluster_peers.Peer) -> dict[str, Any]:
    return next(_describe(s) for s in cluster_peers.listing(call.conn) if s.peer.id == peer.id)


@REGISTRY.function(
    "gatehouse_list_cluster_peers",
    "**gatehouse extension**: the DNS cluster peers, each with its role, queue, last delivery "
    "and the failure it is in, if any.",
    privileges=PRIVILEGES,
    readonly=True,
)
def gatehouse_list_cluster_peers(call: Call) -> dict[str, Any]:
    return {"peers": [_describe(s) for s in cluster_peers.listing(call.conn)]}


@REGISTRY.function(
    "gatehouse_add_cluster_peer",
    "**gatehouse extension**: add a DNS cluster peer (a gatehouse node or a cPanel server) that "
    "gets this node's zones in its role; a pushing role queues every zone for it at once.",
    params=(
        HOST,
        PORT,
        Param("user", "The peer's user the token belongs to (default `root`)."),
        Param(
            "token",
            "An API token of that user on the peer holding `clustering` (or its access hash).",
            required=True,
            secret=True,
        ),
        Param(
            "role",
            "`write-only` (default: push every change), `sync` (push when the peer's serial "
            "is lower) or `standalone` (no push).",
        ),
        Param("http", "1: plain HTTP (the peer's port 2086). Default 0: HTTPS."),
        Param(
            "verify_tls",
            "0: accept the peer's self-signed certificate (cPanel's own). Default 1.",
        ),
        Param("check", "0: store the peer without checking it first. Default 1."),
    ),
    privileges=PRIVILEGES,
    slow=True,
)
def gatehouse_add_cluster_peer(call: Call) -> dict[str, Any]:
    plain = call.flag("http")
    port = _port(call, 2086 if plain else 2087)
    assert port is not None
    username, secret = cluster_peers.credentials(
        call.params.get("user") or "root", call.require("token")
    )
    role = (call.params.get("role") or "write-only").strip()
    verify_tls = call.flag("verify_tls", default=True)
    scheme = "http" if plain else "https"
    host = cluster_peers.validated(call.require("host"), port, scheme, role)
    if call.flag("check", default=True):
        # Over the network before the transaction begins: no lock is held while waiting.
        cluster_check.require_usable(
            cluster_peers.base_url(scheme, host, port), f"{host}:{port}", username, secret,
            verify_tls,
        )  # fmt: skip
    peer, queued = cluster_peers.add(
        call.conn, call.gatehouse.keyring, host=host, port=port, scheme=scheme,
        verify_tls=verify_tls, username=username, token=secret, role=role, now=call.now,
    )  # fmt: skip
    call.audit("CLUSTERADDPEER", peer.label, f"role {role}, {queued} zone(s) queued")
    return {"peer": _status_of(call, peer), "queued": queued}


@REGISTRY.function(
    "gatehouse_remove_cluster_peer",
    "**gatehouse extension**: remove a DNS cluster peer and the changes queued for it.",
    params=(HOST, PORT_OF_ONE),
    privileges=PRIVILEGES,
)
def gatehouse_remove_cluster_peer(call: Call) -> dict[str, Any]:
    peer = _peer(call)
    cluster_peers.remove(call.conn, peer)
    call.audit("CLUSTERREMOVEPEER", peer.label)
    return {"host": peer.host, "port": peer.port}


@REGISTRY.function(
    "gatehouse_set_cluster_peer_role",
    "**gatehouse extension**: change a peer's role (cPanel's `changeclusterdns`); a peer that "
    "starts pushing gets every zone queued, one that stops loses its queue.",
    params=(
        HOST,
        PORT_OF_ONE,
        Param("role", "`write-only`, `sync` or `standalone`.", required=True),
    ),
    privileges=PRIVILEGES,
)
def gatehouse_set_cluster_peer_role(call: Call) -> dict[str, Any]:
    peer = _peer(call)
    role = call.require("role").strip()
    queued = cluster_peers.set_role(call.conn, peer, role, call.now)
    call.audit("CLUSTERPEERROLE", peer.label, f"{peer.role} → {role}, {queued} zone(s) queued")
    return {"peer": _status_of(call, peer), "queued": queued}


@REGISTRY.function(
    "gatehouse_sync_cluster_peer",
    "**gatehouse extension**: queue every zone of this node for a pushing peer now (cPanel's "
    "synczones), e.g. after the peer lost its zones.",
    params=(HOST, PORT_OF_ONE),
    privileges=PRIVILEGES,
)
def gatehouse_sync_cluster_peer(call: Call) -> dict[str, Any]:
    peer = _peer(call)
    if peer.role == "standalone":
        raise InvalidParameter(
            f"{peer.label} is standalone: it gets no zones. Give it the sync or write-only role."
        )
    queued = cluster_peers.queue_all(call.conn, peer, call.now)
    call.audit("CLUSTERSYNC", peer.label, f"{queued} zone(s) queued")
    return {"peer": _status_of(call, peer), "queued": queued}


@REGISTRY.function(
    "gatehouse_set_cluster_peer_token",
    "**gatehouse extension**: give a peer a new token (and user), e.g. after the token was "
    "rotated on the peer; checked first, as when adding.",
    params=(
        HOST,
        PORT_OF_ONE,
        Param("token", "The new API token (it needs `clustering` on the peer).", required=True,
              secret=True),
        Param("user", "The peer's user the token belongs to (default: unchanged)."),
        Param("check", "0: store the token without checking it first. Default 1."),
    ),
    privileges=PRIVILEGES,
    slow=True,
)  # fmt: skip
def gatehouse_set_cluster_peer_token(call: Call) -> dict[str, Any]:
    with call.gatehouse.engine.connect() as conn:  # the network below holds no lock
        peer = cluster_peers.find(conn, call.require("host"), _port(call, None))
    username, secret = cluster_peers.credentials(
        call.params.get("user") or peer.username, call.require("token")
    )
    if call.flag("check", default=True):
        cluster_check.require_usable(peer.base_url, peer.label, username, secret, peer.verify_tls)
    cluster_peers.set_credentials(call.conn, call.gatehouse.keyring, peer, username, secret)
    cluster_peers.checked(call.conn, peer.id)
    # What failed with the old token is due again now.
    cluster_peers.retry_now(call.conn, peer.id, call.now)
    call.audit("CLUSTERPEERTOKEN", peer.label, f"user {username}")
    return {"peer": _status_of(call, peer)}


@REGISTRY.function(
    "gatehouse_check_cluster_peer",
    "**gatehouse extension**: check now that a peer answers and accepts its token for the "
    "cluster protocol; the outcome is kept as the peer's status.",
    params=(HOST, PORT_OF_ONE),
    privileges=PRIVILEGES,
    slow=True,
)
def gatehouse_check_cluster_peer(call: Call) -> dict[str, Any]:
    keyring = call.gatehouse.keyring
    with call.gatehouse.engine.connect() as conn:  # read, then the network with no lock held
        peer = cluster_peers.find(conn, call.require("host"), _port(call, None))
        secret = cluster_peers.token(conn, keyring, peer)
    problem = cluster_check.check(peer.base_url, peer.username, secret, peer.verify_tls)
    if problem is None:
        cluster_peers.checked(call.conn, peer.id)
    else:
        cluster_peers.failed(call.conn, peer.id, problem, call.now)
    return {"ok": int(problem is None), "problem": problem, "peer": _status_of(call, peer)}
