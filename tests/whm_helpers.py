"""Small helpers shared by the WHM function tests (test_meta, test_resellers, test_accounts,
test_sessions). Everything goes over real HTTP to the session's `server` except `user_row`,
which reads the store for facts no WHM function exposes (owner, stored privileges)."""

from __future__ import annotations

import base64
import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from conftest import Server, start_server, stop_server


def new_name(prefix: str = "u") -> str:
    """A fresh, valid cPanel username (the server is shared by the whole session)."""
    return prefix + uuid.uuid4().hex[:10]


def compact(value: Any) -> bytes:
    """`value` as the server writes JSON: compact, keys sorted, UTF-8 as is."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def api0(node: Server, function: str, params: Any = None, **kw: Any) -> httpx.Response:
    """A WHM API 0 call (no `api.version`)."""
    return node.get(function, params=params, api_version=None, **kw)


def user_row(server: Server, username: str) -> Any:
    """The users row as a dict (reseller_acls decoded), or None."""
    rows = server.sql(
        "SELECT username, owner, domain, reseller_acls, contact_email "
        "FROM users WHERE username = :u",
        u=username,
    )
    if not rows:
        return None
    row = dict(rows[0]._mapping)
    stored = row["reseller_acls"]
    row["reseller_acls"] = json.loads(stored) if isinstance(stored, str) else stored
    return row


def limited_reseller(server: Server, privileges: list[str]) -> tuple[str, str]:
    """A reseller holding exactly `privileges`, with a full-access token (which follows its
    owner's privileges, so it may be minted before they are narrowed)."""
    name, token = server.reseller()
    server.ok("setacls", params=[("reseller", name)] + [(f"acl-{p}", "1") for p in privileges])
    return name, token


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@contextlib.contextmanager
def sibling_node(server: Server, data_dir: Path, env: dict[str, str]) -> Iterator[Server]:
    """A second `gatehouse serve` on the session's store with these settings (GATEHOUSE_IPS,
    GATEHOUSE_HOSTNAME, …); the session's root token works on it."""
    started = start_server(data_dir, server.db_url, server.backend, server.root_password, env=env)
    started._root_token = server.root_token
    try:
        yield started
    finally:
        stop_server(started)
