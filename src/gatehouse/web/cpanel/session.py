"""Who is signed in to the cPanel pages, the guard every page sits behind, and CSRF.

A cPanel page session is a `/cpsessNNNNNNNNNN` prefix plus the HttpOnly `cpsession` cookie,
made only by redeeming a `create_user_session` URL of service `cpaneld`: a WHM session is no
key here, nor this one on WHM (`domain/sessions.py` matches a session to its face). The
session runs as the account's cPanel principal (`AccountApi.principal_for`), so every page
can do exactly what the account's own UAPI calls can, no more.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response

from gatehouse.api import bridge
from gatehouse.auth.authenticator import Principal
from gatehouse.core import Gatehouse
from gatehouse.domain import sessions
from gatehouse.web.pages import session as whm_session
from gatehouse.web.pages.form import Pairs

if TYPE_CHECKING:
    from gatehouse.web.cpanel.site import Site

SESSION_COOKIE = sessions.CPANEL_COOKIE

SignedInPage = Callable[["Site", Request, Principal], Awaitable[Response]]


def principal(gatehouse: Gatehouse, request: Request) -> Principal | None:
    """The account the request's cpaneld session belongs to, or None (no session, an ended
    one, or an account that may not use cPanel now: suspended, or no longer an account)."""
    cpsess = request.scope.get("gatehouse.cpsess")
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cpsess or not cookie:
        return None
    now = gatehouse.now()
    idle = gatehouse.authenticator.session_idle_timeout
    with gatehouse.engine.connect() as conn:
        active = sessions.authenticate(conn, cpsess, cookie, now, idle, service=sessions.CPANELD)
    if active is None or not active.user.may_use_cpanel:
        return None
    if now - active.last_active >= sessions.TOUCH_INTERVAL:
        with gatehouse.engine.begin() as conn:
            sessions.touch(conn, active.id, now)
    state = request.scope.get("gatehouse.state")
    if state is not None:
        state["user"], state["auth"] = active.user.username, "session"
    found = bridge.account_api().principal_for(active.user, "session")
    return dataclasses.replace(found, session=active)


def signed_in(page: SignedInPage) -> Callable[[Site, Request], Awaitable[Response]]:
    """The guard of every page: it runs with the session's principal, or the visitor is told
    they are not signed in (401)."""

    @functools.wraps(page)
    async def guarded(site: Site, request: Request) -> Response:
        found = principal(site.gatehouse, request)
        if found is None:
            return site.signed_out(request)
        return await page(site, request, found)

    return guarded


def csrf_token(request: Request) -> str:
    """The WHM pages' construction (an HMAC keyed with the HttpOnly cookie secret), keyed
    with this face's cookie."""
    return whm_session.csrf_token(request, SESSION_COOKIE)


async def verified_form(request: Request) -> Pairs | None:
    """The posted fields, or None when the form's CSRF token is missing or wrong."""
    return await whm_session.verified_form(request, SESSION_COOKIE)
