"""Entering and leaving: the one-time `/cpsessN/login/?session=USER:SECRET` URL that
`create_user_session` (service `cpaneld`) hands out becomes the `cpsession` cookie; Log out
ends the session. The account holder may also log in with the account's password, on the
login form at the face's `/` (as cPanel's :2083), and programs as cpsrvd lets them:
`POST /login/?login_only=1` (`gatehouse.web.login_only`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gatehouse.auth.authenticator import Denial, Principal
from gatehouse.domain import last_login, sessions
from gatehouse.http import asgi
from gatehouse.web import login_only, password_login
from gatehouse.web.cpanel.routes import route
from gatehouse.web.cpanel.session import SESSION_COOKIE, signed_in, verified_form
from gatehouse.web.cpanel.site import Site
from gatehouse.web.pages.form import Form, read_pairs
from gatehouse.web.pages.session import (
    LOGIN_CSRF_COOKIE,
    login_csrf_ok,
    login_csrf_token,
    with_login_csrf,
)


@route("/login/", "GET")
async def login(site: Site, request: Request) -> Response:
    """`/cpsessN/login/?session=…` redeems a one-time URL; `/login/` (and the face's `/`,
    which the cPanel face sends here) is the login form."""
    security_token = request.scope.get("gatehouse.cpsess")
    if not security_token:
        notice = "You have logged out." if request.query_params.get("out") else ""
        return _login_page(site, request, Form(), notice=notice)
    _user, _sep, secret = request.query_params.get("session", "").partition(":")
    gatehouse = site.gatehouse
    redeemed = None
    if security_token and secret:
        with gatehouse.engine.begin() as conn:
            redeemed = sessions.redeem_login(
                conn, security_token, secret, gatehouse.now(), sessions.CPANELD
            )
            if redeemed is not None:
                # A login too (a billing system's "log in to cPanel"): where it came from.
                last_login.lastlogin(conn, redeemed[0].user.id, asgi.peer(request.scope))
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
    return password_login.to_session(request, active.security_token, SESSION_COOKIE, cookie_secret)


@route("/login", "POST")
@route("/login/", "POST")
async def login_with_password(site: Site, request: Request) -> Response:
    """A cPanel account's password gives a `cpaneld` session: the login form (with its CSRF
    token), or cpsrvd's login for programs with `login_only` (JSON, no form to carry a token:
    `gatehouse.web.login_only`)."""
    pairs = await read_pairs(request)
    values = dict(pairs)
    programs = login_only.asked(request, pairs)
    if programs and login_only.cross_site(request):
        return login_only.failed(403, "token_missing")
    if not programs and not login_csrf_ok(request, values):
        return site.message(
            request,
            403,
            "Form refused",
            "This form could not be verified (its security token is missing or wrong), so "
            "you were not logged in. Reload the page and try again.",
            None,
        )
    username, password, form = password_login.form_fields(values)
    opened = None
    if not form.errors:
        opened = await password_login.open_session(
            site.gatehouse, request, username, password, sessions.CPANELD
        )
        if opened is None:
            form.errors["pass"] = password_login.INVALID
    if programs:
        if opened is None:
            return login_only.failed()
        active, cookie_secret = opened
        return login_only.succeeded(
            request, active.security_token, "/", SESSION_COOKIE, cookie_secret
        )
    if opened is None:
        return _login_page(site, request, form, 401 if "pass" in form.errors else 400)
    active, cookie_secret = opened
    response = password_login.to_session(
        request, active.security_token, SESSION_COOKIE, cookie_secret
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


def _login_page(
    site: Site, request: Request, form: Form, status: int = 200, notice: str = ""
) -> Response:
    token = login_csrf_token(request)
    response = site.page(
        request, "login.html", None, status, form=form, login_csrf=token, notice=notice
    )
    return with_login_csrf(response, request, token)


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
