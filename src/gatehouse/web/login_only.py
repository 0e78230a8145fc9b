"""cpsrvd's login for programs, on both faces: `POST /login/?login_only=1` (or `login_only=1`
in the form) with `user` and `pass` answers JSON instead of a page.

What clients read (recorded answers; cpsrvd itself is compiled): on success HTTP 200
`{"redirect":"/cpsessN/…","security_token":"/cpsessN","status":1}` with the session cookie,
and — cPanel's own Perl client (cPanel::APIClient::Utils::HTTPSession) reads the security
token from it — a `Location` header naming the same page; on failure HTTP 401
`{"message":"invalid_login","status":0}` (a message code of cPanel's login page,
Cpanel/Template/Unauthenticated.pm). Scripts then call `/cpsessN/json-api/…` or
`/cpsessN/execute/…` with the cookie.

There is no CSRF token to send (programs never load the form). A browser on another site
that posts here is refused by its `Origin`, which browsers always send on a cross-site POST
and programs do not: logging a visitor in to someone else's session is the attack a login
form's token exists for.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from gatehouse.web import password_login
from gatehouse.web.pages.form import Pairs

INVALID_LOGIN = "invalid_login"


def asked(request: Request, values: Pairs) -> bool:
    """Whether the login asks for the JSON answer: `login_only` true in the query or form."""
    flag = request.query_params.get("login_only") or dict(values).get("login_only") or ""
    return flag not in ("", "0")  # Perl's truth


def cross_site(request: Request) -> bool:
    """A browser's request from another site (its `Origin` is not this server's)."""
    origin = request.headers.get("origin")
    if origin is None:
        return False
    parts = urlsplit(origin)
    host = request.headers.get("host", "")
    return parts.scheme != request.url.scheme or parts.netloc.lower() != host.lower()


def succeeded(
    request: Request, security_token: str, landing: str, cookie: str, secret: str
) -> Response:
    prefix = f"/cpsess{security_token}"
    redirect = prefix + landing
    response = JSONResponse(
        {"redirect": redirect, "security_token": prefix, "status": 1},
        headers={"location": redirect},
    )
    return password_login.with_private_cookie(response, request, cookie, secret)


def failed(status: int = 401, message: str = INVALID_LOGIN) -> Response:
    return JSONResponse({"message": message, "status": 0}, status_code=status)
