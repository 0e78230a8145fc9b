"""The client's address behind a reverse proxy or load balancer (GATEHOUSE_TRUSTED_PROXIES).

Behind HAProxy or nginx every connection comes from the proxy, which would put every client
behind one address: IP allow-lists, cPHulk's counting and last-used addresses would all see
the proxy. A proxy appends the address it received the request from to `X-Forwarded-For`;
what stands to the left of its entry is whatever the client chose to write. So the header is
read only when the direct peer is a configured trusted proxy, and then from the right: entries
that are themselves trusted proxies are skipped (a chain of proxies), and the first other
address is the client. An entry that is not a bare IP address stops the walk and the direct
peer is used: garbage is never trusted, and never an error. If every entry is a trusted
proxy, the leftmost is the client (it sits on the proxies' own network).

granian (2.8.7) reads no PROXY protocol header, so `X-Forwarded-For` is the only source.
`gatehouse serve` configures `PROXIES` once at start; with no trusted proxy `asgi.peer`
never looks here.
"""

from __future__ import annotations

import ipaddress
from collections.abc import MutableMapping, Sequence
from functools import lru_cache
from typing import Any

from gatehouse import ipnets

FORWARDED_FOR = b"x-forwarded-for"
MEMO = "gatehouse.client"  # the scope key holding a request's client address once found


class TrustedProxies:
    """The proxies whose `X-Forwarded-For` is believed; `trusted` is None when there are none
    (the default), which is all the hot path checks."""

    __slots__ = ("trusted",)

    def __init__(self) -> None:
        self.trusted: ipnets.AllowList | None = None

    def configure(self, entries: Sequence[str]) -> None:
        self.trusted = ipnets.AllowList(entries) if entries else None

    def client(self, direct: str, scope: MutableMapping[str, Any]) -> str:
        """The client's address for a request whose direct peer is `direct` (display form)."""
        trusted = self.trusted
        if trusted is None or not trusted.allows(direct):
            return direct
        found: str | None = scope.get(MEMO)
        if found is None:
            # Every X-Forwarded-For header, in order: a proxy may add its own beside the
            # client's rather than append to it, and only the last entries are the proxies'.
            values = [v for k, v in scope.get("headers", ()) if k.lower() == FORWARDED_FOR]
            found = _walk(trusted, direct, b",".join(values)) if values else direct
            scope[MEMO] = found
        return found


PROXIES = TrustedProxies()


@lru_cache(maxsize=4096)
def _walk(trusted: ipnets.AllowList, direct: str, forwarded: bytes) -> str:
    """The first untrusted address from the right of `forwarded`; `direct` if an entry is
    malformed or the header says nothing. Remembered: a proxy's clients come back."""
    entries = forwarded.decode("latin-1").split(",")
    client = direct
    for entry in reversed(entries):
        address = _address(entry.strip(" \t"))
        if address is None:
            return direct
        client = address
        if not trusted.allows(address):
            return address
    return client


@lru_cache(maxsize=65536)
def _address(text: str) -> str | None:
    """A bare IPv4 or IPv6 address in its display form (IPv4-mapped IPv6 as IPv4), else None:
    no port, no brackets, no zone index, no `unknown` or obfuscated names (RFC 7239's)."""
    if not text or "%" in text:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address)
