"""Parked and addon domains: a domain of an account with a DNS zone of its own, served by one
of the account's web vhosts — its main domain's (cPanel's parked domain, an alias) or one of
its subdomains' (an addon domain). WHM's create_parked_domain_for_user makes them and
delete_domain removes them (domain/user_domains.py decides which vhost and checks the name).

As cPanel's Cpanel::ParkAdmin does, parking makes the domain's zone as adddns makes a zone
(Cpanel::DnsUtils::Add::doadddns with the account as `trueowner`: the default template, the
address of the vhost's account, its reseller's nameservers) and unparking removes that zone
(Cpanel::DnsUtils::Remove::removezone); both in the same transaction as the row, audited
(ADDDNS / KILLDNS for the zone, PARKDOMAIN / UNPARKDOMAIN for the domain). Removing the
account removes its rows (the foreign key cascades) and its zones with them. gatehouse has no
web server: the vhost is recorded, nothing is served from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.dns import zones
from gatehouse.domain import audit, domain_names
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User
from gatehouse.store.schema import parked_domains

PARK = "PARKDOMAIN"
UNPARK = "UNPARKDOMAIN"


@dataclass(frozen=True, slots=True)
class Parked:
    name: str  # lower case, no trailing dot
    user_id: int
    vhost: str | None  # the subdomain serving an addon domain; None: the main domain's vhost
    created_time: int

    @property
    def is_addon(self) -> bool:
        return self.vhost is not None


def _parked(row: sa.Row[tuple[object, ...]]) -> Parked:
    m = row._mapping
    vhost = m["vhost"]
    return Parked(
        str(m["name"]),
        int(str(m["user_id"])),
        None if vhost is None else str(vhost),
        int(str(m["created_time"])),
    )


_EVERY = sa.select(parked_domains).order_by(parked_domains.c.name)
_OF_USER = _EVERY.where(parked_domains.c.user_id == sa.bindparam("user_id"))
_BY_NAME = sa.select(parked_domains).where(parked_domains.c.name == sa.bindparam("name"))


def every(conn: sa.Connection) -> list[Parked]:
    return [_parked(r) for r in conn.execute(_EVERY)]


def of_user(conn: sa.Connection, user_id: int) -> list[Parked]:
    return [_parked(r) for r in conn.execute(_OF_USER, {"user_id": user_id})]


def get(conn: sa.Connection, name: str) -> Parked | None:
    found = conn.execute(_BY_NAME, {"name": zones.normalise(name)}).first()
    return _parked(found) if found else None


def on_vhost(conn: sa.Connection, user_id: int, vhost: str) -> list[str]:
    """The addon domains a subdomain's vhost serves."""
    return [p.name for p in of_user(conn, user_id) if p.vhost == vhost]


def move_vhost(conn: sa.Connection, user_id: int, old: str, new: str) -> None:
    """A subdomain was renamed (its main domain changed): its addon domains follow it."""
    conn.execute(
        sa.update(parked_domains)
        .where(parked_domains.c.user_id == user_id, parked_domains.c.vhost == old)
        .values(vhost=new)
    )


@dataclass(frozen=True, slots=True)
class ZoneFacts:
    """What the new zone is made of (zones.from_template): the address, the nameservers (the
    account's reseller's, else the server's) and the host name for its version line."""

    ip: str
    nameservers: list[str]
    hostname: str


def park(unit: UnitOfWork, account: User, name: str, vhost: str | None, facts: ZoneFacts) -> Parked:
    """Record `name` (checked by the caller, and its zone's write lock taken) as `account`'s,
    served by `vhost` (None: the main domain's), and make its zone from the template."""
    conn = unit.conn
    zone = zones.from_template(
        name,
        ip=facts.ip,
        nameservers=facts.nameservers,
        now=unit.now,
        hostname=facts.hostname,
        contact=account.contact_email,
    )
    try:  # a concurrent call took the name (the call is rolled back)
        conn.execute(
            sa.insert(parked_domains).values(
                user_id=account.id, name=name, vhost=vhost, created_time=unit.now
            )
        )
    except sa.exc.IntegrityError:
        raise domain_names.in_userdata(name) from None
    zones.add(conn, zone, user_id=account.id, now=unit.now)
    unit.audit(audit.ZONE_CREATE, name, f"zone of {account.username} (parked domain)")
    unit.audit(PARK, account.username, f"{name} on {vhost or account.domain}")
    return Parked(name, account.id, vhost, unit.now)


def unpark(unit: UnitOfWork, account: User, parked: Parked) -> None:
    """Forget `parked` and remove its zone (whatever records it holds, as cPanel's
    removezone does)."""
    conn = unit.conn
    conn.execute(sa.delete(parked_domains).where(parked_domains.c.name == parked.name))
    if zones.delete(conn, parked.name):
        unit.audit(audit.ZONE_DELETE, parked.name, f"zone of {account.username} (unparked)")
    unit.audit(UNPARK, account.username, parked.name)
