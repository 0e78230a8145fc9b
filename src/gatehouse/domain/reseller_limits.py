"""Reseller limits (setresellerlimits): how many accounts, how much disk and bandwidth.

Stored in users.reseller_limits as
    {"account": {"enabled": bool, "limit": int | None},
     "resources": {"enabled": bool, "disk": int | None, "bw": int | None,
                   "overselling": {"disk": bool, "bw": bool}}}
and enforced when an account is created for (or moved to) the reseller.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from gatehouse.domain.packages import UNLIMITED
from gatehouse.domain.users import User
from gatehouse.errors import PermissionDenied
from gatehouse.store.schema import users


def empty() -> dict[str, Any]:
    return {
        "account": {"enabled": False, "limit": None},
        "resources": {"enabled": False, "disk": None, "bw": None,
                      "overselling": {"disk": False, "bw": False}},
    }


def load(raw: Any) -> dict[str, Any]:
    limits = empty()
    if isinstance(raw, dict):
        limits["account"].update(raw.get("account") or {})
        resources = raw.get("resources") or {}
        limits["resources"].update({k: v for k, v in resources.items() if k != "overselling"})
        limits["resources"]["overselling"].update(resources.get("overselling") or {})
    return limits


def get(conn: sa.Connection, reseller: User) -> dict[str, Any]:
    row = conn.execute(
        sa.select(users.c.reseller_limits).where(users.c.id == reseller.id)
    ).first()
    return load(row.reseller_limits if row else None)


def store(conn: sa.Connection, reseller: User, limits: Mapping[str, Any]) -> None:
    conn.execute(
        sa.update(users).where(users.c.id == reseller.id).values(reseller_limits=dict(limits))
    )


def _owned(conn: sa.Connection, reseller: User) -> list[Any]:
    return list(conn.execute(
        sa.select(users.c.username, users.c.limits).where(
            users.c.owner == reseller.username, users.c.id != reseller.id
        )
    ))


def _allocated(rows: list[Any], key: str) -> int | None:
    """Sum of one resource over accounts; None when any of them is unlimited."""
    total = 0
    for row in rows:
        value = (row.limits or {}).get(key, UNLIMITED)
        if value == UNLIMITED:
            return None
        total += int(value)
    return total


def check_can_create(conn: sa.Connection, reseller: User, settings: Mapping[str, str]) -> None:
    """Refuse a new account (with these package settings) that would break the reseller's
    limits. Root and resellers without limits are never refused."""
    if reseller.is_root or not reseller.is_reseller:
        return
    limits = get(conn, reseller)
    rows = _owned(conn, reseller)
    account = limits["account"]
    if account["enabled"] and account["limit"] is not None and len(rows) >= account["limit"]:
        raise PermissionDenied(
            f"The reseller “{reseller.username}” has reached its limit of "
            f"{account['limit']} account(s).", code="reseller_limit")
    resources = limits["resources"]
    if not resources["enabled"]:
        return
    for key, name, stored in (("disk", "disk space", "QUOTA"), ("bw", "bandwidth", "BWLIMIT")):
        cap = resources.get(key)
        if cap is None or resources["overselling"].get(key):
            continue
        wanted = settings.get(stored, UNLIMITED)
        used = _allocated(rows, stored)
        if wanted == UNLIMITED or used is None or used + int(wanted) > int(cap):
            raise PermissionDenied(
                f"The reseller “{reseller.username}” cannot allocate that much {name}: "
                f"{cap} MB in all, {used if used is not None else 'unlimited'} MB already "
                f"allocated, {wanted} MB requested.", code="reseller_limit")
