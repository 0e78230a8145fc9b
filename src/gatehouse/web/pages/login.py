"""Log in (root and resellers, with their password) and log out.

A login checks the password as Basic auth does (Argon2, in a worker thread, admitted by
cPHulk first) and opens a `whostmgrd` session; failed logins are audited and counted by
cPHulk, and a refusal by cPHulk looks like any failed login. The login form
has its own CSRF token, bound to a short-lived HttpOnly cookie. With `login_only=1` it is
cpsrvd's login for programs instead: JSON, no page (`gatehouse.web.login_only`).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gatehouse.auth.authenticator import Principal
from gatehouse.domain import sessions
from gatehouse.web import login_only, password_login
from gatehouse.web.pages.form import Form, read_pairs
from gatehouse.web.pages.routes import route
from gatehouse.web.pages.session import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    login_csrf_ok,
    login_csrf_token,
    signed_in,
    verified_form,
    with_login_csrf,
)
from gatehouse.web.pages.site import Site


@route("/login/", "GET")
async def login_form(site: Site, request: Request) -> Response:
    notice = "You have logged out." if request.query_params.get("out") else ""
    return _login_page(site, request, Form(), notice=notice)


def _login_page(
    site: Site, request: Request, form: Form, status: int = 200, notice: str = ""
) -> Response:
    token = login_csrf_token(request)
    request.scope["gatehouse.cpsess"] = None
    response = site.render.page(
        request, "login.html", status, form=form, login_csrf=token, notice=notice
    )
    return with_login_csrf(response, request, token)


@route("/login", "GET")
async def login_without_slash(site: Site, request: Request) -> Response:
    """The form is at `/login/` (POST `/login` is a login too: see `login`)."""
    query = request.url.query
    return RedirectResponse("/login/" + (f"?{query}" if query else ""), status_code=307)


@route("/login", "POST")  # cPanel's own Perl client posts here, without the slash
@route("/login/", "POST")
async def login(site: Site, request: Request) -> Response:
    pairs = await read_pairs(request)
    values = dict(pairs)
    if login_only.asked(request, pairs):
        return await _login_for_programs(site, request, values)
    if not login_csrf_ok(request, values):
        return site.render.csrf_refused(request)
    username, password, form = password_login.form_fields(values)
    if form.errors:
        return _login_page(site, request, form, 400)
    opened = await password_login.open_session(
        site.gatehouse, request, username, password, sessions.WHOSTMGRD
    )
    if opened is None:
        form.errors["pass"] = password_login.INVALID
        return _login_page(site, request, form, 401)
    active, cookie_secret = opened
    response = password_login.to_session(
        request, active.security_token, SESSION_COOKIE, cookie_secret
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


async def _login_for_programs(site: Site, request: Request, values: dict[str, str]) -> Response:
    """`login_only=1`: cpsrvd's JSON answer (`gatehouse.web.login_only`), no page."""
    if login_only.cross_site(request):
        return login_only.failed(403, "token_missing")
    username = values.get("user", "").strip()
    password = values.get("pass", "")
    if not username or not password:
        return login_only.failed()
    opened = await password_login.open_session(
        site.gatehouse, request, username, password, sessions.WHOSTMGRD
    )
    if opened is None:
        return login_only.failed()
    active, cookie_secret = opened
    return login_only.succeeded(request, active.security_token, "/", SESSION_COOKIE, cookie_secret)


@route("/logout", "POST")
@signed_in
async def logout(site: Site, request: Request, principal: Principal) -> Response:
    if await verified_form(request) is None:
        return site.render.csrf_refused(request)
    assert principal.session is not None
    with site.gatehouse.engine.begin() as conn:
        # A new token not yet shown goes with it (its pending_tokens row cascades).
        sessions.destroy(conn, principal.session.id)
    response = RedirectResponse("/login/?out=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
