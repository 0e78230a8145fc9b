"""`gatehouse serve`: one process, one event loop, plain HTTP and HTTPS listeners sharing one
application (and so one authenticator) through granian's embedded server."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import Any

from granian.constants import Interfaces
from granian.http import HTTP1Settings
from granian.server.embed import Server

from gatehouse import tls
from gatehouse.config import Config
from gatehouse.core import Gatehouse
from gatehouse.web.app import WhmApp

log = logging.getLogger("gatehouse.server")


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # granian's own access log is off; ours never prints query strings or headers.
    for noisy in ("_granian", "granian.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _servers(app: WhmApp, config: Config) -> list[Server]:
    settings = HTTP1Settings(max_buffer_size=config.max_query + 256 * 1024)
    common: dict[str, Any] = {
        "interface": Interfaces.ASGINL,
        "address": config.bind,
        "http1_settings": settings,
        "log_enabled": False,
        "websockets": False,
    }
    servers = []
    if config.http_port:
        servers.append(Server(app, port=config.http_port, **common))
    if config.https_port:
        made = tls.ensure_self_signed(config.cert_path, config.key_path)
        if made:
            log.info("made a self-signed certificate at %s", config.cert_path)
        servers.append(
            Server(
                app,
                port=config.https_port,
                ssl_cert=config.cert_path,
                ssl_key=config.key_path,
                **common,
            )
        )
    return servers


async def _serve(config: Config) -> None:
    gatehouse = Gatehouse(config, cache_tokens=True)
    app = WhmApp(gatehouse)
    servers = _servers(app, config)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(s.serve()) for s in servers]
    if config.http_port:
        log.info("WHM over HTTP on http://%s:%s/", config.bind, config.http_port)
    if config.https_port:
        log.info("WHM over HTTPS on https://%s:%s/", config.bind, config.https_port)
    log.info("ready")
    waiter = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
    for task in done:
        if task is not waiter and task.exception():
            raise task.exception()  # type: ignore[misc]
    log.info("shutting down")
    for s in servers:
        s.stop()  # type: ignore[no-untyped-call]
    await asyncio.wait(tasks, timeout=5)
    gatehouse.close()


def serve(config: Config) -> None:
    configure_logging()
    asyncio.run(_serve(config))
