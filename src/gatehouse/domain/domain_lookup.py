"""Which account holds a domain, and the domains and users the server knows: the reads behind
WHM's get_domain_info, getdomainowner and list_users.

A gatehouse account's domains are its main domain (users.domain) and the subdomains made with
`SubDomain::addsubdomain` (domain/subdomains.py); addon and parked domains are not kept. As
cPanel does, the WHM functions find an account by either: a subdomain's owner is the account
that holds it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.domain import access, accounts, subdomains
from gatehouse.domain import users as users_domain
from gatehouse.domain.subdomains import Subdomain
from gatehouse.domain.users import User
from gatehouse.store.schema import users

MAIN = "main"
SUB = "sub"


@dataclass(frozen=True, slots=True)
class DomainEntry:
    domain: str
    account: User
    sub: Subdomain | None = None  # set for a subdomain

    @property
    def kind(self) -> str:
        """MAIN or SUB, cPanel's `domain_type`."""
        return MAIN if self.sub is None else SUB

    @property
    def parent(self) -> str | None:
        """A subdomain's root domain."""
        return None if self.sub is None else self.sub.root_domain

    @property
    def document_root(self) -> str:
        """cPanel's default document root: public_html, and public_html/LABEL for a subdomain
        (gatehouse has no web server; `dir` is accepted and not kept, docs/cpanel.md)."""
        basedir = "public_html" if self.sub is None else self.sub.basedir
        return f"/home/{self.account.username}/{basedir}"

    @classmethod
    def of_subdomain(cls, sub: Subdomain, account: User) -> DomainEntry:
        return cls(sub.name, account, sub)


def visible_domains(conn: sa.Connection, actor: access.Actor) -> list[DomainEntry]:
    """The domains (main and sub) of the accounts `actor` may list (access.visible_owner), by
    domain."""
    visible = {a.id: a for a in accounts.visible(conn, actor)}
    entries = [DomainEntry(a.domain, a) for a in visible.values() if a.domain is not None]
    entries += [
        DomainEntry.of_subdomain(sub, visible[sub.user_id])
        for sub in subdomains.every(conn)
        if sub.user_id in visible
    ]
    return sorted(entries, key=lambda e: e.domain)


def holder(conn: sa.Connection, domain: str) -> DomainEntry | None:
    """The account holding `domain` (lower case, no trailing dot) as its main domain or as one
    of its subdomains."""
    if not domain:
        return None
    account = accounts.by_domain(conn, domain)
    if account is not None:
        return DomainEntry(domain, account)
    sub = subdomains.get(conn, domain)
    if sub is None:
        return None
    account = users_domain.get_by_id(conn, sub.user_id)
    return None if account is None else DomainEntry.of_subdomain(sub, account)


# The labels cPanel's web vhosts answer for on their own (Cpanel::WebVhosts::strip_auto_domains:
# www, mail, ipv6 and the service subdomains): `www.D` belongs to whoever holds D.
AUTO_LABELS = ("www", "mail", "ipv6", "autoconfig", "autodiscover", "cpanel", "cpcalendars",
               "cpcontacts", "webdisk", "webmail", "whm")  # fmt: skip


def holder_of_web_name(conn: sa.Connection, domain: str) -> DomainEntry | None:
    """The account holding `domain`, or the domain it is an automatic name of (`www.D`,
    `mail.D`, `cpanel.D`, ...), as cPanel's Cpanel::Domain::Owner::get_owner_or_undef."""
    found = holder(conn, domain)
    if found is None and "." in domain and domain.split(".", 1)[0] in AUTO_LABELS:
        found = holder(conn, domain.split(".", 1)[1])
    return found


def reachable(conn: sa.Connection, actor: access.Actor, raw: str) -> DomainEntry:
    """The holder of the domain `raw`, if `actor` may reach its account (access REACH; only
    hasroot() is told that a domain does not exist, in access.DOMAIN's words)."""
    found = holder(conn, raw.strip().lower().rstrip("."))
    account = found.account if found is not None else None
    access.to_account(actor, account, raw.strip(), wording=access.DOMAIN).enforce()
    assert found is not None
    return found


def owner_of(conn: sa.Connection, actor: access.Actor, raw: str) -> User:
    """The account whose domain (main or sub) `raw` is, if `actor` may reach it."""
    return reachable(conn, actor, raw).account


def all_usernames(conn: sa.Connection) -> list[str]:
    """Every user: root first, then the accounts (resellers included), by name."""
    rows = conn.execute(sa.select(users.c.username, users.c.is_root).order_by(users.c.username))
    names = [(not r.is_root, r.username) for r in rows]
    return [name for _, name in sorted(names)]
