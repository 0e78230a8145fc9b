"""The cap on open HTTP connections per client address (GATEHOUSE_MAX_CONNECTIONS_PER_ADDRESS).

granian accepts connections itself and tells the application nothing of one until a request's
headers are in; its only limit is a number of connections per port, taken by whoever comes
first. So one address opening connections and sending nothing (or headers a byte at a time,
or a TLS session that never asks anything) could hold every slot until the header timeout,
again and again. The connections are sockets of this very process, though: twice a second,
when the process holds more descriptors than one address's share (else no address can be over
it, and the sweep costs one directory listing), its sockets on the HTTP ports are counted per
remote address; an address over its share has all but its most recently active connections
(TCP_INFO: time since data last arrived) shut down. granian sees the end of the stream and
closes them itself, freeing their slots. A trusted proxy's connections
(GATEHOUSE_TRUSTED_PROXIES) are not capped: each carries many clients, whom the per-address
cap on requests in progress counts by the address the proxy forwards. Linux only
(/proc/self/fd, TCP_INFO); elsewhere the per-address cap on requests in `gatehouse.http.guard`
still holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
import struct
from collections.abc import Callable, Iterator

log = logging.getLogger("gatehouse.program.connections")

INTERVAL = 0.5  # seconds between sweeps: how long an address may exceed its share
DESCRIPTORS = "/proc/self/fd"
# struct tcp_info (linux/tcp.h): tcpi_state is its first byte, tcpi_last_data_recv
# (milliseconds) the u32 at byte 52.
TCP_INFO_SIZE = 104
TCP_ESTABLISHED = 1
LAST_DATA_RECV = struct.Struct("=I")
LAST_DATA_RECV_OFFSET = 52


def supported() -> bool:
    return hasattr(socket, "TCP_INFO") and os.path.isdir(DESCRIPTORS)


def _address(peer: str) -> str:
    """An IPv4-mapped IPv6 address as plain IPv4, as the request's client address shows it."""
    if peer.startswith("::ffff:"):
        mapped = ipaddress.IPv6Address(peer).ipv4_mapped
        if mapped is not None:
            return str(mapped)
    return peer


def _idle_ms(sock: socket.socket) -> int | None:
    """Milliseconds since data last arrived; None once the connection is closing (shut down
    by an earlier sweep, or by the client), which no longer counts."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_SIZE)
    if info[0] != TCP_ESTABLISHED:
        return None
    return int(LAST_DATA_RECV.unpack_from(info, LAST_DATA_RECV_OFFSET)[0])


def socket_duplicates(names: list[str]) -> Iterator[socket.socket]:
    """A duplicate of each socket among `names` (this process's descriptors, as listed in
    /proc/self/fd), for the caller to close: the originals stay granian's."""
    # Numbers the duplicates took: a name listed may be one of them by now (the listing's own
    # descriptor, or one closed meanwhile), and is not granian's.
    taken: set[int] = set()
    for name in names:
        try:
            if int(name) in taken or not os.readlink(f"{DESCRIPTORS}/{name}").startswith("socket:"):
                continue
            sock = socket.socket(fileno=os.dup(int(name)))
        except (OSError, ValueError):
            continue  # closed meanwhile, or not a socket Python knows
        taken.add(sock.fileno())
        yield sock


def _connections(ports: set[int], names: list[str]) -> dict[str, list[socket.socket]]:
    """A duplicate of each of this process's connections to `ports`, by remote address. The
    caller closes them (the originals stay granian's)."""
    by_address: dict[str, list[socket.socket]] = {}
    for sock in socket_duplicates(names):
        try:
            if sock.type != socket.SOCK_STREAM or sock.getsockname()[1] not in ports:
                raise OSError  # the nameserver's, the store's, a listener …
            peer = sock.getpeername()  # a listening socket has none: OSError
        except (OSError, IndexError, TypeError):
            sock.close()
            continue
        by_address.setdefault(_address(str(peer[0])), []).append(sock)
    return by_address


def sweep(
    ports: set[int], share: int, exempt: Callable[[str], bool] | None = None
) -> dict[str, int]:
    """Shut down every connection to `ports` beyond `share` per remote address, the most idle
    first, except an `exempt` address's. Returns how many were shut down, by address."""
    try:
        names = os.listdir(DESCRIPTORS)
    except OSError:
        return {}
    if len(names) <= share:
        return {}  # too few descriptors for any address to be over its share
    closed: dict[str, int] = {}
    by_address = _connections(ports, names)
    try:
        for address, socks in by_address.items():
            if len(socks) <= share or (exempt is not None and exempt(address)):
                continue
            ranked = []
            for sock in socks:
                with contextlib.suppress(OSError):
                    idle = _idle_ms(sock)
                    if idle is not None:
                        ranked.append((idle, sock))
            ranked.sort(key=lambda pair: pair[0])
            for _idle, sock in ranked[share:]:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                    closed[address] = closed.get(address, 0) + 1
    finally:
        for socks in by_address.values():
            for sock in socks:
                sock.close()
    return closed


async def cap_per_address(
    ports: set[int], share: int, exempt: Callable[[str], bool] | None = None
) -> None:
    """Sweep for as long as the server runs (cancelled at shutdown). `exempt`: addresses whose
    connections carry many clients (trusted proxies), never capped."""
    if not supported():
        log.warning("open connections per address are not capped on this system")
        return
    while True:
        await asyncio.sleep(INTERVAL)
        try:
            closed = await asyncio.to_thread(sweep, ports, share, exempt)
        except Exception:
            log.exception("capping connections per address failed")
            continue
        for address, count in closed.items():
            # For the operator (and a fail2ban rule): who keeps opening more than its share.
            log.warning(
                "closed %d connections from %s: over its share of %d", count, address, share
            )
