"""Which of this process's TCP ports are listening yet.

granian's embedded server checks at start-up that it can bind a port, then lets its worker
bind the port for good (with SO_REUSEPORT) a few passes of the event loop later, from Rust.
Until then nothing of this process listens there: with several workers the kernel hands every
new connection to the others, and a lone process would refuse them. So a process reports
itself ready only once it holds a listening socket on every port (`program.server`), which
only the process's own descriptors can tell. Linux only (/proc/self/fd); elsewhere the caller
goes by granian's own start-up.
"""

from __future__ import annotations

import contextlib
import os
import socket

from gatehouse.program.connections import DESCRIPTORS, socket_duplicates


def supported() -> bool:
    return os.path.isdir(DESCRIPTORS) and hasattr(socket, "SO_ACCEPTCONN")


def listening_ports(ports: set[int]) -> set[int]:
    """Those of `ports` on which this process holds a listening TCP socket."""
    found: set[int] = set()
    for sock in socket_duplicates(os.listdir(DESCRIPTORS)):
        with contextlib.closing(sock), contextlib.suppress(OSError, IndexError, TypeError):
            if (
                sock.type == socket.SOCK_STREAM
                and sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
                and sock.getsockname()[1] in ports
            ):
                found.add(sock.getsockname()[1])
    return found
