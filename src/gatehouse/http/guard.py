"""How long, and how often at once, one client may hold the server inside a request.

granian bounds the wait for a request's headers (GATEHOUSE_HEADER_TIMEOUT) but not for its
body, and it has no notion of a client address. So every request passes here
(`asgi.serve_logged`): its body must arrive whole within GATEHOUSE_BODY_TIMEOUT, and one
address may have at most GATEHOUSE_MAX_REQUESTS_PER_ADDRESS requests in progress at once, so
that it cannot take every worker thread (the slow functions' and password checks') from the
others. Its open connections are capped apart (`gatehouse.program.connections`). A body that stops
short — a client gone, or a framing granian could not read, such as a chunk size of `zz` —
is a refusal too, never an empty body handed to a function. See docs/security.md.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]

BODY_TIMEOUT = "The request body did not arrive in time."
BODY_BROKEN = "The request body is malformed or incomplete."
TOO_MANY = "Too many requests in progress from this address; try again shortly."
RETRY_AFTER = b"1"  # seconds: a request in progress is usually done well within one


class RequestLimits:
    """The limits in force (`gatehouse serve` sets them from the configuration) and the count
    of requests in progress per client address, shared by every port of the process."""

    def __init__(self) -> None:
        self.body_timeout = 30.0
        self.per_address = 16
        self._in_progress: dict[str, int] = {}

    def configure(self, *, body_timeout: float, per_address: int) -> None:
        self.body_timeout = body_timeout
        self.per_address = per_address

    def enter(self, address: str) -> bool:
        """Count a request from `address` in, unless it already has its share in progress.
        One event loop runs every request, so the count needs no lock."""
        held = self._in_progress.get(address, 0)
        if held >= self.per_address:
            return False
        self._in_progress[address] = held + 1
        return True

    def leave(self, address: str) -> None:
        held = self._in_progress.get(address, 0) - 1
        if held > 0:
            self._in_progress[address] = held
        else:
            self._in_progress.pop(address, None)

    def in_progress(self, address: str) -> int:
        return self._in_progress.get(address, 0)


LIMITS = RequestLimits()


class GuardedBody:
    """`receive` for one request, with the body's deadline: until the last body message, each
    wait ends at the deadline. A deadline passed or a body cut short is noted in `refusal`
    (status, reason) and reported to the application as the client's disconnection, which
    every body reader already treats as the end of the request."""

    def __init__(self, receive: Receive, timeout: float, framed: bool) -> None:
        self._receive = receive
        # The loop's clock is time.monotonic(); asked directly, for asyncio.get_running_loop()
        # costs a getpid() system call per request on Python 3.11.
        self._deadline = time.monotonic() + timeout
        # Without Content-Length or Transfer-Encoding there is no body to wait for.
        self._complete = not framed
        self.refusal: tuple[int, str] | None = None

    async def __call__(self) -> Message:
        if self._complete:
            # The body is in: what remains is waiting for the client to leave, unbounded.
            return await self._receive()
        if self.refusal is not None:
            return {"type": "http.disconnect"}
        try:
            async with asyncio.timeout_at(self._deadline):
                message = await self._receive()
        except TimeoutError:
            self.refusal = (408, BODY_TIMEOUT)
            return {"type": "http.disconnect"}
        if message["type"] == "http.request":
            if not message.get("more_body", False):
                self._complete = True
        elif message["type"] == "http.disconnect":
            # granian reports a body it cannot parse (a bad chunk size, a chunk shorter than
            # declared) exactly as a client that left: either way the body is not whole.
            self.refusal = (400, BODY_BROKEN)
        return message
