"""Dynamic DNS: a name in one of the account's zones whose address a device keeps current by
calling a secret URL, `/cpanelwebcall/<id>` (cPanel's DynamicDNS module and its "webcall").

The id is the only credential of the webcall, so it is a secret like an API token: 32 random
lower-case letters (cPanel's form, ~150 bits) shown once by `create`, stored only as its SHA-256
digest, found by the digest and compared in constant time. A webcall sets the name's A record
(the caller's address is IPv4) or AAAA record (IPv6) to the caller's address, replacing the
records of that type at the name, through the one edit path (`dns.edits.save_edit`: lock,
validation, serial, audit) — or changes nothing when the record already holds that address.

Rate limit: a webcall within MIN_INTERVAL seconds of the previous one for the same domain is
refused (HTTP 429 with Retry-After), whether or not it would change anything, so a looping client
cannot make the zone's serial run away. Deleting a Dynamic DNS domain leaves its records in the
zone (they are the account's records; the Zone Editor removes them).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import string
from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.dns import changes, zones
from gatehouse.dns.edits import save_edit
from gatehouse.dns.text import absolute, parse_entries
from gatehouse.domain import domain_names, subdomains
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User
from gatehouse.errors import Conflict, GatehouseError, InvalidParameter, NotFound
from gatehouse.store.schema import dynamic_dns, users

DDNS_CREATE = "CREATEDYNAMICDNS"
DDNS_DELETE = "DELETEDYNAMICDNS"
DDNS_UPDATE = "DYNAMICDNSUPDATE"

MIN_INTERVAL = 30  # seconds between two webcalls of one domain
RECORD_TTL = 300  # short, so resolvers follow a changing address
ID_LENGTH = 32
_ID = re.compile(r"^[a-z]{32}\Z")
_LABEL = re.compile(r"^(?:\*|[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9])?)\Z")


class RateLimited(GatehouseError):
    """Too soon after the previous webcall of the same domain."""

    def __init__(self, reason: str, retry_after: int) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class DynamicDomain:
    domain: str
    description: str
    created_time: int
    last_run_time: int | None
    last_update_time: int | None


@dataclass(frozen=True, slots=True)
class Created:
    domain: str
    webcall_id: str  # the secret, to show once
    created_time: int


@dataclass(frozen=True, slots=True)
class Ran:
    domain: str
    record_type: str
    address: str
    changed: bool


def digest(webcall_id: str) -> str:
    return hashlib.sha256(webcall_id.encode()).hexdigest()


def new_id() -> str:
    return "".join(secrets.choice(string.ascii_lowercase) for _ in range(ID_LENGTH))


def _check_domain(raw: str) -> str:
    name = domain_names.lookup_form(raw)  # Unicode as A-labels
    if not name:
        raise InvalidParameter("Provide the “domain” argument.")
    if len(name) > 253 or not all(_LABEL.match(p) for p in name.split(".")) or "*" in name:
        raise InvalidParameter(f"“{raw.strip()}” is not a valid domain name.")
    domain_names.check_ownable(name)
    return name


def _zone_of(conn: sa.Connection, user_id: int, name: str, *, lock: bool) -> zones.Zone | None:
    """The zone holding `name` (the longest zone name it is under), if it is `user_id`'s."""
    candidate = name
    while "." in candidate:
        candidate = candidate.split(".", 1)[1]
        if lock:
            zones.lock(conn, candidate)
        zone = zones.get(conn, candidate)
        if zone is not None:
            return zone if zone.owner_user_id == user_id else None
    return None


def list_of(conn: sa.Connection, user_id: int) -> list[DynamicDomain]:
    query = sa.select(dynamic_dns).where(dynamic_dns.c.user_id == user_id)
    rows = conn.execute(query.order_by(dynamic_dns.c.domain))
    return [
        DynamicDomain(
            r.domain, r.description, int(r.created_time), r.last_run_time, r.last_update_time
        )
        for r in rows
    ]


def create(unit: UnitOfWork, account: User, raw_domain: str, description: str) -> Created:
    """Register a Dynamic DNS name under one of `account`'s zones; the id is in the answer
    only."""
    conn = unit.conn
    name = _check_domain(raw_domain)
    if zones.get(conn, name) is not None or subdomains.get(conn, name) is not None:
        raise Conflict(
            f"“{name}” is a domain of its own; a Dynamic DNS domain must be a new name "
            "under one of your domains."
        )
    zone = _zone_of(conn, account.id, name, lock=False)
    if zone is None:
        raise NotFound(
            f"“{name}” is not under a domain of the account “{account.username}” that has a "
            "DNS zone."
        )
    if conn.execute(sa.select(dynamic_dns.c.id).where(dynamic_dns.c.domain == name)).first():
        raise Conflict(f"The Dynamic DNS domain “{name}” already exists.")
    webcall_id = new_id()
    try:  # a concurrent call took the name (the call is rolled back)
        conn.execute(
            sa.insert(dynamic_dns).values(
                user_id=account.id,
                domain=name,
                zone=zone.name,
                description=description,
                id_digest=digest(webcall_id),
                created_time=unit.now,
            )
        )
    except sa.exc.IntegrityError:
        raise Conflict(f"The Dynamic DNS domain “{name}” already exists.") from None
    unit.audit(DDNS_CREATE, account.username, name)
    return Created(name, webcall_id, unit.now)


def _by_id(conn: sa.Connection, webcall_id: str) -> sa.Row[tuple[object, ...]] | None:
    if not _ID.match(webcall_id):
        return None
    wanted = digest(webcall_id)
    row = conn.execute(sa.select(dynamic_dns).where(dynamic_dns.c.id_digest == wanted)).first()
    if row is None or not hmac.compare_digest(str(row.id_digest), wanted):
        return None
    return row


def delete(unit: UnitOfWork, account: User, *, webcall_id: str | None, domain: str | None) -> str:
    """Unregister one of `account`'s Dynamic DNS domains, named by its id (cPanel) or by its
    domain (gatehouse: the id is not stored, so a lost one can still be deleted)."""
    conn = unit.conn
    if webcall_id:
        row = _by_id(conn, webcall_id.strip())
    else:
        name = zones.normalise(domain or "")
        row = conn.execute(sa.select(dynamic_dns).where(dynamic_dns.c.domain == name)).first()
    if row is None or row.user_id != account.id:
        raise NotFound("No Dynamic DNS domain of this account has that ID.")
    conn.execute(sa.delete(dynamic_dns).where(dynamic_dns.c.id == row.id))
    unit.audit(DDNS_DELETE, account.username, str(row.domain))
    return str(row.domain)


def _address(peer: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    try:
        address = ipaddress.ip_address(peer or "")
    except ValueError:
        raise InvalidParameter("The caller's address is unknown.") from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def run(unit: UnitOfWork, webcall_id: str, peer: str | None) -> Ran:
    """The webcall: set the domain's A or AAAA record to the caller's address."""
    conn = unit.conn
    row = _by_id(conn, webcall_id)
    if row is None:
        raise NotFound("No Dynamic DNS domain has this ID.")
    if row.last_run_time is not None and unit.now - int(row.last_run_time) < MIN_INTERVAL:
        wait = MIN_INTERVAL - (unit.now - int(row.last_run_time))
        raise RateLimited(
            f"Too many updates: wait {wait} seconds before the next update of “{row.domain}”.",
            wait,
        )
    owner = users.c
    account = conn.execute(sa.select(owner.suspended).where(owner.id == row.user_id)).first()
    if account is None or account.suspended:
        raise NotFound("No Dynamic DNS domain has this ID.")
    address = _address(peer)
    record_type = "A" if address.version == 4 else "AAAA"
    name = str(row.domain)
    zone = _zone_of(conn, int(row.user_id), name, lock=True)
    if zone is None:
        raise NotFound(f"The DNS zone that held “{name}” no longer exists.")
    owner_name = f"{name}."
    present = [
        e
        for e in parse_entries(zone.name, zone.text)
        if e.kind == "record"
        and e.record_type == record_type
        and absolute(zone.name, e.dname) == owner_name
    ]
    changed = not (len(present) == 1 and present[0].data == [str(address)])
    values: dict[str, int] = {"last_run_time": unit.now}
    if changed:
        record = changes.Change(owner_name, RECORD_TTL, record_type, (str(address),))
        text = changes.apply_edits(zone, [record], [], [e.line_index for e in present])
        save_edit(unit, zone, text, f"Dynamic DNS {name} {record_type} {address}")
        values["last_update_time"] = unit.now
        unit.audit(DDNS_UPDATE, name, f"{record_type} {address}")
    conn.execute(sa.update(dynamic_dns).where(dynamic_dns.c.id == row.id).values(**values))
    return Ran(name, record_type, str(address), changed)
