"""Which account holds a domain, and the domains and users the server knows: the reads behind
WHM's get_domain_info, getdomainowner and list_users.

A gatehouse account has one domain, its main domain (users.domain); addon, parked and sub
domains are not kept, so every domain listed is a `main` domain of its account.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.domain import access, accounts
from gatehouse.domain.users import User
from gatehouse.store.schema import users


@dataclass(frozen=True, slots=True)
class DomainEntry:
    domain: str
    account: User


def visible_domains(conn: sa.Connection, actor: access.Actor) -> list[DomainEntry]:
    """The main domains of the accounts `actor` may list (access.visible_owner), by domain."""
    entries = [
        DomainEntry(a.domain, a) for a in accounts.visible(conn, actor) if a.domain is not None
    ]
    return sorted(entries, key=lambda e: e.domain)


def owner_of(conn: sa.Connection, actor: access.Actor, raw: str) -> User:
    """The account whose domain `raw` is, if `actor` may reach it (access REACH; only hasroot()
    is told that a domain does not exist, in access.DOMAIN's words)."""
    domain = raw.strip().lower().rstrip(".")
    account = accounts.by_domain(conn, domain) if domain else None
    access.to_account(actor, account, raw.strip(), wording=access.DOMAIN).enforce()
    assert account is not None
    return account


def all_usernames(conn: sa.Connection) -> list[str]:
    """Every user: root first, then the accounts (resellers included), by name."""
    rows = conn.execute(sa.select(users.c.username, users.c.is_root).order_by(users.c.username))
    names = [(not r.is_root, r.username) for r in rows]
    return [name for _, name in sorted(names)]
