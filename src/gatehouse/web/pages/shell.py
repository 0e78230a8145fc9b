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
# The files there, by name: a requested name is looked up here, never handed to the file
# system (`app.css%00.js` raised ValueError in read_bytes, `..` would climb).
STATIC_FILES = frozenset(p.name for p in STATIC_DIR.iterdir() if p.suffix in STATIC_TYPES)


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
    if name not in STATIC_FILES:
        return Response("Not Found\n", 404, media_type="text/plain")
    path = STATIC_DIR / name
    content = path.read_bytes()
    return Response(
        content,
        headers={"cache-control": "public, max-age=300"},
        media_type=STATIC_TYPES[path.suffix],
    )
