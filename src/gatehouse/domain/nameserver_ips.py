"""A nameserver's addresses: its IPv4 address (WHM's lookupnsip) or its IPv4 and IPv6
addresses (lookupnsips), one lookup shared by both.

cPanel (Cpanel/DnsUtils/NameServerIPs.pm, get_ip_from_nameserver and
get_all_ips_for_nameserver) asks real DNS first and falls back to its local zone files: the
zone file of the longest suffix of the name that has one — and that zone only — and in it the
A and AAAA records owned by the name (of each type, the last one read wins). gatehouse asks
its own zones first — what a DNS-only node knows authoritatively, and what answers without
the network — then the system resolver, bounded by a short timeout on a worker thread, so a
dead resolver costs a call seconds, never the server.

A name under `.invalid` is never resolved (RFC 6761 §6.4: resolver libraries should answer
it negatively at once), nor is a name that is not a host name."""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.dns import zones
from gatehouse.dns.parsed import parse
from gatehouse.dns.text import absolute
from gatehouse.domain import domain_names
from gatehouse.errors import InvalidParameter

# Whostmgr/API/1/Nameserver.pm's words when no address is found.
NOT_DETERMINED = "Unable to determine IP address from nameserver."
# How long the system resolver may take (seconds): a nameserver lookup is an interactive
# call, and glibc's own default (5 s a try, two tries a server) is far too long for one.
RESOLVE_TIMEOUT = 3.0


@dataclass(frozen=True, slots=True)
class Addresses:
    """A nameserver's first IPv4 and IPv6 address, "" for none (cPanel's `{ipv4, ipv6}`,
    Cpanel::DnsRoots::resolve_addresses_for_domain)."""

    ipv4: str = ""
    ipv6: str = ""

    def __bool__(self) -> bool:
        return bool(self.ipv4 or self.ipv6)


def ip_of(conn: sa.Connection, raw: str, *, timeout: float = RESOLVE_TIMEOUT) -> str | None:
    """The IPv4 address of the nameserver `raw`: from a local zone, else from the system
    resolver; None when neither knows it."""
    name = _host(raw)
    if name is None:
        return None
    return from_zones(conn, name).ipv4 or resolve(name, timeout) or None


def addresses_of(conn: sa.Connection, raw: str, *, timeout: float = RESOLVE_TIMEOUT) -> Addresses:
    """The IPv4 and IPv6 addresses of the nameserver `raw`: from a local zone when it holds
    either, else from the system resolver (cPanel takes either source whole, the same way:
    an address of one family is not completed from the other source)."""
    name = _host(raw)
    if name is None:
        return Addresses()
    return from_zones(conn, name) or resolve_both(name, timeout)


def _host(raw: str) -> str | None:
    try:
        return domain_names.host_name(raw)
    except InvalidParameter:
        return None


def from_zones(conn: sa.Connection, name: str) -> Addresses:
    """The addresses of the last A and the last AAAA record owned by `name` in the zone of
    the longest suffix of `name` that has one (the name itself included), as cPanel reads
    them; none when that zone has none (no other zone is searched, as cPanel's)."""
    labels = name.split(".")
    for i in range(len(labels) - 1):
        zone = zones.get(conn, ".".join(labels[i:]))
        if zone is None:
            continue
        owner = f"{name}."
        found = {"A": "", "AAAA": ""}
        for entry in parse(zone.name, zone.text):
            if entry.kind != "record" or entry.record_type not in found or not entry.data:
                continue
            if absolute(zone.name, entry.dname) == owner:
                found[entry.record_type] = entry.data[0]
        return Addresses(found["A"], found["AAAA"])
    return Addresses()


def resolve(name: str, timeout: float) -> str | None:
    """The first IPv4 address the system resolver gives for `name` within `timeout` seconds,
    or None."""
    return _first(_lookup(name, socket.AF_INET, timeout), ipaddress.IPv4Address) or None


def resolve_both(name: str, timeout: float) -> Addresses:
    """The first IPv4 and the first IPv6 address the system resolver gives for `name`, in
    one lookup within `timeout` seconds."""
    found = _lookup(name, socket.AF_UNSPEC, timeout)
    return Addresses(_first(found, ipaddress.IPv4Address), _first(found, ipaddress.IPv6Address))


def _first(found: list[str], kind: type[ipaddress.IPv4Address | ipaddress.IPv6Address]) -> str:
    for address in found:
        try:
            return str(kind(address))
        except ValueError:
            continue
    return ""


def _lookup(name: str, family: int, timeout: float) -> list[str]:
    """The addresses getaddrinfo gives for `name` within `timeout` seconds, [] otherwise. The
    lookup runs on a daemon thread: getaddrinfo cannot be interrupted, so one that hangs is
    left to finish on its own while the caller goes on."""
    if name == "invalid" or name.endswith(".invalid"):
        return []
    found: list[str] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(name, None, family, socket.SOCK_STREAM)
            found.extend(str(info[4][0]) for info in infos)
        except (OSError, UnicodeError):
            pass
        finally:
            done.set()

    threading.Thread(target=lookup, name="gatehouse-lookupnsip", daemon=True).start()
    if not done.wait(timeout):
        return []
    return list(found)
