"""Stale API Tokens (root, WHM › Development): every user's live WHM and cPanel tokens unused
for N days (or never used), through the gatehouse extension `gatehouse_list_stale_api_tokens`
(docs/governance.md), with a way to revoke all of one user's tokens from the report."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from gatehouse import acls
from gatehouse.auth.authenticator import Principal
from gatehouse.web.pages.form import Form
from gatehouse.web.pages.render import reason
from gatehouse.web.pages.routes import route
from gatehouse.web.pages.session import signed_in
from gatehouse.web.pages.site import Site


@route("/tokens/stale", "GET")
@signed_in
async def stale_tokens(site: Site, request: Request, principal: Principal) -> Response:
    if not acls.holds(principal.privileges, acls.ALL):
        return site.render.message(request, 403, "Not allowed", "This report is root's alone.")
    days = request.query_params.get("days", "90").strip() or "90"
    outcome = await site.call(
        request, principal, "gatehouse_list_stale_api_tokens", [("days", days)]
    )
    form = Form({"days": days})
    tokens = []
    status = 200
    if outcome.ok:
        tokens = outcome.payload["data"]["tokens"]
    elif outcome.status in (401, 403):
        return site.render.denied(request, principal, outcome)
    else:
        form.errors["days"] = reason(outcome)
        status = 400
    return site.render.page(
        request, "stale_tokens.html", status, principal=principal, tokens=tokens, form=form
    )
