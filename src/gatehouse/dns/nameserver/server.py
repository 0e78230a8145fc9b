"""The listeners: UDP datagrams and TCP streams with the two-byte length prefix (RFC 1035
§4.2.2, RFC 7766), both in the running event loop, both handing bytes to one Responder."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import socket
from typing import Any, cast

from gatehouse.dns.nameserver.respond import TCP_MAX, Responder

log = logging.getLogger("gatehouse.dns.nameserver")

# RFC 7766 §6.2.3: keep idle connections short; a client with more to ask sends it at once.
IDLE_TIMEOUT = 10.0
MAX_CONNECTIONS = 256  # beyond this a new connection is closed at once
MAX_QUERIES_PER_CONNECTION = 10_000  # then the client reconnects; no connection lives forever


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, responder: Responder) -> None:
        self._responder = responder
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The loop's transport class need not subclass DatagramTransport (uvloop's does not).
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        reply = self._responder.respond(data, tcp=False)
        if reply is not None and self._transport is not None:
            self._transport.sendto(reply, addr)

    def error_received(self, exc: Exception) -> None:
        # An ICMP error for an earlier reply (the client went away): nothing to do.
        log.debug("UDP error: %s", exc)


class _Tcp:
    def __init__(self, responder: Responder, idle_timeout: float) -> None:
        self._responder = responder
        self._idle_timeout = idle_timeout
        self.open: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}

    async def __call__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is None or len(self.open) >= MAX_CONNECTIONS:
            writer.close()
            return
        self.open[task] = writer
        try:
            await self._serve(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError, TimeoutError):
            pass  # the client left, or stayed silent too long: just close
        except Exception:
            log.exception("DNS over TCP: connection failed")
        finally:
            self.open.pop(task, None)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in range(MAX_QUERIES_PER_CONNECTION):
            prefix = await asyncio.wait_for(reader.readexactly(2), self._idle_timeout)
            length = int.from_bytes(prefix, "big")
            if length == 0:
                return
            wire = await asyncio.wait_for(reader.readexactly(length), self._idle_timeout)
            reply = self._responder.respond(wire, tcp=True)
            if reply is None:
                # Unreadable: the stream's framing can no longer be trusted.
                return
            assert len(reply) <= TCP_MAX
            writer.write(len(reply).to_bytes(2, "big") + reply)
            await asyncio.wait_for(writer.drain(), self._idle_timeout)


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
        cls, responder: Responder, host: str, port: int, *, idle_timeout: float = IDLE_TIMEOUT
    ) -> Nameserver:
        server = cls()
        server._responder = responder
        loop = asyncio.get_running_loop()
        server._handler = _Tcp(responder, idle_timeout)
        try:
            for sock in _sockets(host, port, socket.SOCK_DGRAM):
                transport, _ = await loop.create_datagram_endpoint(
                    functools.partial(_Udp, responder), sock=sock
                )
                server._udp.append(transport)
                server._remember("udp", sock)
            for sock in _sockets(host, port, socket.SOCK_STREAM):
                sock.listen(128)
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
            for writer in self._handler.open.values():
                writer.transport.abort()
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
