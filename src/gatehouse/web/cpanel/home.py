"""The home page (the account, its domain, where it last logged in from, and what it can do
here) and the pages' script and stylesheet (the WHM pages' own files)."""

from __future__ import annotations

from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response

from gatehouse.auth.authenticator import Principal
from gatehouse.web.cpanel import integration
from gatehouse.web.cpanel.routes import route
from gatehouse.web.cpanel.session import signed_in
from gatehouse.web.cpanel.site import Site
from gatehouse.web.pages import shell


@route("/", "GET")
@signed_in
async def home(site: Site, request: Request, principal: Principal) -> Response:
    groups = await integration.visible_links(site, request, principal)
    # Jupiter's home page shows "Last Login IP Address" by calling the UAPI function, which
    # records this browser's address as it answers (base/frontend/jupiter/tools/index.tt).
    last = await site.uapi(request, principal, "LastLogin", "get_last_or_current_logged_in_ip", [])
    return site.page(
        request,
        "home.html",
        principal,
        domain=principal.user.domain,
        link_groups=groups,
        last_login=last.data if last.ok else "",
    )


@route("/static/{name}", "GET")
async def static(site: Site, request: Request) -> Response:
    """The WHM pages' script and stylesheet, served by their own page (it uses no site)."""
    return await shell.static(cast(Any, site), request)
