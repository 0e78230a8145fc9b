"""IP allow-lists for tokens: validation, cPanel's normal form, and matching a peer address."""

from __future__ import annotations

import ipaddress
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_ENTRIES = 100


class InvalidIpEntry(ValueError):
    def __init__(self, entry: str) -> None:
        super().__init__(entry)
        self.entry = entry


def parse_entry(entry: str) -> Network:
    """One allow-list entry: an address or a CIDR range whose host bits are zero."""
    text = entry.strip()
    # A zone index (fe80::1%eth0) names an interface of one host, not an address range.
    if not text or text != entry or "%" in text or any(c.isspace() for c in text):
        raise InvalidIpEntry(entry)
    try:
        return ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise InvalidIpEntry(entry) from exc


def format_network(net: Network) -> str:
    """cPanel's stored form: single hosts without /32 or /128, IPv6 fully expanded."""
    address = net.network_address.exploded if net.version == 6 else str(net.network_address)
    if net.prefixlen == net.max_prefixlen:
        return address
    return f"{address}/{net.prefixlen}"


def normalise(entries: Iterable[str]) -> list[str]:
    """Validate, de-duplicate and sort (IPv4 before IPv6, then numerically)."""
    nets = {parse_entry(e) for e in entries}
    ordered = sorted(nets, key=lambda n: (n.version, int(n.network_address), n.prefixlen))
    return [format_network(n) for n in ordered]


def peer_address(peer: str | None) -> Address | None:
    """The peer as an address; IPv4-mapped IPv6 peers become their IPv4 address."""
    if not peer:
        return None
    try:
        addr = ipaddress.ip_address(peer.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _matchable(net: Network) -> Network:
    """An IPv4-mapped IPv6 entry (`::ffff:192.0.2.1`, `::ffff:0:0/96`) as the IPv4 range it
    names: peers are compared as IPv4 (see `peer_address`), so it could never match else."""
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96:
        mapped = net.network_address.ipv4_mapped
        if mapped is not None:
            return ipaddress.IPv4Network((mapped, net.prefixlen - 96))
    return net


class AllowList:
    """A compiled allow-list: per IP version, sorted disjoint [first, last] integer
    intervals, so a peer is checked with one binary search whatever the list's length —
    once per peer address: clients come back from the same few, so verdicts are remembered
    (the list never changes: a changed list is a new AllowList)."""

    __slots__ = ("_firsts", "_lasts", "_verdicts")

    MAX_REMEMBERED = 256

    def __init__(self, entries: Sequence[str]) -> None:
        spans: dict[int, list[tuple[int, int]]] = {4: [], 6: []}
        for entry in entries:
            net = _matchable(ipaddress.ip_network(entry, strict=False))
            spans[net.version].append((int(net.network_address), int(net.broadcast_address)))
        self._firsts: dict[int, list[int]] = {}
        self._lasts: dict[int, list[int]] = {}
        for version, intervals in spans.items():
            merged: list[list[int]] = []
            for first, last in sorted(intervals):
                if merged and first <= merged[-1][1] + 1:
                    merged[-1][1] = max(merged[-1][1], last)
                else:
                    merged.append([first, last])
            self._firsts[version] = [m[0] for m in merged]
            self._lasts[version] = [m[1] for m in merged]
        self._verdicts: dict[str | None, bool] = {}

    def allows(self, peer: str | None) -> bool:
        verdict = self._verdicts.get(peer)
        if verdict is None:
            verdict = self._search(peer)
            if len(self._verdicts) >= self.MAX_REMEMBERED:
                self._verdicts.clear()
            self._verdicts[peer] = verdict
        return verdict

    def _search(self, peer: str | None) -> bool:
        addr = peer_address_cached(peer)
        if addr is None:
            return False
        value = int(addr)
        firsts = self._firsts[addr.version]
        i = bisect_right(firsts, value) - 1
        return i >= 0 and value <= self._lasts[addr.version][i]


@lru_cache(maxsize=65536)
def peer_address_cached(peer: str | None) -> Address | None:
    """`peer_address`, remembered: clients come back from the same few addresses."""
    return peer_address(peer)


@lru_cache(maxsize=4096)
def _compiled(entries: tuple[str, ...]) -> AllowList:
    return AllowList(entries)


def compile_list(allow_list: Sequence[str] | None) -> AllowList | None:
    return AllowList(allow_list) if allow_list else None


def allows(allow_list: Sequence[str] | None, peer: str | None) -> bool:
    """True when there is no allow-list, or the peer lies inside one of its entries.

    An unknown or empty peer address is refused whenever a list exists, as cPanel does.
    """
    if not allow_list:
        return True
    return _compiled(tuple(allow_list)).allows(peer)
