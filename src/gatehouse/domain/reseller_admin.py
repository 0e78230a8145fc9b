"""A reseller as a whole: suspend or unsuspend it with its accounts, terminate it with its
accounts, report what it has handed out, and the nameservers its new accounts' zones get.

cPanel's behaviour (Whostmgr::Resellers::Suspend, ::Kill, resellerstats, the WHM API 1 docs),
with gatehouse's choices marked "Choice:". Every change goes through the life-cycle use cases
(`lifecycle.suspend`, `lifecycle.remove`) in the caller's one transaction, so a refusal part
way (a hook, a missing reseller) leaves nothing changed: all or nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gatehouse.dns import zones as zones_domain
from gatehouse.domain import audit, lifecycle, reseller_ips, reseller_limits
from gatehouse.domain import users as users_domain
from gatehouse.domain.packages import UNLIMITED
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User
from gatehouse.errors import InvalidParameter, NotFound
from gatehouse.store.schema import bandwidth_usage, users

# cPanel's words (recorded WHM API 0 answers, docs/api.md).
NOT_A_RESELLER = "Specified user is not a reseller."


def require_reseller(conn: sa.Connection, username: str, *, refusal: str) -> User:
    """The reseller `username`; else NotFound with `refusal`, each function's own words (cPanel
    answers a user that does not exist and one that is no reseller alike)."""
    user = users_domain.get(conn, username)
    if user is None or user.is_root or not user.is_reseller:
        raise NotFound(refusal)
    return user


def owned(conn: sa.Connection, reseller: User) -> list[User]:
    """The accounts the reseller owns, itself excepted, by username."""
    rows = conn.execute(
        sa.select(users)
        .where(users.c.owner == reseller.username, users.c.id != reseller.id)
        .order_by(users.c.username)
    )
    return [users_domain.from_row(row) for row in rows]


def _event(account: User, **extra: Any) -> dict[str, Any]:
    return {
        "user": account.username,
        "domain": account.domain,
        "owner": account.owner,
        "plan": account.plan,
        **extra,
    }


# -- suspendreseller / unsuspendreseller ------------------------------------------------------


def suspend(
    unit: UnitOfWork,
    reseller: User,
    *,
    reason: str,
    locked: bool,
    reseller_only: bool,
    by: str,
) -> list[str]:
    """Suspend the reseller and (unless `reseller_only`) the accounts it owns. An account that
    is suspended already keeps its own reason and lock (as suspendacct does). Returns the
    accounts suspended by this call, the reseller first."""
    targets = [reseller] + ([] if reseller_only else owned(unit.conn, reseller))
    done = []
    for account in targets:
        if account.suspended:
            continue
        unit.run_hooks(
            "suspendacct", _event(account, reason=reason, disallowun=int(locked), reseller=1)
        )
        ended = lifecycle.suspend(
            unit.conn, account, reason=reason, locked=locked, by=by, now=unit.now
        )
        unit.audit(
            audit.ACCOUNT_SUSPEND,
            account.username,
            f"suspendreseller {reseller.username}, {ended} sessions ended",
        )
        done.append(account.username)
    return done


def unsuspend(unit: UnitOfWork, reseller: User, *, reseller_only: bool) -> list[str]:
    """Lift the suspension of the reseller and (unless `reseller_only`) of every account it
    owns, as cPanel's unsuspendreseller does (the caller is root, so a disallowun lock does not
    stop it). Returns the accounts unsuspended by this call."""
    targets = [reseller] + ([] if reseller_only else owned(unit.conn, reseller))
    done = []
    for account in targets:
        if not account.suspended:
            continue
        unit.run_hooks("unsuspendacct", _event(account, reason=account.suspend_reason))
        lifecycle.unsuspend(unit.conn, account)
        unit.audit(
            audit.ACCOUNT_UNSUSPEND, account.username, f"unsuspendreseller {reseller.username}"
        )
        done.append(account.username)
    return done


# -- terminatereseller ---------------------------------------------------------------------


def verify_sentence(username: str) -> str:
    """What `verify` must say, word for word (cPanel's terminatereseller)."""
    return (
        "I understand this will irrevocably remove all the accounts owned by the reseller "
        + username
    )


@dataclass(frozen=True, slots=True)
class Removed:
    username: str
    zones: list[str]


def terminate(unit: UnitOfWork, reseller: User, *, include_self: bool) -> list[Removed]:
    """Remove every account the reseller owns (with their tokens, sessions and DNS zones), take
    its reseller status away (cPanel's `privdelete`) and, with `include_self`, remove its own
    account too. Accounts owned by one of its accounts pass to that account's owner as removeacct
    does, so they go with the reseller in turn only if they were its own.
    Returns what was removed, in order."""
    removed: list[Removed] = []
    # Choice: an account passed to the reseller while its own accounts go (a sub-reseller's
    # accounts) is terminated too, so "all the accounts owned by the reseller" holds at the end.
    # Each round removes at least one account, so this ends.
    while accounts := owned(unit.conn, reseller):
        removed.extend(_remove(unit, account, reseller) for account in accounts)
    users_domain.set_reseller_acls(unit.conn, reseller.id, None)
    reseller_ips.forget(unit.conn, reseller)
    unit.audit(audit.RESELLER_UNSETUP, reseller.username, "terminatereseller")
    if include_self:
        fresh = users_domain.get(unit.conn, reseller.username)
        assert fresh is not None
        removed.append(_remove(unit, fresh, reseller))
    return removed


def _remove(unit: UnitOfWork, account: User, reseller: User) -> Removed:
    unit.run_hooks("removeacct", _event(account, keepdns=0, terminatereseller=reseller.username))
    zone_names = zones_domain.names_of_user(unit.conn, account.id)
    lifecycle.remove(unit.conn, account)
    detail = f"terminatereseller {reseller.username}"
    if zone_names:
        detail += "; DNS zones removed: " + ", ".join(zone_names)
    unit.audit(audit.ACCOUNT_REMOVE, account.username, detail)
    return Removed(account.username, zone_names)


# -- resellerstats -------------------------------------------------------------------------


def _megabytes(limits: Mapping[str, str] | None, key: str) -> int:
    """An account's allocation in MB; 0 is cPanel's "unlimited" in resellerstats."""
    value = (limits or {}).get(key, UNLIMITED)
    return 0 if value in (UNLIMITED, "", None) else int(value)


@dataclass(frozen=True, slots=True)
class AccountUsage:
    username: str
    domain: str | None
    package: str | None
    suspended: bool
    disk_quota: int  # MB, 0 = unlimited
    bandwidth_limit: int  # MB, 0 = unlimited
    disk_used: float  # MB (not tracked: 0)
    bandwidth_used: float  # MB this month, as reported (gatehouse_report_bandwidth)


@dataclass(frozen=True, slots=True)
class ResellerUsage:
    reseller: str
    accounts: list[AccountUsage]
    disk_quota: int  # the reseller's disk limit in MB, 0 = none
    bandwidth_limit: int  # the reseller's bandwidth limit in MB, 0 = none
    disk_overselling: bool
    bandwidth_overselling: bool
    month: int
    year: int

    @property
    def total_disk_allocated(self) -> int:
        return sum(a.disk_quota for a in self.accounts)

    @property
    def total_bandwidth_allocated(self) -> int:
        return sum(a.bandwidth_limit for a in self.accounts)

    @property
    def disk_used(self) -> float:
        return sum(a.disk_used for a in self.accounts)

    @property
    def bandwidth_used(self) -> float:
        return sum(a.bandwidth_used for a in self.accounts)


_MEGABYTE = 1024 * 1024


def _bandwidth_this_month(
    conn: sa.Connection, user_ids: list[int], year: int, month: int
) -> dict[int, int]:
    """Bytes each account has used in the month, from the usage the web servers reported
    (domain/bandwidth.py; every domain of the account counts)."""
    if not user_ids:
        return {}
    rows = conn.execute(
        sa.select(bandwidth_usage.c.user_id, sa.func.sum(bandwidth_usage.c.bytes))
        .where(
            bandwidth_usage.c.user_id.in_(user_ids),
            bandwidth_usage.c.year == year,
            bandwidth_usage.c.month == month,
        )
        .group_by(bandwidth_usage.c.user_id)
    )
    return {int(user_id): int(total or 0) for user_id, total in rows}


def usage(conn: sa.Connection, reseller: User, now: int) -> ResellerUsage:
    """What the reseller has handed out, and its accounts' bandwidth this month (UTC) as
    reported. Disk use is not tracked by gatehouse (there are no home directories): 0."""
    limits = reseller_limits.get(conn, reseller)
    resources = limits["resources"]
    enabled = bool(resources["enabled"])
    when = time.gmtime(now)
    children = owned(conn, reseller)
    used = _bandwidth_this_month(conn, [a.id for a in children], when.tm_year, when.tm_mon)
    accounts = [
        AccountUsage(
            username=a.username,
            domain=a.domain,
            package=a.plan,
            suspended=a.suspended,
            disk_quota=_megabytes(a.limits, "QUOTA"),
            bandwidth_limit=_megabytes(a.limits, "BWLIMIT"),
            disk_used=0.0,
            bandwidth_used=used.get(a.id, 0) / _MEGABYTE,
        )
        for a in children
    ]
    return ResellerUsage(
        reseller=reseller.username,
        accounts=accounts,
        disk_quota=int(resources["disk"] or 0) if enabled else 0,
        bandwidth_limit=int(resources["bw"] or 0) if enabled else 0,
        disk_overselling=bool(resources["overselling"]["disk"]),
        bandwidth_overselling=bool(resources["overselling"]["bw"]),
        month=when.tm_mon,
        year=when.tm_year,
    )


# -- setresellernameservers ----------------------------------------------------------------

MAX_NAMESERVERS = 4  # cPanel's NS, NS2, NS3, NS4
_HOSTNAME_RE = re.compile(
    r"^(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?\Z"
)


def parse_nameservers(raw: str | None) -> list[str]:
    """`nameservers=ns1.example.com,ns2.example.com` → the names, lower case, without the
    final dot. Empty or absent: [] (the server's default nameservers)."""
    names = [n.strip().lower().rstrip(".") for n in (raw or "").split(",")]
    names = [n for n in names if n]
    if len(names) > MAX_NAMESERVERS:
        raise InvalidParameter(f"You may assign at most {MAX_NAMESERVERS} nameservers.")
    for name in names:
        if not _HOSTNAME_RE.match(name):
            raise InvalidParameter(f"“{name}” is not a valid nameserver name.")
    if len(set(names)) != len(names):
        raise InvalidParameter("Each nameserver may be given only once.")
    return names


def set_nameservers(conn: sa.Connection, reseller: User, names: list[str]) -> None:
    """Store the reseller's nameservers ([]: back to the server's). They live beside its
    limits in users.reseller_limits (key `nameservers`; reseller_limits.load keeps it)."""
    stored = reseller_limits.get(conn, reseller)
    if names:
        stored["nameservers"] = list(names)
    else:
        stored.pop("nameservers", None)
    reseller_limits.store(conn, reseller, stored)


def nameservers_of(conn: sa.Connection, owner: User) -> list[str]:
    """The nameservers set for `owner` with setresellernameservers ([]: none)."""
    if owner.is_root or not owner.is_reseller:
        return []
    return list(reseller_limits.get(conn, owner).get("nameservers") or [])
