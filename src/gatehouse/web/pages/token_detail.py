"""One API token in detail (issue 17 §8, docs/governance.md): its settings, its last use, the
functions it has called with their last result (refusals included), the ACL its use suggests,
and one button to tighten it to that — through `api_token_list`,
`gatehouse_get_api_token_usage` and `gatehouse_tighten_api_token` as the signed-in user, and,
for root, the token's refusals from the audit trail (`gatehouse_read_audit_log`)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gatehouse import acls
from gatehouse.auth.authenticator import Principal
from gatehouse.web.pages.render import reason, url
from gatehouse.web.pages.routes import route
from gatehouse.web.pages.session import signed_in, verified_form
from gatehouse.web.pages.site import Site

REFUSALS_SHOWN = 20


@route("/tokens/detail", "GET")
@signed_in
async def token_detail(site: Site, request: Request, principal: Principal) -> Response:
    name = request.query_params.get("name", "")
    listed = await site.call(request, principal, "api_token_list", [])
    if not listed.ok:
        return site.render.denied(request, principal, listed)
    token = listed.payload["data"]["tokens"].get(name)
    if token is None:
        return site.render.message(
            request, 404, "No such token", f"There is no API token named “{name}”."
        )
    usage = await site.call(
        request, principal, "gatehouse_get_api_token_usage", [("token_name", name)]
    )
    if not usage.ok:
        return site.render.denied(request, principal, usage)
    refusals = []
    if acls.holds(principal.privileges, acls.ALL):
        audit = await site.call(
            request,
            principal,
            "gatehouse_read_audit_log",
            [("token_name", name), ("action", "AUTHFAILURE"), ("limit", str(REFUSALS_SHOWN))],
        )
        if audit.ok:
            refusals = list(reversed(audit.payload["data"]["entries"]))
    return site.render.page(
        request,
        "token_detail.html",
        principal=principal,
        token=token,
        usage=usage.payload["data"],
        refusals=refusals,
        done=request.query_params.get("done", ""),
        error=request.query_params.get("error", ""),
    )


@route("/tokens/tighten", "POST")
@signed_in
async def token_tighten(site: Site, request: Request, principal: Principal) -> Response:
    pairs = await verified_form(request)
    if pairs is None:
        return site.render.csrf_refused(request)
    name = dict(pairs).get("name", "")
    outcome = await site.call(
        request, principal, "gatehouse_tighten_api_token", [("token_name", name)]
    )
    if outcome.status in (401, 403):
        return site.render.denied(request, principal, outcome)
    if not outcome.ok:
        return RedirectResponse(
            url(request, "tokens/detail", name=name, error=reason(outcome)), status_code=303
        )
    return RedirectResponse(url(request, "tokens/detail", name=name, done="tightened"), 303)
