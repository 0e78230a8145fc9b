"""Manage AutoSSL (WHM › SSL/TLS): the domains AutoSSL's last checks could not secure, and why,
per account; "Run AutoSSL For All Users" — each through the WHM API 1 function of the same
purpose (listaccts, get_autossl_problems_for_user, start_autossl_check_for_all_users), so the
privileges, wording and audit are the API's (docs/ssl.md#autossl)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gatehouse.auth.authenticator import Principal
from gatehouse.web.pages.render import reason, url
from gatehouse.web.pages.routes import route
from gatehouse.web.pages.session import signed_in, verified_form
from gatehouse.web.pages.site import Site

DONE = {"started": "An AutoSSL check of every account was asked for; it runs in the background."}


@route("/autossl", "GET")
@signed_in
async def autossl_page(site: Site, request: Request, principal: Principal) -> Response:
    return await _page(site, request, principal, None, 200)


async def _page(
    site: Site, request: Request, principal: Principal, error: str | None, status: int
) -> Response:
    accounts = await site.call(request, principal, "listaccts", [("want", "user")])
    if not accounts.ok:
        return site.render.denied(request, principal, accounts)
    problems: list[dict[str, Any]] = []
    for account in accounts.payload["data"]["acct"]:
        user = str(account["user"])
        outcome = await site.call(
            request, principal, "get_autossl_problems_for_user", [("username", user)]
        )
        if not outcome.ok:
            return site.render.denied(request, principal, outcome)
        for item in outcome.payload["data"]["problems_by_domain"]:
            problems.append({**item, "user": user})
    problems.sort(key=lambda p: (p["user"], p["domain"]))
    return site.render.page(
        request,
        "autossl.html",
        status,
        principal=principal,
        problems=problems,
        accounts=len(accounts.payload["data"]["acct"]),
        done=DONE.get(request.query_params.get("done", "")),
        error=error,
    )


@route("/autossl/run", "POST")
@signed_in
async def run(site: Site, request: Request, principal: Principal) -> Response:
    if await verified_form(request) is None:
        return site.render.csrf_refused(request)
    outcome = await site.call(request, principal, "start_autossl_check_for_all_users", [])
    if outcome.status in (401, 403):
        return site.render.denied(request, principal, outcome)
    if not outcome.ok:
        return await _page(site, request, principal, reason(outcome), 400)
    return RedirectResponse(url(request, "autossl", done="started"), status_code=303)
