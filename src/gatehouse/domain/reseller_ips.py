"""A reseller's IP addresses: its pool (WHM setresellerips / getresellerips) and its main
shared address (setresellermainip), as cPanel 11.120's Whostmgr::Resellers::Ips keeps them.

* The pool is cPanel's /var/cpanel/dips/RESELLER: absent, the reseller may use every address
  of the server (getresellerips answers them all, with `all` 1); present, the delegated
  addresses only (an empty list: none). Stored in reseller_ips.delegated (null: absent).
  createacct ip=y dedicates the first free address of it (`available`, `claim`).
* The main address is cPanel's /var/cpanel/mainips/RESELLER: the shared address the accounts
  it owns get when created without a dedicated address (Whostmgr::Ips::Shared::
  get_shared_ip_address_for_creator, what get_shared_ip answers). Absent: the server's main
  address. Setting it to the server's main address removes it, as set_reseller_mainip does.
  Stored in reseller_ips.main_ip (null: absent).

Both must be addresses of the server (ips.of_server: GATEHOUSE_IPS), as cPanel's
_are_available_ips checks them against its configured addresses. A reseller's main address is
shared, never dedicated (Cpanel::DIp::IsDedicated: every reseller's shared addresses are not).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from gatehouse.domain.users import User
from gatehouse.errors import Conflict
from gatehouse.store import rows
from gatehouse.store.schema import reseller_ips, users

if TYPE_CHECKING:  # domain.ips → domain_lookup → accounts → reseller_admin → this module
    from gatehouse.domain.ips import ServerAddress

# cPanel's words (Whostmgr::Resellers::Ips).
NOT_A_RESELLER = "Specified user is not a reseller."
INAPPROPRIATE_IPS = "The list of supplied IP addresses contains inappropriate values."
INVALID_MAIN_IP = "Supplied IP address is invalid."
DELEGATED = "Successfully configured IP addresses delegation to reseller."
MAIN_IP_SET = "Successfully set main IP address of the reseller."


def not_a_reseller_named(username: str) -> str:
    """set_reseller_ips' own refusal, which names the user."""
    return f"The specified user ({username}) is not a reseller."


@dataclass(frozen=True, slots=True)
class Pool:
    ips: list[str]
    all: bool  # not delegated: every address of the server


def _row(conn: sa.Connection, reseller: User) -> Any:
    return conn.execute(
        sa.select(reseller_ips.c.delegated, reseller_ips.c.main_ip).where(
            reseller_ips.c.user_id == reseller.id
        )
    ).first()


def _normal(raw: str) -> str | None:
    try:
        return str(ipaddress.ip_address(raw.strip()))
    except ValueError:
        return None


def pool(conn: sa.Connection, reseller: User, addresses: list[ServerAddress]) -> Pool:
    """The addresses the reseller may use: its delegated ones, else all of the server's."""
    row = _row(conn, reseller)
    delegated = row.delegated if row is not None else None
    if not isinstance(delegated, list):
        return Pool([a.ip for a in addresses], True)
    return Pool([str(ip) for ip in delegated], False)


def parse_ips(raw: str | None, addresses: list[ServerAddress]) -> list[str] | None:
    """setresellerips' `ips` (comma-separated) → the addresses, each one of the server's, in
    the order given, without repeats; None when one is not (cPanel refuses the call)."""
    known = {a.ip for a in addresses}
    found: list[str] = []
    # Choice: blanks around an address and empty items (`1.2.3.4,`, which clients of cPanel's
    # xmlapi-php append) are ignored; cPanel's split would refuse " 1.2.3.4".
    for item in (raw or "").split(","):
        if not item.strip():
            continue
        ip = _normal(item)
        if ip is None or ip not in known:
            return None
        if ip not in found:
            found.append(ip)
    return found


def _save(conn: sa.Connection, reseller: User, **values: object) -> None:
    # One statement: two calls racing to make the reseller's row both succeed.
    rows.put(conn, reseller_ips, {"user_id": reseller.id}, values)


def set_delegation(conn: sa.Connection, reseller: User, ips: list[str] | None) -> None:
    """Delegate these addresses to the reseller (None: no delegation, every address)."""
    _save(conn, reseller, delegated=None if ips is None else list(ips))


def main_ip_of(conn: sa.Connection, owner: User, addresses: list[ServerAddress]) -> str:
    """The shared address new accounts of `owner` get: its main address if it set one that is
    still one of the server's IPv4 addresses (get_shared_ip_address_for_creator takes only a
    valid IPv4 address from the file), else the server's main address."""
    server_main = addresses[0].ip
    if owner.is_root or not owner.is_reseller:
        return server_main
    row = _row(conn, owner)
    chosen = row.main_ip if row is not None else None
    if chosen and chosen in {a.ip for a in addresses if a.version == 4}:
        return str(chosen)
    return server_main


def check_main_ip(raw: str | None, addresses: list[ServerAddress]) -> str | None:
    """setresellermainip's `ip` → the address, or None when it is not one of the server's
    IPv4 addresses (choice: an IPv6 address is refused, as get_shared_ip_address_for_creator
    would never use it)."""
    ip = _normal(raw or "")
    if ip is None or ip not in {a.ip for a in addresses if a.version == 4}:
        return None
    return ip


def set_main_ip(
    conn: sa.Connection, reseller: User, ip: str, addresses: list[ServerAddress]
) -> None:
    """Make `ip` (checked) the reseller's main address; the server's main address removes
    the reseller's own, as set_reseller_mainip unlinks its file."""
    _save(conn, reseller, main_ip=None if ip == addresses[0].ip else ip)


def shared_ips(conn: sa.Connection, addresses: list[ServerAddress]) -> set[str]:
    """The server's shared addresses: its main one and every reseller's main address."""
    rows = conn.execute(
        sa.select(reseller_ips.c.main_ip)
        .join(users, users.c.id == reseller_ips.c.user_id)
        .where(reseller_ips.c.main_ip.is_not(None), users.c.reseller_acls.is_not(None))
    )
    return {addresses[0].ip} | {str(r.main_ip) for r in rows}


# -- dedicated addresses (createacct ip=y) -----------------------------------------------------

# Whostmgr::Transfers::Systems::IPAddress's words when no address is left to dedicate (choice:
# createacct's own, in Whostmgr::Accounts::Create, is not in the source we have).
NO_FREE_IP = "There are no IP addresses on this system that are available to assign to the account."


def _taken(conn: sa.Connection) -> set[str]:
    rows = conn.execute(
        sa.select(users.c.ip).where(users.c.ip.is_not(None), users.c.is_root.is_(False))
    )
    return {ip for ip in (_normal(str(r.ip)) for r in rows) if ip is not None}


def available(conn: sa.Connection, owner: User, addresses: list[ServerAddress]) -> list[str]:
    """The addresses a new account of `owner` may have as its own (cPanel's
    Cpanel::DIp::Group::get_available_ips): from the owner's pool (a reseller's delegated
    addresses, else every address of the server), the IPv4 ones that are not shared — the
    server's main address, a reseller's main address — and that no account holds."""
    if owner.is_reseller and not owner.is_root:
        candidates = pool(conn, owner, addresses).ips
    else:
        candidates = [a.ip for a in addresses]
    ipv4 = {a.ip for a in addresses if a.version == 4}
    excluded = shared_ips(conn, addresses) | _taken(conn)
    return [ip for ip in candidates if ip in ipv4 and ip not in excluded]


def claim(conn: sa.Connection, ip: str, owner: User, addresses: list[ServerAddress]) -> None:
    """Take the store's write lock for address allocation (root's row, as zones.lock does for a
    zone: on SQLite the one write lock, on PostgreSQL that row), then check `ip` is still free:
    two accounts created at once never get the same dedicated address."""
    conn.execute(sa.update(users).where(users.c.is_root.is_(True)).values(owner=users.c.owner))
    if ip not in available(conn, owner, addresses):
        raise Conflict(NO_FREE_IP)


def forget(conn: sa.Connection, reseller: User) -> None:
    """The reseller is no more (unsetupreseller, terminatereseller): its pool and main address
    go, as cPanel's _unsetupreseller unlinks both files."""
    conn.execute(sa.delete(reseller_ips).where(reseller_ips.c.user_id == reseller.id))
