"""The HTTP face: a lean ASGI application in front of the same core the CLI uses.

`/json-api/` is dispatched directly (no framework routing): every client of every request
pays for this path, so it does one header parse, one indexed token lookup and the function.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Awaitable, Callable, MutableMapping
from functools import lru_cache
from http.cookies import SimpleCookie
from typing import Any

import anyio.to_thread

from gatehouse import ipnets
from gatehouse.auth import header as auth_header
from gatehouse.auth.authenticator import TOKEN_PATH_FORBIDDEN, TOKEN_PATHS_ONLY, Denial, Principal
from gatehouse.core import Gatehouse
from gatehouse.domain import sessions
from gatehouse.errors import GatehouseError
from gatehouse.web.access_log import ACCESS_LOG
from gatehouse.web.pages import Pages
from gatehouse.whmapi import dispatch, envelope, openapi
from gatehouse.whmapi.functions import cpanel as cpanel_function
from gatehouse.whmapi.params import Params

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

CPSESS_RE = re.compile(r"^/cpsess([0-9]{10})(/.*)?\Z")
SESSION_COOKIE = "whostmgrsession"
JSON = (b"content-type", b"application/json; charset=utf-8")
HTML = (b"content-type", b"text/html; charset=utf-8")
NO_STORE = (b"cache-control", b"no-store")
CHALLENGE = [
    (b"www-authenticate", b'whm realm="WHM"'),
    (b"www-authenticate", b'Basic realm="WHM", charset="UTF-8"'),
]
ACCESS_DENIED = "Access denied"


class _BodyTooLarge(Exception):
    pass


Route = Callable[[Scope, Receive, Send, dict[str, Any]], Awaitable[None]]


async def serve_logged(
    route: Route, scope: Scope, receive: Receive, send: Send, log_suffix: str
) -> None:
    """One face's ASGI entry: lifespan, then `route` for HTTP with one access-log line per
    request (address, method, path, status, time, user, auth method — never a query string or
    a header); `state` is where the route notes who was authenticated."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    started = time.perf_counter()
    state: dict[str, Any] = {"status": 0, "user": "-", "auth": "-"}

    async def tracked_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            state["status"] = message["status"]
        await send(message)

    try:
        await route(scope, receive, tracked_send, state)
    finally:
        client = scope.get("client") or ("-", 0)
        elapsed = (time.perf_counter() - started) * 1000
        path = str(scope.get("path"))
        if not path.isprintable():
            # A decoded %0A would start a forged line: control characters are written escaped.
            path = path.encode("unicode_escape").decode("ascii")
        ACCESS_LOG.write(
            f'{client[0]} "{scope.get("method")} {path}" {state["status"]} '
            f"{elapsed:.1f}ms user={state['user']} auth={state['auth']}{log_suffix}"
        )


class WhmApp:
    def __init__(self, gatehouse: Gatehouse) -> None:
        self.gatehouse = gatehouse
        self.config = gatehouse.config
        self._openapi = envelope.dumps(openapi.document(gatehouse.registry))
        # Every path that is not the API: log in, the shell, the token and key pages.
        self.pages = Pages(gatehouse)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await serve_logged(self._route, scope, receive, send, "")

    async def _route(
        self, scope: Scope, receive: Receive, send: Send, state: dict[str, Any]
    ) -> None:
        path: str = scope["path"]
        security_token = None
        match = CPSESS_RE.match(path)
        if match:
            security_token, path = match.group(1), match.group(2) or "/"
        if path.startswith("/json-api/"):
            await self._json_api(
                scope, receive, send, path[len("/json-api/") :], security_token, state
            )
        elif path == "/healthz":
            # For load balancers (and the benchmark's floor): no auth, no store access.
            await _respond(send, 200, b'{"status":1}', [JSON, NO_STORE])
        elif path == "/openapi.json":
            await _respond(send, 200, self._openapi, [JSON])
        elif security_token and path == "/login/":
            await self._login(scope, send, security_token, state)
        else:
            scope = {
                **scope,
                "path": path,
                "raw_path": path.encode(),
                "root_path": "",
                "gatehouse.cpsess": security_token,
                "gatehouse.state": state,
            }
            await self.pages(scope, receive, send)

    # -- /json-api/ -------------------------------------------------------------------

    async def _json_api(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        name: str,
        security_token: str | None,
        state: dict[str, Any],
    ) -> None:
        query: bytes = scope.get("query_string", b"")
        if len(query) > self.config.max_query:
            await self._envelope(
                send,
                414,
                name,
                f"The query string exceeds the limit of {self.config.max_query} bytes.",
            )
            return
        headers = _headers(scope)
        try:
            body = await _read_body(headers, receive, self.config.max_body)
        except _BodyTooLarge:
            await self._envelope(
                send,
                413,
                name,
                f"The request body exceeds the limit of {self.config.max_body} bytes.",
            )
            return
        peer = _peer(scope)
        principal = self._authenticate(headers, security_token, peer)
        if isinstance(principal, auth_header.PasswordCredential):
            # Argon2 (~155 ms): keep the event loop free for everyone else.
            principal = await anyio.to_thread.run_sync(
                self.gatehouse.authenticator.authenticate, principal, peer
            )
        if isinstance(principal, Denial):
            state["user"] = principal.username or "-"
            self.gatehouse.authenticator.record_denial(principal, peer, f"/json-api/{name}")
            if principal.reason == TOKEN_PATH_FORBIDDEN:
                # A valid cPanel token, but WHM is not a path it may use (whm-reference §2.2).
                await self._envelope(send, 403, name, TOKEN_PATHS_ONLY)
                return
            await self._envelope(send, 401, name, ACCESS_DENIED, CHALLENGE)
            return
        state["user"], state["auth"] = principal.user.username, principal.method
        try:
            params = Params.from_request(query, body)
        except GatehouseError as exc:
            await self._envelope(send, 400, name, exc.reason)
            return
        raw_host = headers.get(b"host")
        host = None if raw_host is None else raw_host.decode("latin-1")
        fn = self.gatehouse.registry.get(name)
        if fn is not None and fn.slow:
            outcome = await anyio.to_thread.run_sync(
                lambda: dispatch.execute(
                    self.gatehouse, principal, name, params, peer=peer, host=host, fn=fn
                )
            )
        else:
            outcome = dispatch.execute(
                self.gatehouse, principal, name, params, peer=peer, host=host, fn=fn
            )
        if name == cpanel_function.NAME:
            # WHM's `cpanel` answers in the cPanel function's own envelope, not WHM API 1's.
            outcome = cpanel_function.unwrap(outcome, params)
        await _respond(send, outcome.status, outcome.body, [JSON, NO_STORE])

    def _authenticate(
        self, headers: dict[bytes, bytes], security_token: str | None, peer: str | None
    ) -> Principal | Denial | auth_header.PasswordCredential:
        """Who the request is, decided on the event loop — or the Basic credential to verify
        off it, when the verified-password cache cannot answer without Argon2."""
        authenticator = self.gatehouse.authenticator
        raw = headers.get(b"authorization")
        if raw is not None:
            credential = auth_header.parse(raw.decode("latin-1"))
            assert credential is not None
            if isinstance(credential, auth_header.PasswordCredential):
                known = authenticator.password_without_argon2(credential)
                return credential if known is None else known
            return authenticator.authenticate(credential, peer)
        cookie = _cookie(headers, SESSION_COOKIE)
        if security_token and cookie:
            return authenticator.session(security_token, cookie)
        return Denial("no_credentials")

    async def _envelope(
        self,
        send: Send,
        status: int,
        name: str,
        reason: str,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        body = envelope.whm1(name, ok=False, reason=reason)
        await _respond(send, status, body, [JSON, NO_STORE, *(extra or [])])

    # -- sessions in a browser ----------------------------------------------------------

    async def _login(
        self, scope: Scope, send: Send, security_token: str, state: dict[str, Any]
    ) -> None:
        try:
            params = Params.from_request(scope.get("query_string", b""), b"")
        except GatehouseError as exc:
            await _respond(send, 400, _page("Bad request", html.escape(exc.reason)), [HTML])
            return
        _user, _sep, secret = (params.get("session") or "").partition(":")
        gatehouse = self.gatehouse
        redeemed = None
        if secret:
            with gatehouse.engine.begin() as conn:
                redeemed = sessions.redeem_login(conn, security_token, secret, gatehouse.now())
        if redeemed is None:
            gatehouse.authenticator.record_denial(
                Denial("session_login_invalid"), _peer(scope), "/login/"
            )
            await _respond(
                send,
                401,
                _page("Login failed", "This login link is invalid or has expired."),
                [HTML],
            )
            return
        active, cookie_secret = redeemed
        state["user"], state["auth"] = active.user.username, "session"
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        cookie = f"{SESSION_COOKIE}={cookie_secret}; Path=/; HttpOnly; SameSite=Strict{secure}"
        await _respond(
            send,
            303,
            b"",
            [
                (b"location", f"/cpsess{security_token}/".encode()),
                (b"set-cookie", cookie.encode()),
                NO_STORE,
            ],
        )


def _page(title: str, message: str) -> bytes:
    return (
        f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}"
        f"</title></head><body><h1>{html.escape(title)}</h1><p>{message}</p></body></html>"
    ).encode()


def _headers(scope: Scope) -> dict[bytes, bytes]:
    """The request headers by lower-cased name (the first of a repeated one), made once."""
    table: dict[bytes, bytes] | None = scope.get("gatehouse.headers")
    if table is None:
        table = {}
        for key, value in scope.get("headers", ()):
            table.setdefault(key.lower(), value)
        scope["gatehouse.headers"] = table
    return table


def _header(scope: Scope, name: bytes) -> str | None:
    """A request header as text (the first, if repeated)."""
    value = _headers(scope).get(name)
    return None if value is None else value.decode("latin-1")


def _cookie(headers: dict[bytes, bytes], name: str) -> str | None:
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


def _peer(scope: Scope) -> str | None:
    """The client address; IPv4-mapped IPv6 (a dual-stack listener) is reported as IPv4."""
    client = scope.get("client")
    return _display_address(str(client[0])) if client else None


@lru_cache(maxsize=65536)
def _display_address(raw: str) -> str:
    address = ipnets.peer_address(raw)
    return str(address) if address is not None else raw


async def _read_body(headers: dict[bytes, bytes], receive: Receive, limit: int) -> bytes:
    declared = headers.get(b"content-length")
    if declared is None and b"transfer-encoding" not in headers:
        # No framing header, no body (RFC 9112 §6.3): skip a round trip to the server.
        return b""
    if declared is not None and declared.strip().isdigit() and int(declared) > limit:
        raise _BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
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
