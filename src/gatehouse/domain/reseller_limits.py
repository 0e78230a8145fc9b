"""Reseller limits (setresellerlimits / getresellerlimits): how many accounts, how much disk
and bandwidth a reseller may hand out.

Stored in users.reseller_limits, mirroring the sections of cPanel's reseller limits file
(number_of_accounts, resources, preassigned_packages, number_of_packages):

    {"account": {"enabled": bool, "limit": int | None},
     "resources": {"enabled": bool, "disk": int | None, "bw": int | None,   # MB
                   "overselling": {"disk": bool, "bw": bool}},
     "packages": {"enabled": bool, "numbers": bool}}

Enforced when an account is created for the reseller (`check_can_create`, called by
createacct) and when one of its accounts changes package (`check_can_change`).

Choices where cPanel's docs are silent:
* The reseller's own account never counts against its account limit or its allocation, even
  when it owns itself (setupreseller makeowner=1).
* Overselling is per resource: disk may be oversold when `overselling.disk` is set, bandwidth
  when `overselling.bw` is. cPanel also takes a general `enable_overselling`, whose storage is
  broken in its own code (Whostmgr::Resellers::set_reseller_limits never stores a value); here
  it is a shorthand that sets both resource flags (see `apply_parameters`).
* The package-limit switches (`packages.enabled`, `packages.numbers`) turn on the per-package
  limits of setresellerpackagelimit (domain/reseller_packages.py), checked here with the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from gatehouse.domain import reseller_packages
from gatehouse.domain.packages import UNLIMITED, Package
from gatehouse.domain.users import User
from gatehouse.errors import PermissionDenied
from gatehouse.store.schema import users


def empty() -> dict[str, Any]:
    return {
        "account": {"enabled": False, "limit": None},
        "resources": {
            "enabled": False,
            "disk": None,
            "bw": None,
            "overselling": {"disk": False, "bw": False},
        },
        "packages": {"enabled": False, "numbers": False},
    }


def load(raw: Any) -> dict[str, Any]:
    limits = empty()
    if isinstance(raw, dict):
        limits["account"].update(raw.get("account") or {})
        resources = raw.get("resources") or {}
        limits["resources"].update({k: v for k, v in resources.items() if k != "overselling"})
        limits["resources"]["overselling"].update(resources.get("overselling") or {})
        limits["packages"].update(raw.get("packages") or {})
        # setresellernameservers' names live here too (domain/reseller_admin.py): keep them.
        if isinstance(raw.get("nameservers"), list):
            limits["nameservers"] = list(raw["nameservers"])
    return limits


def get(conn: sa.Connection, reseller: User) -> dict[str, Any]:
    row = conn.execute(sa.select(users.c.reseller_limits).where(users.c.id == reseller.id)).first()
    return load(row.reseller_limits if row else None)


def store(conn: sa.Connection, reseller: User, limits: Mapping[str, Any]) -> None:
    conn.execute(
        sa.update(users).where(users.c.id == reseller.id).values(reseller_limits=dict(limits))
    )


def forget(conn: sa.Connection, reseller: User) -> None:
    """The account is a reseller no more (unsetupreseller): its limits go, as cPanel's
    _unsetupreseller deletes its entry of the reseller limits (_delete_reseller_limits). Its
    nameservers stay: cPanel keeps them in a file of their own, which it leaves."""
    nameservers = get(conn, reseller).get("nameservers")
    store(conn, reseller, {"nameservers": nameservers} if nameservers else {})


# setresellerlimits parameter → (section, key) in the stored shape.
FLAGS: dict[str, tuple[str, ...]] = {
    "enable_account_limit": ("account", "enabled"),
    "enable_resource_limits": ("resources", "enabled"),
    "enable_overselling_bandwidth": ("resources", "overselling", "bw"),
    "enable_overselling_diskspace": ("resources", "overselling", "disk"),
    "enable_package_limits": ("packages", "enabled"),
    "enable_package_limit_numbers": ("packages", "numbers"),
}
NUMBERS: dict[str, tuple[str, ...]] = {
    "account_limit": ("account", "limit"),
    "diskspace_limit": ("resources", "disk"),
    "bandwidth_limit": ("resources", "bw"),
}


def _put(limits: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = limits
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value


def _take(limits: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = limits
    for key in path:
        node = node[key]
    return node


def apply_parameters(
    limits: Mapping[str, Any], flags: Mapping[str, bool], numbers: Mapping[str, int | None]
) -> dict[str, Any]:
    """New limits: `limits` with the given (already validated) parameters applied. Parameters
    not given keep their stored value, as cPanel's set_reseller_limits does."""
    updated = load(dict(limits))
    general = flags.get("enable_overselling")
    if general is not None:
        for name in ("enable_overselling_bandwidth", "enable_overselling_diskspace"):
            if name not in flags:
                _put(updated, FLAGS[name], general)
    for name, value in flags.items():
        if name in FLAGS:
            _put(updated, FLAGS[name], value)
    for name, number in numbers.items():
        _put(updated, NUMBERS[name], number)
    return updated


def as_parameters(limits: Mapping[str, Any]) -> dict[str, Any]:
    """The limits in setresellerlimits' parameter names (getresellerlimits' answer)."""
    out: dict[str, Any] = {name: int(bool(_take(limits, path))) for name, path in FLAGS.items()}
    out["enable_overselling"] = int(
        out["enable_overselling_bandwidth"] or out["enable_overselling_diskspace"]
    )
    out.update({name: _take(limits, path) for name, path in NUMBERS.items()})
    return out


def _owned(conn: sa.Connection, reseller: User, exclude: str | None = None) -> list[Any]:
    query = sa.select(users.c.username, users.c.limits).where(
        users.c.owner == reseller.username, users.c.id != reseller.id
    )
    if exclude is not None:
        query = query.where(users.c.username != exclude)
    return list(conn.execute(query))


def _allocated(rows: list[Any], key: str) -> int | None:
    """Sum of one resource over accounts; None when any of them is unlimited."""
    total = 0
    for row in rows:
        value = (row.limits or {}).get(key, UNLIMITED)
        if value == UNLIMITED:
            return None
        total += int(value)
    return total


def usage(conn: sa.Connection, reseller: User) -> dict[str, Any]:
    """What the reseller has handed out: accounts, and MB of disk and bandwidth (None when
    any account is unlimited)."""
    rows = _owned(conn, reseller)
    return {
        "account_count": len(rows),
        "diskspace_allocated": _allocated(rows, "QUOTA"),
        "bandwidth_allocated": _allocated(rows, "BWLIMIT"),
    }


def _check(
    conn: sa.Connection,
    reseller: User,
    settings: Mapping[str, str],
    *,
    exclude: str | None,
    count_accounts: bool,
    package: Package | None,
) -> None:
    if reseller.is_root or not reseller.is_reseller:
        return
    limits = get(conn, reseller)
    if package is not None:
        refused = reseller_packages.check(conn, reseller, limits, package, exclude)
        if refused is not None:
            raise PermissionDenied(refused, code="reseller_package_limit")
    rows = _owned(conn, reseller, exclude)
    account = limits["account"]
    if (
        count_accounts
        and account["enabled"]
        and account["limit"] is not None
        and len(rows) >= account["limit"]
    ):
        raise PermissionDenied(
            f"The reseller “{reseller.username}” has reached its limit of "
            f"{account['limit']} account(s).",
            code="reseller_limit",
        )
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
                f"allocated, {wanted} MB requested.",
                code="reseller_limit",
            )


def check_can_create(
    conn: sa.Connection,
    reseller: User,
    settings: Mapping[str, str],
    package: Package | None = None,
) -> None:
    """Refuse a new account (with these package settings, on `package`) that would break the
    reseller's limits. Root and resellers without limits are never refused."""
    _check(conn, reseller, settings, exclude=None, count_accounts=True, package=package)


def check_can_change(
    conn: sa.Connection,
    reseller: User,
    account: str,
    settings: Mapping[str, str],
    package: Package | None = None,
) -> None:
    """Refuse moving the reseller's `account` to `package` (None: the same package, other
    settings) with these settings when that would break the reseller's package, disk or
    bandwidth limits (the account itself is not counted; the account limit does not apply,
    the account exists already)."""
    _check(conn, reseller, settings, exclude=account, count_accounts=False, package=package)
