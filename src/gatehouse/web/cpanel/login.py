"""Entering and leaving: the one-time `/cpsessN/login/?session=USER:SECRET` URL that
`create_user_session` (service `cpaneld`) hands out becomes the `cpsession` cookie; Log out
ends the session. There is no password form here: billing systems and WHM send the account
holder in with the URL."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gatehouse.auth.authenticator import Denial, Principal
from gatehouse.domain import sessions
from gatehouse.http import asgi
from gatehouse.web.cpanel.routes import route
from gatehouse.web.cpanel.session import SESSION_COOKIE, signed_in, verified_form
from gatehouse.web.cpanel.site import Site


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
