"""Clients that cPHulk counts. As cPanel's, cPHulk never counts, lists or blocks a request of
local origin (loopback, the server's own addresses), and a test's requests all come from
loopback. So a test that wants an address counted, listed or blocked runs against a node that
trusts a proxy on 127.0.0.1 (`counted_node`) and comes through it as a remote address of its
own (`remote_address`, in X-Forwarded-For); a loopback address reaches it as itself."""

from __future__ import annotations

import contextlib
import ipaddress
import secrets

import httpx
import pytest

from conftest import Server, another_node

# The node's proxy is the suite's own address; its client is whatever the proxy forwards.
PROXY_ENV = {"GATEHOUSE_TRUSTED_PROXIES": "127.0.0.1"}


def remote_address() -> str:
    """A fresh address of RFC 2544's benchmarking block (198.18.0.0/15): never this server's."""
    return f"198.{18 + secrets.randbelow(2)}.{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"


def loopback_address() -> str:
    """A fresh loopback address other than 127.0.0.1 (the suite's own)."""
    return (
        f"127.{secrets.randbelow(200) + 20}.{secrets.randbelow(256)}.{secrets.randbelow(250) + 2}"
    )


def client_as(address: str) -> httpx.Client:
    """A client that a `counted_node` sees as `address`: bound to it when it is a loopback
    address, else forwarded as it by the proxy on 127.0.0.1."""
    if ipaddress.ip_address(address).is_loopback:
        return httpx.Client(transport=httpx.HTTPTransport(local_address=address), timeout=30)
    return httpx.Client(headers={"X-Forwarded-For": address}, timeout=30)


def counted_node(
    server: Server,
    tmp_path_factory: pytest.TempPathFactory,
    name: str,
    env: dict[str, str] | None = None,
) -> contextlib.AbstractContextManager[Server]:
    """A node on `server`'s store behind a trusted proxy on 127.0.0.1 (`another_node`)."""
    return another_node(server, tmp_path_factory, name, {**PROXY_ENV, **(env or {})})
