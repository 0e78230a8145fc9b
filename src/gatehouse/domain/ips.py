"""The server's IP addresses (WHM `listips`) and moving an account to another of them
(`setsiteip`).

gatehouse binds no addresses and reads no network interfaces: the server's addresses are what
the operator configures (GATEHOUSE_IPS, the main one first), by default the one address
accounts get (users.server_ip). An account without a recorded address has the main one.
Moving an account rewrites, in each DNS zone it holds, the A (or AAAA) records that pointed to
its old address, through the one zone edit path — as cPanel's setsiteip swaps the zone's IPs.
"""

from __future__ import annotations

import functools
import ipaddress
from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.config import Config
from gatehouse.dns import changes, zones
from gatehouse.dns.edits import save_edit
from gatehouse.dns.text import absolute, parse_entries
from gatehouse.domain import access, domain_lookup, users
from gatehouse.domain.unit import UnitOfWork
from gatehouse.domain.users import User
from gatehouse.errors import InvalidParameter
from gatehouse.store.schema import users as users_table

AUDIT_SET_SITE_IP = "SETSITEIP"
# API 0's recorded refusal when neither `user` nor `domain` names an account.
NO_USERNAME = "Cannot determine username"
# cPanel's words when `user` and `domain` name different accounts.
NOT_DOMAIN_OWNER = "User does not own the domain provided."


@dataclass(frozen=True, slots=True)
class ServerAddress:
    ip: str
    netmask: str
    network: str
    main: bool

    @property
    def version(self) -> int:
        return ipaddress.ip_address(self.ip).version


def server_addresses(setting: str | None, default_ip: str) -> list[ServerAddress]:
    """The configured addresses (`192.0.2.10` or `192.0.2.10/24`, comma-separated, the main
    one first); without a setting, `default_ip` alone. No prefix length: a host address."""
    return list(_parsed_addresses(setting, default_ip))


# Parsed once per setting: listaccts and accountsummary ask for the main address every call.
@functools.lru_cache(maxsize=32)
def _parsed_addresses(setting: str | None, default_ip: str) -> tuple[ServerAddress, ...]:
    items = [i.strip() for i in (setting or "").split(",") if i.strip()] or [default_ip]
    found: list[ServerAddress] = []
    seen: set[str] = set()
    for item in items:
        try:
            interface = ipaddress.ip_interface(item)
        except ValueError as exc:
            raise InvalidParameter(
                f"The server's GATEHOUSE_IPS setting holds “{item}”, which is not an IP "
                "address: the operator must correct it."
            ) from exc
        ip = str(interface.ip)
        if ip in seen:
            continue
        seen.add(ip)
        network = interface.network
        found.append(
            ServerAddress(ip, str(network.netmask), str(network.network_address), not found)
        )
    return tuple(found)


def of_server(config: Config) -> list[ServerAddress]:
    """This server's addresses: GATEHOUSE_IPS, else the one it listens on (users.server_ip),
    the main one first."""
    return server_addresses(config.ips, users.server_ip(config.bind))


def main_ip(config: Config) -> str:
    """The server's main address: the first of `of_server`. What createacct gives a new
    account and what an account without a recorded address has."""
    return of_server(config)[0].ip


@dataclass(frozen=True, slots=True)
class AddressUse:
    address: ServerAddress
    accounts: int  # how many accounts have it
    shared: bool = False  # a reseller's main address (setresellermainip)

    @property
    def used(self) -> bool:
        return self.accounts > 0

    @property
    def dedicated(self) -> bool:
        """cPanel's dedicated address: one not shared — not the main address nor a reseller's
        main address (Cpanel::DIp::IsDedicated) — and held by an account."""
        return not self.address.main and not self.shared and self.used


def address_uses(
    conn: sa.Connection, addresses: list[ServerAddress], shared: set[str] | None = None
) -> list[AddressUse]:
    """Each address with the number of cPanel accounts on it; `shared`: the resellers' main
    addresses (domain/reseller_ips.shared_ips)."""
    main = addresses[0].ip
    rows = conn.execute(
        sa.select(users_table.c.ip).where(
            users_table.c.is_root.is_(False), users_table.c.domain.is_not(None)
        )
    )
    counts = Counter(_normal(r.ip) or main for r in rows)
    return [AddressUse(a, counts.get(a.ip, 0), a.ip in (shared or ())) for a in addresses]


def _normal(raw: str | None) -> str | None:
    if not raw:
        return None
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return raw.strip()


# -- setsiteip ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Moved:
    account: User
    old_ip: str
    new_ip: str
    records: dict[str, int]  # zone -> A/AAAA records moved to the new address


def find_account(
    conn: sa.Connection, actor: access.Actor, *, username: str | None, domain: str | None
) -> User:
    """The account named by `user` or by one of its domains (setsiteip takes either). Given
    both, the domain's owner must be that user (Whostmgr/API/1/Accounts.pm setsiteip looks the
    domain's owner up and refuses any other), so a billing system that names the wrong
    account's domain moves nobody."""
    name = (username or "").strip()
    wanted = (domain or "").strip().lower().rstrip(".")
    if wanted:
        # getdomainowner's lookup: any domain of an account (main, sub, parked or addon).
        held = domain_lookup.holder_of_any(conn, wanted)
        owner = held.account.username if held is not None else None
        if name and owner != name:
            raise InvalidParameter(NOT_DOMAIN_OWNER)
        if owner is None:
            raise InvalidParameter(NO_USERNAME)
        name = owner
    if not name:
        raise InvalidParameter(NO_USERNAME)
    account = access.require_account(conn, actor, name)
    if not account.has_cpanel_account:
        raise InvalidParameter(f"The user “{name}” has no cPanel account.")
    return account


def set_site_ip(
    unit: UnitOfWork, account: User, raw_ip: str, addresses: list[ServerAddress]
) -> Moved:
    """Give `account` the address `raw_ip`, one of the server's `addresses`."""
    try:
        new_ip = str(ipaddress.ip_address(raw_ip.strip()))
    except ValueError as exc:
        raise InvalidParameter(f"“{raw_ip.strip()}” is not a valid IP address.") from exc
    if new_ip not in {a.ip for a in addresses}:
        raise InvalidParameter(
            f"The IP address “{new_ip}” is not one of this server's addresses (see listips)."
        )
    old_ip = _normal(account.ip) or addresses[0].ip
    # The account's row first: the call then holds the store's write lock before it reads
    # the zones it rewrites (zones.lock).
    users.set_account_columns(unit.conn, account.id, ip=new_ip)
    moved: dict[str, int] = {}
    if old_ip != new_ip:
        for name in zones.names_of_user(unit.conn, account.id):
            count = _swap(unit, name, old_ip, new_ip)
            if count:
                moved[name] = count
    unit.audit(
        AUDIT_SET_SITE_IP,
        account.username,
        f"{old_ip} -> {new_ip}; records moved: {sum(moved.values())}",
    )
    return Moved(account, old_ip, new_ip, moved)


def _swap(unit: UnitOfWork, name: str, old_ip: str, new_ip: str) -> int:
    """Point the zone's address records for `old_ip` at `new_ip`; how many moved."""
    zones.lock(unit.conn, name)
    zone = zones.get(unit.conn, name)
    if zone is None:
        return 0
    record_type = "A" if ipaddress.ip_address(new_ip).version == 4 else "AAAA"
    edits = [
        changes.Change(
            absolute(zone.name, e.dname),
            e.ttl,
            record_type,
            (new_ip,),
            line_index=e.line_index,
        )
        for e in parse_entries(zone.name, zone.text)
        if e.kind == "record"
        and e.record_type == record_type
        and [_normal(d) for d in e.data] == [old_ip]
    ]
    if not edits:
        return 0
    text = changes.apply_edits(zone, [], edits, [])
    save_edit(unit, zone, text, f"setsiteip {old_ip} -> {new_ip}: {len(edits)} record(s)")
    return len(edits)
