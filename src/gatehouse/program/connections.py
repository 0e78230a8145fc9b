"""The cap on open HTTP connections per client address (GATEHOUSE_MAX_CONNECTIONS_PER_ADDRESS).

granian accepts connections itself and tells the application nothing of one until a request's
headers are in; its only limit is a number of connections per port, taken by whoever comes
first. So one address opening connections and sending nothing (or a TLS handshake that never
ends, or headers a byte at a time) could hold every slot until the header timeout, again and
again. The connections are sockets of this very process, though: twice a second the kernel's
table of established connections (/proc/net/tcp, tcp6) is counted per remote address for the
HTTP ports, and when an address holds more than its share, its connections that are ours
(/proc/self/fd) are ranked by the time since they last received data (TCP_INFO) and all but
the share's most recently active ones are shut down. granian sees the end of the stream and
closes them itself, freeing their slots. Linux only; elsewhere the cap is not enforced on
connections (the per-address cap on requests in `gatehouse.http.guard` still is).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
import struct
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger("gatehouse.program.connections")

INTERVAL = 0.5  # seconds between sweeps: how long an address may exceed its share
TABLES = (Path("/proc/self/net/tcp"), Path("/proc/self/net/tcp6"))
ESTABLISHED = "01"
# struct tcp_info (linux/tcp.h): tcpi_last_data_recv, milliseconds, is the u32 at byte 52.
TCP_INFO_SIZE = 104
LAST_DATA_RECV = struct.Struct("=I")
LAST_DATA_RECV_OFFSET = 52


def supported() -> bool:
    return hasattr(socket, "TCP_INFO") and all(table.exists() for table in TABLES)


def _address(hex_address: str) -> str:
    """A /proc/net/tcp address (each 32-bit word in host order, little-endian here) as text;
    an IPv4-mapped IPv6 address as plain IPv4, as the request's client address shows it."""
    raw = b"".join(
        bytes.fromhex(hex_address[i : i + 8])[::-1] for i in range(0, len(hex_address), 8)
    )
    if len(raw) == 4:
        return socket.inet_ntop(socket.AF_INET, raw)
    address = ipaddress.IPv6Address(raw)
    mapped = address.ipv4_mapped
    return str(mapped) if mapped is not None else str(address)


def established(ports: set[int], lines: Iterable[str]) -> dict[str, list[int]]:
    """The socket inodes of established connections to `ports`, by remote address."""
    by_address: dict[str, list[int]] = {}
    for line in lines:
        fields = line.split()
        if len(fields) < 10 or fields[3] != ESTABLISHED:
            continue
        port = fields[1].rpartition(":")[2]
        if int(port, 16) not in ports or fields[9] == "0":
            continue  # not ours, or still in the listen queue (no socket yet)
        remote = fields[2].partition(":")[0]
        by_address.setdefault(_address(remote), []).append(int(fields[9]))
    return by_address


def _read_tables() -> list[str]:
    lines: list[str] = []
    for table in TABLES:
        with contextlib.suppress(OSError):
            lines.extend(table.read_text().splitlines()[1:])
    return lines


def _descriptors(inodes: set[int]) -> dict[int, int]:
    """inode → one descriptor of this process for the sockets among `inodes`."""
    found: dict[int, int] = {}
    with contextlib.suppress(OSError):
        for name in os.listdir("/proc/self/fd"):
            try:
                target = os.readlink(f"/proc/self/fd/{name}")
            except OSError:
                continue  # closed meanwhile
            if target.startswith("socket:["):
                inode = int(target[8:-1])
                if inode in inodes:
                    found[inode] = int(name)
    return found


def _idle_ms(sock: socket.socket) -> int:
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, TCP_INFO_SIZE)
    return int(LAST_DATA_RECV.unpack_from(info, LAST_DATA_RECV_OFFSET)[0])


def sweep(ports: set[int], share: int) -> dict[str, int]:
    """Shut down every connection to `ports` beyond `share` per remote address, the most idle
    first. Returns how many were shut down, by address."""
    over = {a: i for a, i in established(ports, _read_tables()).items() if len(i) > share}
    if not over:
        return {}
    descriptors = _descriptors({inode for inodes in over.values() for inode in inodes})
    closed: dict[str, int] = {}
    for address, inodes in over.items():
        ranked: list[tuple[int, socket.socket]] = []
        try:
            for inode in inodes:
                fd = descriptors.get(inode)
                if fd is None:
                    continue  # another process's, or closed meanwhile
                try:
                    # A duplicate: the descriptor stays granian's; ours is closed below.
                    sock = socket.socket(fileno=os.dup(fd))
                except OSError:
                    continue
                if os.fstat(sock.fileno()).st_ino != inode:
                    sock.close()  # the number was reused meanwhile for another socket
                    continue
                try:
                    ranked.append((_idle_ms(sock), sock))
                except OSError:
                    sock.close()
            ranked.sort(key=lambda pair: pair[0])
            for _idle, sock in ranked[share:]:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                    closed[address] = closed.get(address, 0) + 1
        finally:
            for _idle, sock in ranked:
                sock.close()
    return closed


async def cap_per_address(ports: set[int], share: int) -> None:
    """Sweep for as long as the server runs (cancelled at shutdown)."""
    if not supported():
        log.warning("open connections per address are not capped on this system")
        return
    while True:
        await asyncio.sleep(INTERVAL)
        try:
            closed = await asyncio.to_thread(sweep, ports, share)
        except Exception:
            log.exception("capping connections per address failed")
            continue
        for address, count in closed.items():
            # For the operator (and a fail2ban rule): who keeps opening more than its share.
            log.warning(
                "closed %d connections from %s: over its share of %d", count, address, share
            )
