"""The built-in authoritative nameserver (`gatehouse serve --dns-port N`, docs/nameserver.md):
the hosted zones over UDP and TCP, in the server's event loop, read from the store on every
query so an API change is in the next answer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gatehouse.nameserver.respond import Responder
from gatehouse.nameserver.server import Nameserver
from gatehouse.nameserver.zonesource import ZoneSource

if TYPE_CHECKING:
    from gatehouse.core import Gatehouse

__all__ = ["Nameserver", "start"]


async def start(gatehouse: Gatehouse, host: str, port: int) -> Nameserver:
    """Listen on UDP and TCP at host:port (every address the host names) and answer there."""
    return await Nameserver.open(Responder(ZoneSource(gatehouse.engine)), host, port)
