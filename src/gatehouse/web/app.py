"""The pages' entry on the WHM ports: `/cpsessNNNNNNNNNN/login/?session=...` (a one-time
login URL redeemed for a session cookie) here, every other page in `gatehouse.web.pages`.
The WHM face hands this application every path that is not its API, the /cpsess prefix
taken off (`scope["gatehouse.cpsess"]`)."""

from __future__ import annotations

import html
from typing import Any

from gatehouse.api.params import Params
from gatehouse.auth.authenticator import Denial
from gatehouse.core import Gatehouse
from gatehouse.domain import sessions
from gatehouse.errors import GatehouseError
from gatehouse.http import asgi
from gatehouse.web.pages import Pages
from gatehouse.web.pages.session import SESSION_COOKIE
from gatehouse.web.site_app import HSTS, SECURITY_HEADERS


class WebApp:
    def __init__(self, gatehouse: Gatehouse) -> None:
        self.gatehouse = gatehouse
        self.pages = Pages(gatehouse)

    async def __call__(self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        security_token = scope.get("gatehouse.cpsess")
        if security_token and scope["path"] == "/login/":
            await self._login(scope, send, security_token, scope["gatehouse.state"])
            return
        await self.pages(scope, receive, send)

    async def _login(
        self, scope: asgi.Scope, send: asgi.Send, security_token: str, state: dict[str, Any]
    ) -> None:
        # The pages' security headers on these answers too (the redirect sets the cookie).
        secured = [*SECURITY_HEADERS, *([HSTS] if scope.get("scheme") == "https" else [])]
        try:
            params = Params.from_request(scope.get("query_string", b""), b"")
        except GatehouseError as exc:
            await asgi.respond(
                send,
                400,
                asgi.page("Bad request", html.escape(exc.reason)),
                [asgi.HTML, *secured],
            )
            return
        _user, _sep, secret = (params.get("session") or "").partition(":")
        gatehouse = self.gatehouse
        redeemed = None
        if secret:
            with gatehouse.engine.begin() as conn:
                redeemed = sessions.redeem_login(conn, security_token, secret, gatehouse.now())
        if redeemed is None:
            gatehouse.authenticator.record_denial(
                Denial("session_login_invalid"), asgi.peer(scope), "/login/"
            )
            await asgi.respond(
                send,
                401,
                asgi.page("Login failed", "This login link is invalid or has expired."),
                [asgi.HTML, *secured],
            )
            return
        active, cookie_secret = redeemed
        state["user"], state["auth"] = active.user.username, "session"
        secure = "; Secure" if scope.get("scheme") == "https" else ""
        cookie = f"{SESSION_COOKIE}={cookie_secret}; Path=/; HttpOnly; SameSite=Strict{secure}"
        await asgi.respond(
            send,
            303,
            b"",
            [
                (b"location", f"/cpsess{security_token}/".encode()),
                (b"set-cookie", cookie.encode()),
                asgi.NO_STORE,
                *secured,
            ],
        )
