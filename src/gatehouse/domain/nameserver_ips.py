"""A nameserver's IPv4 address (WHM's lookupnsip).

cPanel (Cpanel/DnsUtils/NameServerIPs.pm, get_ip_from_nameserver) asks real DNS first and
falls back to its local zone files: the zone file of the longest suffix of the name that has
one — and that zone only — and in it the A records owned by the name (the last one read
wins). gatehouse asks its own zones first — what a DNS-only node knows authoritatively, and
what answers without the network — then the system resolver, bounded by a short timeout on a
worker thread, so a dead resolver costs a call seconds, never the server.

A name under `.invalid` is never resolved (RFC 6761 §6.4: resolver libraries should answer
it negatively at once), nor is a name that is not a host name."""

from __future__ import annotations

import ipaddress
import socket
import threading

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


def ip_of(conn: sa.Connection, raw: str, *, timeout: float = RESOLVE_TIMEOUT) -> str | None:
    """The IPv4 address of the nameserver `raw`: from a local zone, else from the system
    resolver; None when neither knows it."""
    try:
        name = domain_names.host_name(raw)
    except InvalidParameter:
        return None
    return from_zones(conn, name) or resolve(name, timeout)


def from_zones(conn: sa.Connection, name: str) -> str | None:
    """The address of an A record owned by `name` in the zone of the longest suffix of
    `name` that has one (the name itself included), the last one of the zone as cPanel reads
    them; None when that zone has none (no other zone is searched, as cPanel's)."""
    labels = name.split(".")
    for i in range(len(labels) - 1):
        zone = zones.get(conn, ".".join(labels[i:]))
        if zone is None:
            continue
        owner = f"{name}."
        found: str | None = None
        for entry in parse(zone.name, zone.text):
            if entry.kind != "record" or entry.record_type != "A" or not entry.data:
                continue
            if absolute(zone.name, entry.dname) == owner:
                found = entry.data[0]
        return found
    return None


def resolve(name: str, timeout: float) -> str | None:
    """The first IPv4 address the system resolver gives for `name` within `timeout` seconds,
    or None. The lookup runs on a daemon thread: getaddrinfo cannot be interrupted, so one
    that hangs is left to finish on its own while the caller goes on."""
    if name == "invalid" or name.endswith(".invalid"):
        return None
    found: list[str] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(name, None, socket.AF_INET, socket.SOCK_STREAM)
            found.extend(str(info[4][0]) for info in infos)
        except (OSError, UnicodeError):
            pass
        finally:
            done.set()

    threading.Thread(target=lookup, name="gatehouse-lookupnsip", daemon=True).start()
    if not done.wait(timeout):
        return None
    for address in found:
        try:
            return str(ipaddress.IPv4Address(address))
        except ValueError:
            continue
    return None
