"""The listeners: UDP datagrams and TCP streams with the two-byte length prefix (RFC 1035
§4.2.2, RFC 7766), both in the running event loop, both handing bytes to one Responder.

TCP connections are bounded so that no client can take the service from another
(docs/security.md): each waits for a query at most the idle timeout, one address may hold a
few, and when every slot is taken a newcomer gets the slot of an idle connection from the
address holding the most (RFC 7766 §6.2.3 lets a server close idle connections under load).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
import time
from dataclasses import dataclass
from typing import Any, cast

from gatehouse.dns.nameserver.respond import TCP_MAX, Responder

log = logging.getLogger("gatehouse.dns.nameserver")

# RFC 7766 §6.2.3: keep idle connections short; a client with more to ask sends it at once.
IDLE_TIMEOUT = 10.0
MAX_CONNECTIONS = 256
MAX_PER_ADDRESS = 16
BACKLOG = 1024
MAX_QUERIES_PER_CONNECTION = 10_000  # then the client reconnects; no connection lives forever
UDP_BATCH = 64  # datagrams answered together at most (on a store in another process)
UDP_RECEIVE = 65535  # the largest datagram read


@dataclass(frozen=True)
class TcpLimits:
    """GATEHOUSE_DNS_TCP_IDLE_TIMEOUT, …_MAX_CONNECTIONS, …_MAX_PER_ADDRESS and the listen
    queue (GATEHOUSE_LISTEN_BACKLOG)."""

    idle_timeout: float = IDLE_TIMEOUT
    max_connections: int = MAX_CONNECTIONS
    max_per_address: int = MAX_PER_ADDRESS
    backlog: int = BACKLOG


class _Udp(asyncio.DatagramProtocol):
    """Each datagram answered as it comes. When the responder batches (a store in another
    process), the datagrams already waiting on the socket are read at once with the one the
    loop handed over, and answered together: one look at the store for all of them."""

    def __init__(self, responder: Responder, sock: socket.socket) -> None:
        self._responder = responder
        self._batch_from = sock if responder.batches else None
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The loop's transport class need not subclass DatagramTransport (uvloop's does not).
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        transport = self._transport
        if transport is None:
            return
        if self._batch_from is None:
            reply = self._responder.respond(data, tcp=False)
            if reply is not None:
                transport.sendto(reply, addr)
            return
        waiting = [(data, addr), *self._waiting(self._batch_from)]
        replies = self._responder.respond_all([wire for wire, _ in waiting], tcp=False)
        for reply, (_, sender) in zip(replies, waiting, strict=True):
            if reply is not None:
                transport.sendto(reply, sender)

    @staticmethod
    def _waiting(sock: socket.socket) -> list[tuple[bytes, tuple[str | int, ...]]]:
        """The datagrams on the socket now, up to a batch (the socket is non-blocking: this
        never waits). The loop's transport reads the same socket, one datagram per turn."""
        found: list[tuple[bytes, tuple[str | int, ...]]] = []
        while len(found) < UDP_BATCH - 1:
            try:
                found.append(sock.recvfrom(UDP_RECEIVE))
            except OSError:  # nothing more (EAGAIN), or an ICMP error for an earlier reply
                break
        return found

    def error_received(self, exc: Exception) -> None:
        # An ICMP error for an earlier reply (the client went away): nothing to do.
        log.debug("UDP error: %s", exc)


class _Connection:
    """One open TCP connection: whose it is, and since when it waits for a query (None while
    a query is being read or answered)."""

    __slots__ = ("address", "idle_since", "writer")

    def __init__(self, address: str, writer: asyncio.StreamWriter) -> None:
        self.address = address
        self.writer = writer
        self.idle_since: float | None = time.monotonic()


class _Tcp:
    def __init__(self, responder: Responder, limits: TcpLimits) -> None:
        self._responder = responder
        self._limits = limits
        self.open: dict[asyncio.Task[Any], _Connection] = {}
        self._per_address: dict[str, int] = {}

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        peer = writer.get_extra_info("peername")
        address = str(peer[0]) if peer else "-"
        if task is None or not self._admit(address):
            writer.transport.abort()
            return
        connection = _Connection(address, writer)
        self.open[task] = connection
        self._per_address[address] = self._per_address.get(address, 0) + 1
        try:
            await self._serve(reader, connection)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass  # the client left, stayed silent too long, or gave its slot up: just close
        except Exception:
            log.exception("DNS over TCP: connection failed")
        finally:
            self._forget(task)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    def _admit(self, address: str) -> bool:
        """Whether a new connection from `address` may stay: within its address's share, and
        within the total — if need be by closing an idle connection of a greedier address."""
        held = self._per_address.get(address, 0)
        if held >= self._limits.max_per_address:
            return False
        if len(self.open) < self._limits.max_connections:
            return True
        victim: asyncio.Task[Any] | None = None
        best: tuple[int, float] | None = None
        for task, connection in self.open.items():
            if connection.idle_since is None:
                continue
            # The address holding the most first; among its connections the longest idle.
            rank = (self._per_address[connection.address], -connection.idle_since)
            if best is None or rank > best:
                victim, best = task, rank
        if victim is None or best is None or best[0] <= held:
            # Nothing idle, or every address holds fewer than the newcomer's would: no slot is
            # taken from an address for one that holds more.
            return False
        self.open[victim].writer.transport.abort()
        self._forget(victim)
        return True

    def _forget(self, task: asyncio.Task[Any]) -> None:
        connection = self.open.pop(task, None)
        if connection is None:
            return
        left = self._per_address[connection.address] - 1
        if left:
            self._per_address[connection.address] = left
        else:
            del self._per_address[connection.address]

    async def _serve(self, reader: asyncio.StreamReader, connection: _Connection) -> None:
        writer = connection.writer
        timeout = self._limits.idle_timeout
        for _ in range(MAX_QUERIES_PER_CONNECTION):
            connection.idle_since = time.monotonic()
            prefix = await asyncio.wait_for(reader.readexactly(2), timeout)
            connection.idle_since = None
            length = int.from_bytes(prefix, "big")
            if length == 0:
                return
            wire = await asyncio.wait_for(reader.readexactly(length), timeout)
            reply = self._responder.respond(wire, tcp=True)
            if reply is None:
                # Unreadable: the stream's framing can no longer be trusted.
                return
            assert len(reply) <= TCP_MAX
            writer.write(len(reply).to_bytes(2, "big") + reply)
            await asyncio.wait_for(writer.drain(), timeout)


def _sockets(host: str, port: int, kind: socket.SocketKind) -> list[socket.socket]:
    """Bound sockets for every address of `host`. An IPv6 socket stays dual-stack (the
    system default) unless `host` also gives an IPv4 address for the same port."""
    infos = socket.getaddrinfo(host, port, type=kind, flags=socket.AI_PASSIVE)
    families = {info[0] for info in infos}
    made: list[socket.socket] = []
    seen: set[tuple[object, ...]] = set()
    try:
        for family, socktype, proto, _canon, address in infos:
            if (family, address) in seen:
                continue
            seen.add((family, address))
            sock = socket.socket(family, socktype, proto)
            made.append(sock)
            if kind == socket.SOCK_STREAM:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6 and socket.AF_INET in families:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.setblocking(False)
    except BaseException:
        for sock in made:
            sock.close()
        raise
    return made


class Nameserver:
    """The running listeners; `close()` stops them and ends every open connection."""

    def __init__(self) -> None:
        self._udp: list[asyncio.DatagramTransport] = []
        self._tcp: list[asyncio.Server] = []
        self._handler: _Tcp | None = None
        self._responder: Responder | None = None
        self.addresses: list[tuple[str, str, int]] = []  # (udp|tcp, host, port)

    @classmethod
    async def open(
        cls, responder: Responder, host: str, port: int, *, limits: TcpLimits | None = None
    ) -> Nameserver:
        server = cls()
        server._responder = responder
        loop = asyncio.get_running_loop()
        limits = limits or TcpLimits()
        server._handler = _Tcp(responder, limits)
        try:
            for sock in _sockets(host, port, socket.SOCK_DGRAM):
                transport, _ = await loop.create_datagram_endpoint(
                    functools.partial(_Udp, responder, sock), sock=sock
                )
                server._udp.append(transport)
                server._remember("udp", sock)
            for sock in _sockets(host, port, socket.SOCK_STREAM):
                sock.listen(limits.backlog)
                tcp = await asyncio.start_server(server._handler, sock=sock, limit=TCP_MAX + 2)
                server._tcp.append(tcp)
                server._remember("tcp", sock)
        except BaseException:
            await server.close()
            raise
        return server

    def _remember(self, kind: str, sock: socket.socket) -> None:
        name = sock.getsockname()
        self.addresses.append((kind, str(name[0]), int(name[1])))

    async def close(self) -> None:
        for transport in self._udp:
            transport.close()
        for tcp in self._tcp:
            tcp.close()
        if self._handler is not None and self._handler.open:
            # Closing the connections ends their handlers normally; cancelling them instead
            # would make asyncio's stream machinery log each as an error.
            for connection in self._handler.open.values():
                connection.writer.transport.abort()
            tasks = list(self._handler.open)
            _, pending = await asyncio.wait(tasks, timeout=5.0)
            for task in pending:
                task.cancel()
        for tcp in self._tcp:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(tcp.wait_closed(), 5.0)
        self._udp.clear()
        self._tcp.clear()
        if self._responder is not None:
            self._responder.close()
            self._responder = None
