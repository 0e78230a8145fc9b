"""A process tells which of its ports listen (program/listening.py): what `serve` waits for
before it reports itself ready, since granian binds its ports a few passes of the loop after
it starts."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from gatehouse.program import listening

pytestmark = pytest.mark.skipif(not listening.supported(), reason="Linux's /proc/self/fd")


@pytest.fixture
def sockets() -> Iterator[list[socket.socket]]:
    made: list[socket.socket] = []
    yield made
    for sock in made:
        sock.close()


def bound(sockets: list[socket.socket], kind: socket.SocketKind = socket.SOCK_STREAM) -> int:
    sock = socket.socket(socket.AF_INET, kind)
    sockets.append(sock)
    sock.bind(("127.0.0.1", 0))
    return int(sock.getsockname()[1])


def test_a_listening_socket_is_found(sockets: list[socket.socket]) -> None:
    port = bound(sockets)
    sockets[-1].listen()
    assert listening.listening_ports({port}) == {port}


def test_only_the_ports_asked_for_are_told(sockets: list[socket.socket]) -> None:
    port = bound(sockets)
    sockets[-1].listen()
    other = bound(sockets)
    sockets[-1].listen()
    assert listening.listening_ports({other}) == {other}
    assert listening.listening_ports({port, other}) == {port, other}


@pytest.mark.parametrize(
    "state",
    ["bound, not yet listening", "a UDP socket", "a connection out from the port"],
)
def test_a_port_without_a_listening_socket_is_not_found(
    sockets: list[socket.socket], state: str
) -> None:
    if state == "a UDP socket":
        port = bound(sockets, socket.SOCK_DGRAM)
    elif state == "a connection out from the port":
        server = socket.create_server(("127.0.0.1", 0))
        sockets.append(server)
        port = bound(sockets)
        sockets[-1].connect(server.getsockname())
    else:
        port = bound(sockets)
    assert listening.listening_ports({port}) == set()


def test_a_closed_socket_is_no_longer_found(sockets: list[socket.socket]) -> None:
    port = bound(sockets)
    sockets[-1].listen()
    sockets[-1].close()
    assert listening.listening_ports({port}) == set()
