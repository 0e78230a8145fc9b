"""The account life cycle after creation: suspension, package changes, removal.

Reads and writes the life-cycle columns of `users` (migration 0004): suspended,
suspend_reason, suspend_time, suspend_locked (disallowun), suspended_by, plan, limits. The
account is a `users.User`, whose model holds them.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from gatehouse import acls
from gatehouse.dns import zones as zones_domain
from gatehouse.domain import access
from gatehouse.domain import packages as packages_domain
from gatehouse.domain import users as users_domain
from gatehouse.domain.packages import DEFAULT_PACKAGE, Package
from gatehouse.domain.users import User
from gatehouse.store.schema import users

# cPanel takes any text, strips "=", newlines and NULs (scripts/suspendacct) and, per the
# API docs, says "Unknown" when no reason is given. The length cap is gatehouse's.
DEFAULT_REASON = "Unknown"
MAX_REASON = 1024
_REASON_DROPPED = str.maketrans("", "", "=\n\r\0")


def clean_reason(raw: str | None) -> str:
    reason = (raw or "").translate(_REASON_DROPPED).strip()
    return reason or DEFAULT_REASON


# Whostmgr::Accounts::Upgrade::upacct (changepackage) checks ownership, then existence, in
# its own words; the other life-cycle functions check with verify_account_access.
UPGRADE = access.Wording(access.ACCOUNT.denied, "Sorry, the user {name} does not exist")


def require_managed(
    conn: sa.Connection,
    actor: access.Actor,
    username: str,
    *,
    wording: access.Wording = access.ACCOUNT,
) -> User:
    """The account `username`, if `actor` may manage it (access.Purpose.MANAGE). hasroot() is
    told when it does not exist; anyone else gets the same refusal whether it exists or not."""
    account = users_domain.get(conn, username)
    access.to_account(
        actor, account, username, purpose=access.Purpose.MANAGE, wording=wording
    ).enforce()
    assert account is not None
    return account


def suspend(
    conn: sa.Connection, account: User, *, reason: str, locked: bool, by: str, now: int
) -> int:
    """Suspend the account and end its browser sessions; how many ended. Unsuspending does
    not bring them back: a session is deleted, not paused."""
    conn.execute(
        sa.update(users)
        .where(users.c.id == account.id)
        .values(
            suspended=True,
            suspend_reason=reason,
            suspend_time=now,
            suspend_locked=locked,
            suspended_by=by,
        )
    )
    return users_domain.end_sessions(conn, account.id)


def unsuspend(conn: sa.Connection, account: User) -> None:
    conn.execute(
        sa.update(users)
        .where(users.c.id == account.id)
        .values(
            suspended=False,
            suspend_reason=None,
            suspend_time=None,
            suspend_locked=False,
            suspended_by=None,
        )
    )


def list_locked(conn: sa.Connection, owner: str | None) -> list[str]:
    """listlockedaccounts' names: the accounts suspended with `disallowun` (cPanel's
    /var/cpanel/suspended/USER.lock), every one (owner None) or those `owner` owns."""
    query = (
        sa.select(users.c.username)
        .where(
            users.c.suspended.is_(True),
            users.c.suspend_locked.is_(True),
            users.c.is_root.is_(False),
        )
        .order_by(users.c.username)
    )
    if owner is not None:
        query = query.where(users.c.owner == owner)
    return list(conn.execute(query).scalars())


def list_suspended(conn: sa.Connection, owner: str | None) -> list[dict[str, Any]]:
    """listsuspended's rows: every suspended account (owner None) or those `owner` owns."""
    query = (
        sa.select(users)
        .where(users.c.suspended.is_(True), users.c.is_root.is_(False))
        .order_by(users.c.username)
    )
    if owner is not None:
        query = query.where(users.c.owner == owner)
    out = []
    for account in (users_domain.from_row(row) for row in conn.execute(query)):
        when = account.suspend_time or 0
        out.append(
            {
                "user": account.username,
                "owner": account.owner,
                "reason": account.suspend_reason or "",
                # Perl's scalar localtime(), as cPanel prints it: "Thu Nov 18 10:34:34 2014".
                "time": time.ctime(when),
                "unixtime": when,
                "is_locked": int(account.suspend_locked),
            }
        )
    return out


def owned_accounts(conn: sa.Connection, owner: User) -> list[str]:
    """The accounts `owner` owns, itself excepted."""
    rows = conn.execute(
        sa.select(users.c.username)
        .where(users.c.owner == owner.username, users.c.id != owner.id)
        .order_by(users.c.username)
    )
    return [r.username for r in rows]


def heir_of(account: User) -> str:
    """Who takes over a reseller's accounts when it goes: its owner, or root when it owns
    itself (cPanel's Whostmgr::Resellers::Setup::_unsetupreseller)."""
    owner = account.owner
    return users_domain.ROOT if owner == account.username else owner


def remove(
    conn: sa.Connection, account: User, *, keepdns: bool = False
) -> tuple[str | None, list[str]]:
    """Delete the account. Its API tokens, sessions, Remote Access Key and DNS zones go with it
    (foreign keys ON DELETE CASCADE). Accounts it owned pass to its heir, as when cPanel removes
    a reseller's account. Returns (heir, the accounts passed on)."""
    # DNS (issue 5): with keepdns=1 the account's zones pass to root instead of going with it.
    if keepdns:
        root = users_domain.get(conn, users_domain.ROOT)
        if root is not None:
            zones_domain.reassign(conn, account.id, root.id)
    zones_domain.deleted_with_user(conn, account.id)
    moved = owned_accounts(conn, account)
    heir = heir_of(account) if moved else None
    if heir is not None:
        users_domain.transfer_owned(conn, account.username, heir)
    packages_domain.transfer_owned(conn, account.username, heir_of(account))
    conn.execute(sa.delete(users).where(users.c.id == account.id))
    return heir, moved


def package_visible(actor: access.Actor, package: Package) -> bool:
    """Whether `caller` may put an account on `package`. Root (or a reseller with `all`) may use
    any package; a reseller its own packages, the `default` package, and root's packages when
    it holds `viewglobalpackages` (cPanel's "creatable" package list)."""
    if actor.sees_all:
        return True
    if package.owner == actor.user.username or package.name == DEFAULT_PACKAGE:
        return True
    return package.owner == users_domain.ROOT and acls.holds(actor.privileges, "viewglobalpackages")


def change_package(conn: sa.Connection, account: User, package: Package) -> Mapping[str, str]:
    """Put the account on `package`: its plan, and the package's settings as its own limits."""
    limits = dict(package.settings)
    conn.execute(
        sa.update(users).where(users.c.id == account.id).values(plan=package.name, limits=limits)
    )
    return limits
