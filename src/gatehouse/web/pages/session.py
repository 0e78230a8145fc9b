"""Who is signed in, the one guard every signed-in page sits behind, and CSRF protection.

A page session is a `/cpsessNNNNNNNNNN` prefix (its digits in `scope["gatehouse.cpsess"]`)
plus the HttpOnly `whostmgrsession` cookie.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from gatehouse.auth.authenticator import Denial, Principal
from gatehouse.core import Gatehouse
from gatehouse.domain import sessions
from gatehouse.http import asgi
from gatehouse.web import password_login
from gatehouse.web.pages.form import Pairs, read_pairs

if TYPE_CHECKING:
    from gatehouse.web.pages.site import Site

SESSION_COOKIE = sessions.WHM_COOKIE
LOGIN_CSRF_COOKIE = "gatehouse_login"
CSRF_FIELD = "csrf_token"

Page = Callable[["Site", Request], Awaitable[Response]]
SignedInPage = Callable[["Site", Request, Principal], Awaitable[Response]]


def principal(gatehouse: Gatehouse, request: Request) -> Principal | None:
    """Who the request's session belongs to, or None (no session, or an ended one)."""
    cpsess = request.scope.get("gatehouse.cpsess")
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cpsess or not cookie:
        return None
    found = gatehouse.authenticator.session(cpsess, cookie, asgi.peer(request.scope))
    if isinstance(found, Denial):
        return None
    state = request.scope.get("gatehouse.state")
    if state is not None:
        state["user"], state["auth"] = found.user.username, "session"
    return found


def signed_in(page: SignedInPage) -> Page:
    """The guard of every page behind a login: the page runs with the session's principal,
    or the visitor is told they are not signed in (401)."""

    @functools.wraps(page)
    async def guarded(site: Site, request: Request) -> Response:
        found = principal(site.gatehouse, request)
        if found is None:
            return site.render.signed_out(request)
        return await page(site, request, found)

    return guarded


def csrf_token(request: Request, cookie_name: str = SESSION_COOKIE) -> str:
    """Per session: an HMAC of the security token keyed with the (HttpOnly) cookie secret,
    so it needs no storage and cannot be computed from anything a page shows. The cPanel
    pages pass their own cookie's name."""
    cookie = request.cookies.get(cookie_name, "")
    cpsess = request.scope.get("gatehouse.cpsess") or ""
    mac = hmac.new(cookie.encode(), f"csrf:{cpsess}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def csrf_ok(request: Request, pairs: Pairs, cookie_name: str = SESSION_COOKIE) -> bool:
    sent = next((v for k, v in pairs if k == CSRF_FIELD), "")
    expected = csrf_token(request, cookie_name)
    return bool(sent) and hmac.compare_digest(sent.encode(), expected.encode())


async def verified_form(request: Request, cookie_name: str = SESSION_COOKIE) -> Pairs | None:
    """The posted fields, or None when the form's CSRF token is missing or wrong."""
    pairs = await read_pairs(request)
    return pairs if csrf_ok(request, pairs, cookie_name) else None


# -- the login form's own token (no session yet) ----------------------------------------------


def login_csrf_token(request: Request) -> str:
    """The login form's CSRF token: the one the visitor's short-lived HttpOnly cookie holds,
    or a new one (`with_login_csrf` sets the cookie with the page)."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def with_login_csrf(response: Response, request: Request, token: str) -> Response:
    return password_login.with_private_cookie(response, request, LOGIN_CSRF_COOKIE, token)


def login_csrf_ok(request: Request, values: dict[str, str]) -> bool:
    """Whether a posted login form carries the token its cookie holds (constant time)."""
    sent = values.get(CSRF_FIELD, "")
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return bool(sent and expected) and hmac.compare_digest(sent.encode(), expected.encode())
