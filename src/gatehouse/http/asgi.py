"""The HTTP plumbing every face shares: ASGI types, one access-logged entry per face
(`serve_logged`), header and cookie reading, the client address, body reading with a size
limit, and plain responses. No face logic lives here."""

from __future__ import annotations

import contextlib
import html
import logging
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from functools import lru_cache
from http.cookies import SimpleCookie
from typing import Any

from gatehouse import ipnets
from gatehouse.http.access_log import ACCESS_LOG
from gatehouse.http.forwarded import PROXIES
from gatehouse.http.guard import LIMITS, RETRY_AFTER, TOO_MANY, GuardedBody

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

CPSESS_RE = re.compile(r"^/cpsess([0-9]{10})(/.*)?\Z")
JSON = (b"content-type", b"application/json; charset=utf-8")
HTML = (b"content-type", b"text/html; charset=utf-8")
TEXT = (b"content-type", b"text/plain; charset=utf-8")
NO_STORE = (b"cache-control", b"no-store")


class BodyTooLarge(Exception):
    pass


class BodyIncomplete(Exception):
    """The body ended before its framing said it would (the request is refused: `guard`)."""


Route = Callable[[Scope, Receive, Send, dict[str, Any]], Awaitable[None]]


# A face's answer when its route raised: the caller's own envelope for a 500 (the body and
# its content-type header), given the request.
LastResort = Callable[[Scope], tuple[bytes, tuple[bytes, bytes]]]
# A face's envelope for a refusal made here, before or around its route (a body too slow or
# broken, too many requests from one address): given the request, the status and the reason.
Refusal = Callable[[Scope, int, str], tuple[bytes, tuple[bytes, bytes]]]

_errors = logging.getLogger("gatehouse.http")


async def serve_logged(
    route: Route,
    scope: Scope,
    receive: Receive,
    send: Send,
    log_suffix: str,
    last_resort: LastResort | None = None,
    refusal: Refusal | None = None,
) -> None:
    """One face's ASGI entry: lifespan, then `route` for HTTP with one access-log line per
    request (address, method, path, status, time, user, auth method — never a query string or
    a header); `state` is where the route notes who was authenticated. Whatever the route
    raises is logged with its traceback and, unless the answer had begun, answered 500 in the
    face's envelope (`last_resort`): never a bare server error with nothing in the log.

    Around the route, the limits of `guard`: a client address with its share of requests in
    progress is answered 503 at once; a body not whole within the body timeout is answered
    408, one cut short or unreadable 400, whatever the route would have answered."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    started = time.perf_counter()
    state: dict[str, Any] = {"status": 0, "user": "-", "auth": "-"}
    client = scope.get("client") or ("-", 0)
    # The client behind a trusted proxy, so that its share of requests is its own and the
    # log names it; with no proxy trusted, the socket's address as it always was.
    address = str(client[0]) if PROXIES.trusted is None else (peer(scope) or "-")
    table = headers(scope)
    # Without Content-Length or Transfer-Encoding there is no body to guard (most requests).
    guarded = (
        GuardedBody(receive, LIMITS.body_timeout, framed=True)
        if b"content-length" in table or b"transfer-encoding" in table
        else None
    )
    replaced = False

    async def refuse(status: int, reason: str, extra: list[tuple[bytes, bytes]]) -> None:
        content, content_type = (
            refusal(scope, status, reason)
            if refusal is not None
            else (f"{reason}\n".encode(), TEXT)
        )
        state["status"] = status
        # Closed after the answer: the rest of a refused body is not worth reading.
        answer = [content_type, NO_STORE, (b"connection", b"close"), *extra]
        with contextlib.suppress(Exception):  # the client may be gone already
            await respond(send, status, content, answer)

    async def tracked_send(message: Message) -> None:
        nonlocal replaced
        if replaced:
            return
        if message["type"] == "http.response.start":
            if guarded is not None and guarded.refusal is not None and not state["status"]:
                # The route answered a body it never had whole: the refusal goes out instead.
                replaced = True
                await refuse(*guarded.refusal, [])
                return
            state["status"] = message["status"]
        await send(message)

    entered = LIMITS.enter(address)
    try:
        if not entered:
            await refuse(503, TOO_MANY, [(b"retry-after", RETRY_AFTER)])
            return
        await route(scope, receive if guarded is None else guarded, tracked_send, state)
        if guarded is not None and guarded.refusal is not None and not state["status"]:
            await refuse(*guarded.refusal, [])
    except Exception:
        if guarded is not None and guarded.refusal is not None:
            # The route stopped at the missing body (BodyIncomplete, or a framework's own
            # disconnection error): expected, so no traceback.
            if not state["status"]:
                await refuse(*guarded.refusal, [])
        else:
            _errors.exception(
                "%s %s failed", scope.get("method"), _loggable(str(scope.get("path")))
            )
            if not state["status"]:
                body, content_type = (
                    last_resort(scope) if last_resort is not None else (b"Internal error\n", TEXT)
                )
                with contextlib.suppress(Exception):  # the client may be gone already
                    await respond(tracked_send, 500, body, [content_type, NO_STORE])
    finally:
        if entered:
            LIMITS.leave(address)
        elapsed = (time.perf_counter() - started) * 1000
        # The path and the user are the client's words (a refused login logs the name it
        # claimed): escaped, so they cannot end their field or the line and forge the rest.
        path = _quoted_field(str(scope.get("path")))
        user = _bare_field(str(state["user"]))
        ACCESS_LOG.write(
            f'{address} "{scope.get("method")} {path}" {state["status"]} '
            f"{elapsed:.1f}ms user={user} auth={state['auth']}{log_suffix}"
        )


def page(title: str, message: str) -> bytes:
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}"
        f"</title></head><body><h1>{html.escape(title)}</h1><p>{message}</p></body></html>"
    ).encode()


def headers(scope: Scope) -> dict[bytes, bytes]:
    """The request headers by lower-cased name (the first of a repeated one), made once."""
    table: dict[bytes, bytes] | None = scope.get("gatehouse.headers")
    if table is None:
        table = {}
        for key, value in scope.get("headers", ()):
            table.setdefault(key.lower(), value)
        scope["gatehouse.headers"] = table
    return table


def header(scope: Scope, name: bytes) -> str | None:
    """A request header as text (the first, if repeated)."""
    value = headers(scope).get(name)
    return None if value is None else value.decode("latin-1")


def cookie(headers: dict[bytes, bytes], name: str) -> str | None:
    raw = headers.get(b"cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw.decode("latin-1"))
    except Exception:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel else None


def peer(scope: Scope) -> str | None:
    """The client address; IPv4-mapped IPv6 (a dual-stack listener) is reported as IPv4.
    Behind a trusted proxy (GATEHOUSE_TRUSTED_PROXIES), the address it forwarded
    (`forwarded`); with none configured, one check more than the socket's address."""
    client = scope.get("client")
    if not client:
        return None
    address = _display_address(str(client[0]))
    if PROXIES.trusted is None:
        return address
    return PROXIES.client(address, scope)


@lru_cache(maxsize=65536)
def _display_address(raw: str) -> str:
    address = ipnets.peer_address(raw)
    return str(address) if address is not None else raw


async def read_body(headers: dict[bytes, bytes], receive: Receive, limit: int) -> bytes:
    declared = headers.get(b"content-length")
    if declared is None and b"transfer-encoding" not in headers:
        # No framing header, no body (RFC 9112 §6.3): skip a round trip to the server.
        return b""
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            # Never a truncated body handed on as if whole: the request is refused.
            raise BodyIncomplete
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def respond(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


# What may stand as is in a quoted field of the access log: printable, neither `"` nor `\`;
# in a bare field (user=), no space either.
_QUOTED_SAFE = re.compile(r'[^"\\]*')
_BARE_SAFE = re.compile(r'[^"\\\s]*')
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if char.isprintable() and not char.isspace():
        return char
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _quote(text: str) -> str:
    """`text` for a field between double quotes: `"` and `\\` escaped with a backslash, and
    control characters (a decoded %0A would start a forged line) as `\\xNN`."""
    if _QUOTED_SAFE.fullmatch(text) and text.isprintable():
        return text
    return "".join(" " if char == " " else _escape(char) for char in text)


def _quote_bare(text: str) -> str:
    """`text` for a field ended by a space: as `_quote`, spaces escaped too."""
    if _BARE_SAFE.fullmatch(text) and text.isprintable():
        return text
    return "".join(_escape(char) for char in text)


# Paths and user names repeat request after request: a short one is escaped once (~0.3 µs a
# field). Only short ones: the client chooses them, and 4,096 long paths must not be held.
MEMO_LENGTH = 256
_quote_short = lru_cache(maxsize=4096)(_quote)
_quote_bare_short = lru_cache(maxsize=4096)(_quote_bare)


def _quoted_field(text: str) -> str:
    return _quote_short(text) if len(text) <= MEMO_LENGTH else _quote(text)


def _bare_field(text: str) -> str:
    return _quote_bare_short(text) if len(text) <= MEMO_LENGTH else _quote_bare(text)


def _loggable(text: str) -> str:
    """Text for a log line: control characters escaped, so a request cannot forge a line."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")
