"""Entering and leaving: the one-time `/cpsessN/login/?session=USER:SECRET` URL that
`create_user_session` (service `cpaneld`) hands out becomes the `cpsession` cookie; Log out
ends the session. There is no password form here (billing systems and WHM send the account
holder in with the URL), but programs log in as cpsrvd lets them, with the account's
password: `POST /login/?login_only=1` (`gatehouse.web.login_only`)."""

from __future__ import annotations

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gatehouse.auth.authenticator import CPANEL_SERVICE, Denial, Principal
from gatehouse.auth.header import PasswordCredential
from gatehouse.domain import logins, sessions
from gatehouse.http import asgi
from gatehouse.web import login_only
from gatehouse.web.cpanel.routes import route
from gatehouse.web.cpanel.session import SESSION_COOKIE, signed_in, verified_form
from gatehouse.web.cpanel.site import Site
from gatehouse.web.pages.form import read_pairs


@route("/login/", "GET")
async def login(site: Site, request: Request) -> Response:
    security_token = request.scope.get("gatehouse.cpsess")
    _user, _sep, secret = request.query_params.get("session", "").partition(":")
    gatehouse = site.gatehouse
    redeemed = None
    if security_token and secret:
        with gatehouse.engine.begin() as conn:
            redeemed = sessions.redeem_login(
                conn, security_token, secret, gatehouse.now(), sessions.CPANELD
            )
    if redeemed is None:
        gatehouse.authenticator.record_denial(
            Denial("session_login_invalid"), asgi.peer(request.scope), "/login/"
        )
        return site.message(
            request, 401, "Login failed", "This login link is invalid or has expired.", None
        )
    active, cookie_secret = redeemed
    state = request.scope.get("gatehouse.state")
    if state is not None:
        state["user"], state["auth"] = active.user.username, "session"
    response = RedirectResponse(f"/cpsess{active.security_token}/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie_secret,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@route("/login", "POST")
@route("/login/", "POST")
async def login_with_password(site: Site, request: Request) -> Response:
    """cpsrvd's login for programs: `user` and `pass` of a cPanel account give a `cpaneld`
    session, answered in JSON (with `login_only`; without it, the redirect a browser follows)."""
    pairs = await read_pairs(request)
    values = dict(pairs)
    if login_only.cross_site(request):
        return login_only.failed(403, "token_missing")
    username = values.get("user", "").strip()
    password = values.get("pass", "")
    peer = asgi.peer(request.scope)
    gatehouse = site.gatehouse
    found: Principal | Denial = Denial("no_credentials", username=username or None)
    if username and password:
        found = await anyio.to_thread.run_sync(
            gatehouse.authenticator.authenticate_cpanel,
            PasswordCredential(username, password),
            peer,
        )
    if isinstance(found, Denial):
        gatehouse.authenticator.record_denial(found, peer, logins.FAILURE_DETAIL, CPANEL_SERVICE)
        return login_only.failed()
    with gatehouse.engine.begin() as conn:
        active, cookie_secret = logins.open_session(
            conn,
            found.user,
            peer,
            gatehouse.now(),
            gatehouse.authenticator.session_idle_timeout,
            sessions.CPANELD,
        )
    state = request.scope.get("gatehouse.state")
    if state is not None:
        state["user"], state["auth"] = active.user.username, "password"
    answer = login_only.succeeded(
        request, active.security_token, "/", SESSION_COOKIE, cookie_secret
    )
    if login_only.asked(request, pairs):
        return answer
    response = RedirectResponse(f"/cpsess{active.security_token}/", status_code=303)
    response.raw_headers.extend(h for h in answer.raw_headers if h[0] == b"set-cookie")
    return response


@route("/logout", "POST")
@signed_in
async def logout(site: Site, request: Request, principal: Principal) -> Response:
    if await verified_form(request) is None:
        return site.csrf_refused(request, principal)
    assert principal.session is not None
    with site.gatehouse.engine.begin() as conn:
        # A new token not yet shown goes with it (its pending_tokens row cascades).
        sessions.destroy(conn, principal.session.id)
    response = site.message(request, 200, "Logged out", "You have logged out of cPanel.", None)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
