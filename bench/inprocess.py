"""The Python cost of one request without HTTP and without threads: the WHM ports' ASGI
application (as `gatehouse serve` composes it, token cache on, access lines written to
/dev/null in the server's format) called in a loop on a hand-made scope, against the bare app
of bench/bare.py. `python -m bench.inprocess [CALLS]`; best of 3 runs per path."""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from contextlib import ExitStack
from typing import Any, TextIO, cast

from bench import stores
from bench.bare import application


def _scope(path: str, query: bytes, authorization: str | None) -> dict[str, Any]:
    headers = [(b"host", b"127.0.0.1:2086"), (b"user-agent", b"wrk")]
    if authorization:
        headers.append((b"authorization", authorization.encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 2086),
    }


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    with ExitStack() as stack:
        store = stores.create(stack, stores.SQLITE, "inprocess", None)
        token = store.create_token("inprocess")
        os.environ.update(store.env())
        from gatehouse.config import from_environment
        from gatehouse.core import Gatehouse
        from gatehouse.http.access_log import ACCESS_LOG, FORMAT
        from gatehouse.http.guard import LIMITS
        from gatehouse.program.apps import whm_ports

        config = from_environment()
        gatehouse = Gatehouse(config, cache_tokens=True)
        stack.callback(gatehouse.close)
        LIMITS.configure(
            body_timeout=config.body_timeout, per_address=config.max_requests_per_address
        )
        sink = stack.enter_context(open(os.devnull, "w"))
        handler = logging.StreamHandler(sink)
        handler.setFormatter(logging.Formatter(FORMAT))
        logging.getLogger().handlers[:] = [handler]
        logging.getLogger().setLevel(logging.INFO)
        ACCESS_LOG.use_stream(cast("logging.StreamHandler[TextIO]", handler))
        app = whm_ports(gatehouse)
        bare = application(200, [(b"content-type", b"application/json")], b"{}")
        cases: dict[str, tuple[Any, dict[str, Any]]] = {
            "bare": (bare, _scope("/json-api/version", b"api.version=1", None)),
            "healthz": (app, _scope("/healthz", b"", None)),
            "token": (
                app,
                _scope("/json-api/version", b"api.version=1", f"whm root:{token}"),
            ),
        }
        sent: list[Any] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            # Only the first response's messages are kept: keeping every one would grow the
            # heap by thousands of objects per run and trigger full collections a server's
            # steady state does not make.
            if len(sent) < 2:
                sent.append(message)

        async def run() -> None:
            for name, (target, scope) in cases.items():
                best = float("inf")
                for _ in range(4):  # the first is a warm-up
                    sent.clear()
                    started = time.perf_counter()
                    for _ in range(calls):
                        await target(scope, receive, send)
                    best = min(best, time.perf_counter() - started)
                    assert sent[0]["status"] == 200, sent[:2]
                print(f"{name:<8} {best / calls * 1e6:6.1f} µs per request in process")

        asyncio.run(run())
        print(f"load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
