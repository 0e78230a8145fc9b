"""Addresses, CIDR blocks and ranges as cPHulk's lists take them (`192.0.2.1`,
`192.0.2.0/30`, `192.0.2.7-192.0.2.8`, and the same in IPv6).

A range is kept as its first and last address in 32 hex digits, IPv4 mapped into IPv6
(`::ffff:a.b.c.d`), so that comparing the strings compares the addresses on every store."""

from __future__ import annotations

import bisect
import functools
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from gatehouse.errors import InvalidParameter

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Range:
    first: str  # 32 hex digits
    last: str
    shown: str  # as cPanel answers it: the address, or FIRST-LAST

    def contains(self, key: str) -> bool:
        return self.first <= key <= self.last


@dataclass(frozen=True, slots=True)
class RangeSet:
    """Ranges merged into disjoint intervals, sorted: whether one holds a key is a binary
    search, so a list of thousands of entries (a country's blocks) costs every request
    microseconds, not a walk through the list."""

    starts: tuple[str, ...]
    ends: tuple[str, ...]

    @classmethod
    def of(cls, ranges: Iterable[Range]) -> RangeSet:
        merged: list[tuple[str, str]] = []
        for item in sorted(ranges, key=lambda r: (r.first, r.last)):
            if merged and item.first <= merged[-1][1]:  # overlaps the previous interval
                merged[-1] = (merged[-1][0], max(merged[-1][1], item.last))
            else:
                merged.append((item.first, item.last))
        return cls(tuple(f for f, _l in merged), tuple(last for _f, last in merged))

    def contains(self, key: str) -> bool:
        at = bisect.bisect_right(self.starts, key) - 1
        return at >= 0 and key <= self.ends[at]

    def __bool__(self) -> bool:
        return bool(self.starts)


IPV4_MAPPED = 0xFFFF_0000_0000  # ::ffff:0.0.0.0, where IPv4 sits in IPv6


def key(address: Address) -> str:
    """The 32-hex-digit form of an address."""
    value = int(address)
    if isinstance(address, ipaddress.IPv4Address):
        value |= IPV4_MAPPED
    return f"{value:032x}"


def client_address(text: str | None) -> Address | None:
    """A client address as the server saw it (an IPv4-mapped IPv6 address as IPv4), or None
    when it is not one."""
    if not text:
        return None
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


# Remembered: every request's gate asks for its client's key, and a flood comes from few
# addresses. Bounded, as a client may come from many (IPv6).
@functools.lru_cache(maxsize=4096)
def address_key(text: str | None) -> str | None:
    """The key of a client address, or None when it is not one."""
    address = client_address(text)
    return None if address is None else key(address)


# cPanel's loopback (Cpanel::IP::Loopback): 127.0.0.0/8, ::1, and the unspecified addresses
# some services report when they have none; IPv4-mapped forms are keyed as IPv4 already.
LOOPBACK_TEXTS = ("127.0.0.0/8", "::1", "0.0.0.0", "::")  # noqa: S104 (addresses, not a bind)


def invalid(text: str) -> InvalidParameter:
    return InvalidParameter(f"Invalid IP address or range: “{text}”")


def parse(text: str) -> Range:
    """An address, a CIDR block or FIRST-LAST, or InvalidParameter."""
    given = text.strip()
    try:
        if "-" in given:
            low_text, _sep, high_text = given.partition("-")
            low = ipaddress.ip_address(low_text.strip())
            high = ipaddress.ip_address(high_text.strip())
            if low.version != high.version or high < low:  # type: ignore[operator]
                raise invalid(text)
        elif "/" in given:
            network = ipaddress.ip_network(given, strict=False)
            low, high = network.network_address, network.broadcast_address
        else:
            low = high = ipaddress.ip_address(given)
    except ValueError:
        raise invalid(text) from None
    shown = str(low) if low == high else f"{low}-{high}"
    return Range(key(low), key(high), shown)
