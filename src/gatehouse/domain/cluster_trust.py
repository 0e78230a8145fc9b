"""Reverse trust between DNS cluster members (cPanel's `/cgi/trustclustermaster.cgi`,
docs/cluster.md).

A cPanel server that adds this node to its cluster with "Setup Reverse Trust Relationships"
creates a `clustering` token for itself and posts `user`, `clustermaster`, `pass`, `version`
and `recurse=0` here: this node checks that the master accepts that token, then keeps the
master as a standalone peer (cPanel's role for it). The form is cleaned as cPanel's CGI
cleans it. gatehouse adds one field, `port` (the master's WHM TLS port, 2087 when absent),
so that masters on other ports can be tested and run."""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from collections.abc import Collection
from dataclasses import dataclass

import httpx
import sqlalchemy as sa

from gatehouse.domain import cluster_check, cluster_peers
from gatehouse.domain.accesshash import KeyRing
from gatehouse.numerals import digits

DEFAULT_PORT = 2087
ESTABLISHED = "The trust relationship has been established from the remote server to this server."


class TrustRefused(Exception):
    """The request cannot establish trust; the message is cPanel's where cPanel has one."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class Request:
    master: str  # the address the master is reached at
    port: int
    user: str
    token: str


def parse(
    form: dict[str, str], *, own_addresses: Collection[str], own_ports: Collection[int]
) -> Request:
    """The request as cPanel's CGI reads it; TrustRefused with cPanel's message for a bad one
    (a name that does not resolve, no user, no key, the node itself)."""
    master = form.get("clustermaster", "")
    master = master.replace("/", "").replace("..", "")
    master = re.sub(r"[\r\n\f\0]", "", master).strip()
    address = _address(master)
    user = re.sub(r"[\r\n\f\0]", "", form.get("user", "")).strip()
    # cPanel refuses an empty one; one that cannot go into the master's Authorization header
    # (a control or non-ASCII character) is refused in the same words, before any connection.
    if not user or not cluster_peers.sendable(user):
        raise TrustRefused("Invalid user given")
    token = cluster_peers.clean_token(re.sub(r"[\r\n\f\0]", "", form.get("pass", "")))
    if not token or not cluster_peers.sendable(token):
        raise TrustRefused("Invalid access hash given")
    raw_port = (form.get("port") or "").strip() or str(DEFAULT_PORT)
    if not digits(raw_port) or not 1 <= int(raw_port) <= 65535:
        raise TrustRefused(f"Invalid port given: {raw_port[:20]}")
    port = int(raw_port)
    if address in own_addresses and port in own_ports:
        raise TrustRefused(
            f"The specified IP address would create a cyclic trust relationship: {address}."
        )
    return Request(address, port, user, token)


def _address(master: str) -> str:
    try:
        return str(ipaddress.ip_address(master))
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(master, None, socket.AF_INET, socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        found = []
    if not master or not found:
        raise TrustRefused(f"Dns Lookup Failed for {master}")
    return str(found[0][4][0])


def verify(request: Request) -> None:
    """The master must accept its own token (cPanel asks for its version first)."""
    try:
        with httpx.Client(
            base_url=cluster_peers.base_url("https", request.master, request.port),
            headers={"Authorization": f"whm {request.user}:{request.token}"},
            # cPanel's ssl_verify_mode 0: a master's own certificate is self-signed, and the
            # token checked here is the master's own, offered by the master itself.
            verify=False,  # noqa: S501
            timeout=cluster_check.TIMEOUT,
        ) as client:
            answer = client.get("/json-api/version", params={"api.version": "1"})
    except httpx.HTTPError as exc:
        raise TrustRefused(
            f"There was an error while processing your request: {cluster_check.explain(exc)}"
        ) from exc
    if answer.status_code == 401:
        raise TrustRefused(
            "The remote server did not accept the access hash.  Please verify the access "
            "hash and username and try again.  The exact message was 401 Access denied."
        )
    if answer.status_code != 200:
        raise TrustRefused(
            f"There was an error while processing your request: {cluster_check.refusal(answer)}"
        )
    try:
        version = str(json.loads(answer.text)["data"]["version"])
        major = int(version.split(".")[0])
    except (ValueError, KeyError, TypeError):
        raise TrustRefused("The remote server did not report a WHM version.") from None
    if major < 6:
        raise TrustRefused(
            "This operation requires the remote server to be running WHM 6.0 or later.  "
            f"The server reported version: {version}"
        )


def establish(
    conn: sa.Connection, keyring: KeyRing, request: Request, now: int
) -> tuple[cluster_peers.Peer, bool]:
    """Keep the master as a peer (new: standalone; known: its user and token replaced)."""
    return cluster_peers.trust(
        conn, keyring, host=request.master, port=request.port, username=request.user,
        token=request.token, now=now,
    )  # fmt: skip
