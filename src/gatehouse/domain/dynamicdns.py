"""Dynamic DNS: a name in one of the account's zones whose address a device keeps current by
calling a secret URL, `/cpanelwebcall/<id>` (cPanel's DynamicDNS module and its "webcall").

The id is the only credential of the webcall, so it is a secret like an API token: 32 random
lower-case letters (cPanel's form, ~150 bits), found by its SHA-256 digest and compared in
constant time. cPanel shows it again in `list`, and clients find a domain's webcall there, so
it is also kept encrypted with the key ring (as the Remote Access Key is), never in plaintext.

A webcall sets the name's A record (the caller's address is IPv4) or AAAA record (IPv6) to the
caller's address, replacing the records of that type at the name, through the one edit path
(`dns.edits.save_edit`: lock, validation, serial, audit) — or changes nothing when the record
already holds that address.

Rate limit: a webcall within MIN_INTERVAL seconds of the previous one for the same domain is
refused (HTTP 429 with Retry-After), whether or not it would change anything, so a looping client
cannot make the zone's serial run away. Deleting a Dynamic DNS domain removes the name's A and
AAAA records too, as cPanel does, through the same edit path.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import re
import secrets
import string
from dataclasses import dataclass

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag

from gatehouse.dns import changes, zones
from gatehouse.dns.edits import save_edit
from gatehouse.dns.text import absolute, records_at
from gatehouse.domain import domain_names, subdomains
from gatehouse.domain.accesshash import KeyRing
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User
from gatehouse.errors import Conflict, GatehouseError, InvalidParameter, NotFound
from gatehouse.store.schema import dynamic_dns, users

DDNS_CREATE = "CREATEDYNAMICDNS"
DDNS_DELETE = "DELETEDYNAMICDNS"
DDNS_UPDATE = "DYNAMICDNSUPDATE"
DDNS_RECREATE = "RECREATEDYNAMICDNS"
DDNS_DESCRIBE = "EDITDYNAMICDNS"

log = logging.getLogger("gatehouse.dynamicdns")

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
    webcall_id: str | None  # None: made before ids were kept encrypted (migration 0028)
    ipv4: tuple[str, ...]  # the name's A records, as its zone holds them now
    ipv6: tuple[str, ...]  # its AAAA records, in RFC 5952 form


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


def _context(user_id: int, domain: str) -> str:
    # Binds a ciphertext to its account and domain: a blob copied to another row will not
    # decrypt.
    return f"dynamicdns:{user_id}:{domain}"


def _sealed(keyring: KeyRing, user_id: int, domain: str, webcall_id: str) -> dict[str, object]:
    """The columns that keep an id: its digest (the way in) and its encrypted copy (to show)."""
    return {
        "id_digest": digest(webcall_id),
        "id_ciphertext": keyring.encrypt(webcall_id, _context(user_id, domain)),
    }


def _shown_id(keyring: KeyRing, row: sa.Row[tuple[object, ...]]) -> str | None:
    if row.id_ciphertext is None:
        return None
    try:
        return keyring.decrypt(bytes(row.id_ciphertext), _context(row.user_id, row.domain))
    except (InvalidTag, ValueError):
        # Another node's secret key (GATEHOUSE_SECRET_KEY must be the same on every node):
        # the list still answers, without this id.
        log.warning("the Dynamic DNS id of %s does not decrypt with this key ring", row.domain)
        return None


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


def list_of(conn: sa.Connection, keyring: KeyRing, user_id: int) -> list[DynamicDomain]:
    query = sa.select(dynamic_dns).where(dynamic_dns.c.user_id == user_id)
    rows = conn.execute(query.order_by(dynamic_dns.c.domain)).all()
    addresses = _addresses(conn, {(str(r.zone), str(r.domain)) for r in rows})
    return [
        DynamicDomain(
            r.domain,
            r.description,
            int(r.created_time),
            r.last_run_time,
            r.last_update_time,
            _shown_id(keyring, r),
            *addresses.get(str(r.domain), ((), ())),
        )
        for r in rows
    ]


def _addresses(
    conn: sa.Connection, names: set[tuple[str, str]]
) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Each (zone, name)'s A and AAAA addresses as its zone holds them, each zone read once."""
    found: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    for zone_name in sorted({zone for zone, _ in names}):
        zone = zones.get(conn, zone_name)
        if zone is None:
            continue
        wanted = {f"{name}." for zone, name in names if zone == zone_name}
        ipv4: dict[str, list[str]] = {}
        ipv6: dict[str, list[str]] = {}
        for e in records_at(zone.name, zone.text, wanted, ("A", "AAAA")):
            if not e.data:
                continue
            owner = absolute(zone.name, e.dname)
            if e.record_type == "A":
                ipv4.setdefault(owner, []).append(e.data[0])
            else:
                ipv6.setdefault(owner, []).append(_rfc5952(e.data[0]))
        for owner in wanted:
            found[owner[:-1]] = (tuple(ipv4.get(owner, ())), tuple(ipv6.get(owner, ())))
    return found


def _rfc5952(text: str) -> str:
    try:
        return ipaddress.IPv6Address(text).compressed
    except ValueError:
        return text


def create(
    unit: UnitOfWork, keyring: KeyRing, account: User, raw_domain: str, description: str
) -> Created:
    """Register a Dynamic DNS name under one of `account`'s zones, with a new id."""
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
                created_time=unit.now,
                **_sealed(keyring, account.id, name, webcall_id),
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


def _own(conn: sa.Connection, account: User, webcall_id: str) -> sa.Row[tuple[object, ...]] | None:
    """`account`'s domain with this id; an id of the wrong shape is refused as cPanel does
    (`Invalid “id”: …`), and another account's id is no domain of this one."""
    if not _ID.match(webcall_id):
        raise InvalidParameter(f"Invalid “id”: {webcall_id}")
    row = _by_id(conn, webcall_id)
    return row if row is not None and row.user_id == account.id else None


def delete(unit: UnitOfWork, account: User, *, webcall_id: str | None, domain: str | None) -> bool:
    """Unregister one of `account`'s Dynamic DNS domains, named by its id (cPanel) or by its
    domain (gatehouse's addition, for an id made before ids were kept). False, as cPanel's
    `deleted: 0`, when the account has no such domain."""
    conn = unit.conn
    row = _named(conn, account, webcall_id, domain)
    if row is None:
        return False
    name = str(row.domain)
    # As cPanel does, the name's addresses go with it (its A and AAAA records).
    zone = _zone_of(conn, account.id, name, lock=True)
    if zone is not None:
        present = records_at(zone.name, zone.text, {f"{name}."}, ("A", "AAAA"))
        if present:
            text = changes.apply_edits(zone, [], [], [e.line_index for e in present])
            save_edit(unit, zone, text, f"Dynamic DNS {name} deleted")
    conn.execute(sa.delete(dynamic_dns).where(dynamic_dns.c.id == row.id))
    unit.audit(DDNS_DELETE, account.username, name)
    return True


def _named(
    conn: sa.Connection, account: User, webcall_id: str | None, domain: str | None
) -> sa.Row[tuple[object, ...]] | None:
    """`account`'s domain named by its id (cPanel) or by its domain name (gatehouse)."""
    if webcall_id:
        return _own(conn, account, webcall_id.strip())
    name = zones.normalise(domain or "")
    row = conn.execute(sa.select(dynamic_dns).where(dynamic_dns.c.domain == name)).first()
    return row if row is not None and row.user_id == account.id else None


def recreate(
    unit: UnitOfWork,
    keyring: KeyRing,
    account: User,
    *,
    webcall_id: str | None,
    domain: str | None,
) -> str:
    """A new id for one of `account`'s domains, named by its id or (gatehouse's addition, for
    an id made before ids were kept) its domain: the old id stops working with this commit."""
    conn = unit.conn
    row = _named(conn, account, webcall_id, domain)
    if row is None:
        given = f"“id”: {webcall_id.strip()}" if webcall_id else f"“domain”: {domain}"
        raise NotFound(f"Nonexistent {given}")
    fresh = new_id()
    sealed = _sealed(keyring, account.id, str(row.domain), fresh)
    conn.execute(sa.update(dynamic_dns).where(dynamic_dns.c.id == row.id).values(**sealed))
    unit.audit(DDNS_RECREATE, account.username, str(row.domain))
    return fresh


def set_description(unit: UnitOfWork, account: User, webcall_id: str, description: str) -> None:
    conn = unit.conn
    row = _own(conn, account, webcall_id.strip())
    if row is None:
        raise NotFound(f"Nonexistent “id”: {webcall_id.strip()}")
    conn.execute(
        sa.update(dynamic_dns).where(dynamic_dns.c.id == row.id).values(description=description)
    )
    unit.audit(DDNS_DESCRIBE, account.username, str(row.domain))


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
    present = records_at(zone.name, zone.text, {f"{name}."}, (record_type,))
    changed = not (len(present) == 1 and present[0].data == [str(address)])
    values: dict[str, int] = {"last_run_time": unit.now}
    if changed:
        record = changes.Change(f"{name}.", RECORD_TTL, record_type, (str(address),))
        text = changes.apply_edits(zone, [record], [], [e.line_index for e in present])
        save_edit(unit, zone, text, f"Dynamic DNS {name} {record_type} {address}")
        values["last_update_time"] = unit.now
        unit.audit(DDNS_UPDATE, name, f"{record_type} {address}")
    conn.execute(sa.update(dynamic_dns).where(dynamic_dns.c.id == row.id).values(**values))
    return Ran(name, record_type, str(address), changed)
