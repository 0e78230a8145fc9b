"""Remote Access Key: show the key, and Generate New Key (WHM API 1 `accesshash`).

While the deprecated access hash is switched off (the `allow_deprecated_accesshash` tweak),
the page says so and calls nothing.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gatehouse.auth.authenticator import Principal
from gatehouse.domain import settings
from gatehouse.web.pages.render import url
from gatehouse.web.pages.routes import route
from gatehouse.web.pages.session import signed_in, verified_form
from gatehouse.web.pages.site import Site


@route("/accesshash", "GET")
@signed_in
async def accesshash(site: Site, request: Request, principal: Principal) -> Response:
    if not _enabled(site):
        return site.render.page(request, "accesshash.html", principal=principal, key=None)
    outcome = await site.call(request, principal, "accesshash", [])
    if not outcome.ok:
        return site.render.denied(request, principal, outcome)
    return site.render.page(
        request,
        "accesshash.html",
        principal=principal,
        key=outcome.payload["data"],
        done=request.query_params.get("done") == "generated",
    )


@route("/accesshash/generate", "GET", "POST")
@signed_in
async def generate(site: Site, request: Request, principal: Principal) -> Response:
    if request.method == "GET":
        return site.render.page(request, "accesshash_confirm.html", principal=principal)
    if await verified_form(request) is None:
        return site.render.csrf_refused(request)
    outcome = await site.call(request, principal, "accesshash", [("generate", "1")])
    if not outcome.ok:
        return site.render.denied(request, principal, outcome)
    return RedirectResponse(url(request, "accesshash", done="generated"), status_code=303)


def _enabled(site: Site) -> bool:
    with site.gatehouse.engine.connect() as conn:
        return settings.enabled(conn, settings.ALLOW_DEPRECATED_ACCESSHASH)
