"""The shell: the home page with WHM's left-hand menu, and the script and stylesheet."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from gatehouse.auth.authenticator import Principal
from gatehouse.web.pages import login
from gatehouse.web.pages.routes import route
from gatehouse.web.pages.session import signed_in
from gatehouse.web.pages.site import Site

STATIC_DIR = Path(__file__).parent.parent / "static"
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@route("/", "GET")
async def home(site: Site, request: Request) -> Response:
    """`/cpsessN/` is the home page; `/` without a session prefix is the login page."""
    if not request.scope.get("gatehouse.cpsess"):
        return await login.login_form(site, request)
    return await _home(site, request)


@signed_in
async def _home(site: Site, request: Request, principal: Principal) -> Response:
    return site.render.page(request, "home.html", principal=principal)


@route("/static/{name}", "GET")
async def static(site: Site, request: Request) -> Response:
    name = request.path_params["name"]
    path = STATIC_DIR / name
    if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES:
        return Response("Not Found\n", 404, media_type="text/plain")
    try:
        content = path.read_bytes()
    except OSError:
        return Response("Not Found\n", 404, media_type="text/plain")
    return Response(
        content,
        headers={"cache-control": "public, max-age=300"},
        media_type=STATIC_TYPES[path.suffix],
    )
