"""The built-in authoritative nameserver (`gatehouse serve --dns-port N`, docs/nameserver.md):
the hosted zones over UDP and TCP, in the server's event loop, read from the store on every
query so an API change is in the next answer."""

from __future__ import annotations

import sqlalchemy as sa

from gatehouse.dns.nameserver.respond import Responder
from gatehouse.dns.nameserver.server import Nameserver, TcpLimits
from gatehouse.dns.nameserver.zonesource import ZoneSource

__all__ = ["Nameserver", "TcpLimits", "start"]


async def start(
    engine: sa.Engine, host: str, port: int, limits: TcpLimits | None = None
) -> Nameserver:
    """Listen on UDP and TCP at host:port (every address the host names) and answer there."""
    return await Nameserver.open(Responder(ZoneSource(engine)), host, port, limits=limits)
