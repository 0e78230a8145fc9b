"""Helpers for the account life-cycle tests (test_lifecycle, test_billing_cycle, test_hooks)."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

from conftest import Server
from gatehouse.domain import packages


def new_package_name() -> str:
    return f"pkg_{uuid.uuid4().hex[:10]}"


def make_package(server: Server, owner: str = "root", **settings: str) -> str:
    """A package holding cPanel's defaults and `settings` (upper-case keys, e.g. QUOTA="100").
    Root's packages go through addpkg when the server has it; otherwise, and for a reseller's
    own packages, they are written to the store directly."""
    name = new_package_name()
    full = packages.default_settings()
    full.update(settings)
    if owner == "root":
        by_key = {f.key: f.param for f in packages.FIELDS}
        params = {"name": name, **{by_key[k]: v for k, v in settings.items()}}
        body = server.get("addpkg", params=params).json()
        if body["metadata"]["result"] == 1:
            return name
        assert "Unknown app" in body["metadata"]["reason"], body
    value = "CAST(:s AS JSON)" if server.backend == "postgresql" else ":s"
    # `value` is one of two constants.
    insert = "INSERT INTO packages (name, owner, settings, created_time) VALUES (:n, :o, "
    server.sql(
        insert + value + ", :t)",
        n=name,
        o=owner,
        s=json.dumps(full),
        t=int(time.time()),
    )
    return name


def _decode(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def account_state(server: Server, username: str) -> dict[str, Any] | None:
    rows = server.sql(
        "SELECT username, owner, suspended, suspend_reason, suspend_locked, suspended_by, "
        "plan, limits, reseller_limits FROM users WHERE username = :u",
        u=username,
    )
    if not rows:
        return None
    row = dict(rows[0]._mapping)
    row["suspended"] = bool(row["suspended"])
    row["suspend_locked"] = bool(row["suspend_locked"])
    row["limits"] = _decode(row["limits"])
    row["reseller_limits"] = _decode(row["reseller_limits"])
    return row


def user_id(server: Server, username: str) -> int:
    return int(server.sql("SELECT id FROM users WHERE username = :u", u=username)[0][0])


def rows_of(server: Server, table: str, uid: int) -> int:
    """How many rows of `table` (one of those named below) belong to user `uid`."""
    assert table in (
        "api_tokens", "sessions", "access_hashes", "reseller_ips", "reseller_package_limits",
    )  # fmt: skip
    return int(server.sql(f"SELECT COUNT(*) FROM {table} WHERE user_id = :i", i=uid)[0][0])  # noqa: S608


def audit_rows(server: Server, action: str, subject: str) -> list[dict[str, Any]]:
    rows = server.sql(
        "SELECT actor, subject, token_name, detail, reason FROM audit_log "
        "WHERE action = :a AND subject = :s ORDER BY id",
        a=action,
        s=subject,
    )
    return [dict(r._mapping) for r in rows]
