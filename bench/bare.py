"""The floor: a bare ASGI application answering every request with the same bytes gatehouse
sends for `/json-api/version` (status, headers, body), served by the same granian as
`gatehouse serve` — its embedded server, one process, one asyncio loop, one plain-HTTP
listener, built by gatehouse's own `_servers` with the default settings (HTTP/1.1, header
timeout, backlog, backpressure, no access log). Nothing else: no authentication, no store,
no access log line, no background tasks. `python -m bench.bare PORT RESPONSE.json [--rsgi]`
(`--rsgi`: the same answer through granian's RSGI interface, for comparison)."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from granian.constants import Interfaces

from gatehouse.config import from_environment
from gatehouse.program.server import _servers


def application(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
    start = {"type": "http.response.start", "status": status, "headers": headers}
    message = {"type": "http.response.body", "body": body}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send(start)
        await send(message)

    return app


def rsgi_application(status: int, headers: list[tuple[str, str]], body: bytes) -> Any:
    """The same answer through granian's RSGI interface (no ASGI scope or message dicts)."""

    async def app(scope: Any, protocol: Any) -> None:
        protocol.response_bytes(status, headers, body)

    return app


async def _serve(port: int, response: dict[str, Any], rsgi: bool) -> None:
    status, body = int(response["status"]), response["body"].encode()
    config = from_environment(bind="127.0.0.1")
    if rsgi:
        app = rsgi_application(status, [(k, v) for k, v in response["headers"]], body)
    else:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response["headers"]]
        app = application(status, headers, body)
    [server] = _servers(app, config, "bare", port, 0)
    if rsgi:
        server.interface = Interfaces.RSGI
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.stop()  # type: ignore[no-untyped-call]
    await asyncio.wait([task], timeout=5)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    port, path = int(sys.argv[1]), Path(sys.argv[2])
    rsgi = sys.argv[3:] == ["--rsgi"]
    asyncio.run(_serve(port, json.loads(path.read_text()), rsgi))


if __name__ == "__main__":
    main()
