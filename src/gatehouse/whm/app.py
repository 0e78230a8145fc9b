"""The WHM face's HTTP entry: a lean ASGI application on the WHM ports.

`/json-api/` is dispatched directly (no framework routing): every client of every request
pays for this path, so it does one header parse, one indexed token lookup and the function.
`/openapi.json` and `/healthz` are answered here; every other path goes to the pages
(`gatehouse.web`), which the program gives this application.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread

from gatehouse.api import dispatch, envelope
from gatehouse.api.params import JSON_CONTENT_TYPE, NESTED, Params
from gatehouse.api.registry import runs_off_loop
from gatehouse.auth import header as auth_header
from gatehouse.auth.authenticator import (
    TOKEN_PATH_FORBIDDEN,
    TOKEN_PATHS_ONLY,
    Denial,
    Principal,
    rate_limited,
)
from gatehouse.core import Gatehouse
from gatehouse.domain import sessions
from gatehouse.errors import GatehouseError
from gatehouse.http import asgi
from gatehouse.whm import openapi
from gatehouse.whm.dnsadmin import TRUST_PATH, DnsAdmin, trust_page
from gatehouse.whm.registry import REGISTRY

SESSION_COOKIE = sessions.WHM_COOKIE
CHALLENGE = [
    (b"www-authenticate", b'whm realm="WHM"'),
    (b"www-authenticate", b'Basic realm="WHM", charset="UTF-8"'),
]
ACCESS_DENIED = "Access denied"
INTERNAL_ERROR = "Internal error: the request failed; see the server log."


def _in_envelope(scope: asgi.Scope, reason: str) -> tuple[bytes, tuple[bytes, bytes]]:
    """A failure in the envelope of the path's caller: the DNS cluster protocol's plain text
    (`Error: …`, as its own refusals) and the trust CGI's page, else WHM API 1's (pages get
    the same: a WHM client reads JSON)."""
    path = str(scope.get("path", ""))
    match = asgi.CPSESS_RE.match(path)
    if match:
        path = match.group(2) or "/"
    if path.startswith("/scripts2/"):
        return f"Error: {reason}\n".encode(), asgi.TEXT
    if path == TRUST_PATH:
        return trust_page("errormsg", reason).encode(), asgi.HTML
    command = path.rsplit("/", 1)[-1] if path.startswith("/json-api/") else ""
    return envelope.whm1(command, ok=False, reason=reason), asgi.JSON


def _last_resort(scope: asgi.Scope) -> tuple[bytes, tuple[bytes, bytes]]:
    """A 500 in the caller's envelope (`_in_envelope`)."""
    return _in_envelope(scope, INTERNAL_ERROR)


def _refusal(scope: asgi.Scope, status: int, reason: str) -> tuple[bytes, tuple[bytes, bytes]]:
    """A refusal of the HTTP layer (a body too slow or broken, too many requests at once) in
    the caller's envelope, as the 500 above."""
    return _in_envelope(scope, reason)


class WhmApp:
    def __init__(self, gatehouse: Gatehouse, pages: asgi.App) -> None:
        self.gatehouse = gatehouse
        self.config = gatehouse.config
        self._openapi = envelope.dumps(openapi.document(REGISTRY))
        # Every path that is not the API (log in, the shell, the token and key pages) goes to
        # `pages`, with the /cpsessNNNNNNNNNN/ prefix taken off (`gatehouse.cpsess`).
        self.pages = pages
        # cPanel's DNS cluster protocol, receiving side (/scripts2/*_local).
        self.dnsadmin = DnsAdmin(gatehouse, self._authenticate_any)

    async def __call__(self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        await asgi.serve_logged(self._route, scope, receive, send, "", _last_resort, _refusal)

    async def _route(
        self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send, state: dict[str, Any]
    ) -> None:
        path: str = scope["path"]
        security_token = None
        match = asgi.CPSESS_RE.match(path)
        if match:
            security_token, path = match.group(1), match.group(2) or "/"
        if path.startswith("/json-api/"):
            await self._json_api(
                scope, receive, send, path[len("/json-api/") :], security_token, state
            )
        elif path.startswith("/scripts2/") or path == "/cgi/trustclustermaster.cgi":
            await self.dnsadmin.serve(scope, receive, send, path, state)
        elif path == "/healthz":
            # For load balancers (and the benchmark's floor): no auth, no store access.
            await asgi.respond(send, 200, b'{"status":1}', [asgi.JSON, asgi.NO_STORE])
        elif path == "/openapi.json":
            await asgi.respond(send, 200, self._openapi, [asgi.JSON])
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
        scope: asgi.Scope,
        receive: asgi.Receive,
        send: asgi.Send,
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
        headers = asgi.headers(scope)
        try:
            body = (
                await asgi.read_body(headers, receive, self.config.max_body)
                if b"content-length" in headers or b"transfer-encoding" in headers
                else b""  # no framing header, no body: not even a coroutine to await
            )
        except asgi.BodyTooLarge:
            await self._envelope(
                send,
                413,
                name,
                f"The request body exceeds the limit of {self.config.max_body} bytes.",
            )
            return
        peer = asgi.peer(scope)
        principal = self._authenticate(headers, security_token, peer)
        if isinstance(principal, auth_header.PasswordCredential):
            # Argon2 (~155 ms): keep the event loop free for everyone else.
            principal = await anyio.to_thread.run_sync(
                self.gatehouse.authenticator.authenticate, principal, peer
            )
        if isinstance(principal, Denial):
            state["user"] = principal.username or "-"
            self.gatehouse.authenticator.record_denial(principal, peer, f"/json-api/{name}")
            limited = rate_limited(principal)
            if limited is not None:
                await self._envelope(send, 429, name, *limited)
                return
            if principal.reason == TOKEN_PATH_FORBIDDEN:
                # A valid cPanel token, but WHM is not a path it may use (whm-reference §2.2).
                await self._envelope(send, 403, name, TOKEN_PATHS_ONLY)
                return
            await self._envelope(send, 401, name, ACCESS_DENIED, CHALLENGE)
            return
        state["user"], state["auth"] = principal.user.username, principal.method
        try:
            params = Params.from_request(
                query, body, json_body=headers.get(b"content-type") == JSON_CONTENT_TYPE
            )
        except GatehouseError as exc:
            await self._envelope(send, 400, name, exc.reason)
            return
        if params.nested:
            # A JSON body's lists and objects: cPanel's APIs take flat arguments only
            # (Cpanel::JSONAPI::has_nested_structures; UAPI's words, naming the function).
            await self._envelope(send, 200, name, f"{name} {NESTED}")
            return
        raw_host = headers.get(b"host")
        host = None if raw_host is None else raw_host.decode("latin-1")
        fn = REGISTRY.get(name)
        if runs_off_loop(fn, self.gatehouse.store_is_remote):
            outcome = await anyio.to_thread.run_sync(
                lambda: dispatch.execute(
                    self.gatehouse, REGISTRY, principal, name, params, peer=peer, host=host, fn=fn
                )
            )
        else:
            outcome = dispatch.execute(
                self.gatehouse, REGISTRY, principal, name, params, peer=peer, host=host, fn=fn
            )
        await asgi.respond(send, outcome.status, outcome.body, [asgi.JSON, asgi.NO_STORE])

    async def _authenticate_any(
        self, headers: dict[bytes, bytes], peer: str | None
    ) -> Principal | Denial:
        """Who a request outside /json-api/ is, by its Authorization header (Argon2 off the
        event loop)."""
        found = self._authenticate(headers, None, peer)
        if isinstance(found, auth_header.PasswordCredential):
            credential = found
            return await anyio.to_thread.run_sync(
                self.gatehouse.authenticator.authenticate, credential, peer
            )
        return found

    def _authenticate(
        self, headers: dict[bytes, bytes], security_token: str | None, peer: str | None
    ) -> Principal | Denial | auth_header.PasswordCredential:
        """Who the request is, decided on the event loop — or the Basic credential to verify
        off it, when the verified-password cache cannot answer without Argon2."""
        authenticator = self.gatehouse.authenticator
        raw = headers.get(b"authorization")
        if raw is not None:
            credential = auth_header.parse(raw.decode("latin-1"), headers.get(b"user-agent"))
            assert credential is not None
            if isinstance(credential, auth_header.PasswordCredential):
                known = authenticator.password_without_argon2(credential, peer)
                return credential if known is None else known
            return authenticator.authenticate(credential, peer)
        cookie = asgi.cookie(headers, SESSION_COOKIE)
        if security_token and cookie:
            return authenticator.session(security_token, cookie, peer)
        return Denial("no_credentials")

    async def _envelope(
        self,
        send: asgi.Send,
        status: int,
        name: str,
        reason: str,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        body = envelope.whm1(name, ok=False, reason=reason)
        await asgi.respond(send, status, body, [asgi.JSON, asgi.NO_STORE, *(extra or [])])
