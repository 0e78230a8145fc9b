"""Which account holds a domain, and the domains and users the server knows: the reads behind
WHM's get_domain_info, getdomainowner and list_users.

A gatehouse account's domains are its main domain (users.domain), the subdomains made with
`SubDomain::addsubdomain` (domain/subdomains.py) and the parked and addon domains WHM's
create_parked_domain_for_user makes (domain/parked_domains.py). As cPanel does, the WHM
functions find an account by any of them (`holder_of_any`): a domain's owner is the account
that holds it. `holder` knows the web vhosts only (main domains and subdomains), for what
needs a vhost of its own (userdata, SSL vhosts).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.domain import access, accounts, parked_domains, subdomains
from gatehouse.domain import users as users_domain
from gatehouse.domain.parked_domains import Parked
from gatehouse.domain.subdomains import Subdomain
from gatehouse.domain.users import User
from gatehouse.store.schema import users

MAIN = "main"
SUB = "sub"
PARKED = "parked"
ADDON = "addon"


@dataclass(frozen=True, slots=True)
class DomainEntry:
    domain: str
    account: User
    sub: Subdomain | None = None  # set for a subdomain, and for an addon domain its vhost's
    parked: Parked | None = None  # set for a parked or addon domain

    @property
    def kind(self) -> str:
        """MAIN, SUB, PARKED or ADDON: cPanel's `domain_type`."""
        if self.parked is not None:
            return ADDON if self.parked.is_addon else PARKED
        return MAIN if self.sub is None else SUB

    @property
    def parent(self) -> str | None:
        """A subdomain's root domain (None for the others)."""
        return None if self.sub is None or self.parked is not None else self.sub.root_domain

    @property
    def document_root(self) -> str:
        """cPanel's default document root: public_html, and public_html/LABEL for a subdomain
        (gatehouse has no web server; `dir` is accepted and not kept, docs/cpanel.md)."""
        basedir = "public_html" if self.sub is None else self.sub.basedir
        return f"/home/{self.account.username}/{basedir}"

    @classmethod
    def of_subdomain(cls, sub: Subdomain, account: User) -> DomainEntry:
        return cls(sub.name, account, sub)

    @classmethod
    def of_parked(cls, conn: sa.Connection, parked: Parked, account: User) -> DomainEntry:
        """A parked domain, served (and rooted: its document root) as its vhost is: the main
        domain's, or for an addon domain its subdomain's."""
        vhost = None if parked.vhost is None else subdomains.get(conn, parked.vhost)
        return cls(parked.name, account, vhost, parked)


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
    entries += [
        DomainEntry.of_parked(conn, parked, visible[parked.user_id])
        for parked in parked_domains.every(conn)
        if parked.user_id in visible
    ]
    return sorted(entries, key=lambda e: e.domain)


def _unheld(domain: str) -> bool:
    """A name no account can hold: empty, or with a NUL, which no stored domain has and
    PostgreSQL refuses in a query's text (a refusal, not an internal error, for the caller)."""
    return not domain or "\x00" in domain


def holder(conn: sa.Connection, domain: str) -> DomainEntry | None:
    """The account holding `domain` (lower case, no trailing dot) as its main domain or as one
    of its subdomains."""
    if _unheld(domain):
        return None
    account = accounts.by_domain(conn, domain)
    if account is not None:
        return DomainEntry(domain, account)
    sub = subdomains.get(conn, domain)
    if sub is None:
        return None
    account = users_domain.get_by_id(conn, sub.user_id)
    return None if account is None else DomainEntry.of_subdomain(sub, account)


def holder_of_any(conn: sa.Connection, domain: str) -> DomainEntry | None:
    """The account holding `domain` as any of its domains — main, sub, parked or addon —, as
    cPanel's getdomainowner finds it (/etc/userdomains)."""
    found = holder(conn, domain)
    if found is not None or _unheld(domain):
        return found
    parked = parked_domains.get(conn, domain)
    account = None if parked is None else users_domain.get_by_id(conn, parked.user_id)
    if parked is None or account is None:
        return None
    return DomainEntry.of_parked(conn, parked, account)


# The labels cPanel's web vhosts answer for on their own (Cpanel::WebVhosts::strip_auto_domains:
# www, mail, ipv6 and the service subdomains): `www.D` belongs to whoever holds D.
AUTO_LABELS = ("www", "mail", "ipv6", "autoconfig", "autodiscover", "cpanel", "cpcalendars",
               "cpcontacts", "webdisk", "webmail", "whm")  # fmt: skip


def holder_of_web_name(conn: sa.Connection, domain: str) -> DomainEntry | None:
    """The account holding `domain`, or the domain it is an automatic name of (`www.D`,
    `mail.D`, `cpanel.D`, ...), as cPanel's Cpanel::Domain::Owner::get_owner_or_undef."""
    found = holder_of_any(conn, domain)
    if found is None and "." in domain and domain.split(".", 1)[0] in AUTO_LABELS:
        found = holder_of_any(conn, domain.split(".", 1)[1])
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
