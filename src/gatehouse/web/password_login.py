"""Logging in with a password on either face's login form (or for programs, `login_only`): the
session a correct password opens, and the answer that hands its cookie over.

The password is checked as Basic auth checks it — admitted by cPHulk first, Argon2 in a worker
thread — and a refusal is audited and counted; WHM takes root and resellers (`whostmgrd`),
the cPanel face cPanel accounts (`cpaneld`).
"""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gatehouse.auth.authenticator import CPANEL_SERVICE, WHM_SERVICE, Denial, Principal
from gatehouse.auth.header import PasswordCredential
from gatehouse.core import Gatehouse
from gatehouse.domain import logins, sessions
from gatehouse.http import asgi
from gatehouse.web.pages.form import Form


def form_fields(values: dict[str, str]) -> tuple[str, str, Form]:
    """The login form's username and password, and the form to show again with what is
    missing marked (both faces word it alike)."""
    username = values.get("user", "").strip()
    password = values.get("pass", "")
    form = Form({"user": username})
    if not username:
        form.errors["user"] = "Enter your username."
    if not password:
        form.errors["pass"] = "Enter your password."
    return username, password, form


INVALID = "The login is invalid: check the username and the password."


async def open_session(
    gatehouse: Gatehouse, request: Request, username: str, password: str, service: str
) -> tuple[sessions.ActiveSession, str] | None:
    """A session of `service` for a correct password, with its cookie secret; or None, the
    refusal audited and counted by cPHulk."""
    peer = asgi.peer(request.scope)
    authenticator = gatehouse.authenticator
    cpanel = service == sessions.CPANELD
    check = authenticator.authenticate_cpanel if cpanel else authenticator.authenticate
    found: Principal | Denial = await anyio.to_thread.run_sync(
        check, PasswordCredential(username, password), peer
    )
    if isinstance(found, Denial):
        face = CPANEL_SERVICE if cpanel else WHM_SERVICE
        authenticator.record_denial(found, peer, logins.FAILURE_DETAIL, face)
        return None
    with gatehouse.engine.begin() as conn:
        opened = logins.open_session(
            conn, found.user, peer, gatehouse.now(), authenticator.session_idle_timeout, service
        )
    state = request.scope.get("gatehouse.state")
    if state is not None:
        state["user"], state["auth"] = found.user.username, "password"
    return opened


def with_private_cookie(response: Response, request: Request, name: str, secret: str) -> Response:
    """A cookie as the pages set theirs (a session's, the login form's token): HttpOnly,
    SameSite=Strict, Secure over TLS."""
    response.set_cookie(
        name,
        secret,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


def to_session(request: Request, security_token: str, cookie: str, secret: str) -> Response:
    """The redirect to a new session's home page, its cookie set."""
    response = RedirectResponse(f"/cpsess{security_token}/", status_code=303)
    return with_private_cookie(response, request, cookie, secret)
