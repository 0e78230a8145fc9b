"""cPHulk Brute Force Protection (root only): the status, the white and black lists, the
blocks in force and the main limits, each change through the WHM API 1 cPHulk function of the
same purpose (so checks, wording and audit are the API's)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gatehouse import acls
from gatehouse.api import dispatch
from gatehouse.auth.authenticator import Principal
from gatehouse.web.pages.form import Form
from gatehouse.web.pages.render import reason, url
from gatehouse.web.pages.routes import route
from gatehouse.web.pages.session import signed_in, verified_form
from gatehouse.web.pages.site import Site

LIMITS = (
    ("max_failures_byip", "Failures from one address before it is blocked"),
    ("ip_brute_force_period_mins", "Address window and block, in minutes"),
    ("max_failures", "Failures for one username before its password logins are locked"),
    ("brute_force_period_mins", "Username window and lock, in minutes"),
)
DONE = {
    "added": "The record was added.",
    "removed": "The record was removed.",
    "unblocked": "The address was unblocked.",
    "unlocked": "The username was unlocked.",
    "enabled": "cPHulk is enabled.",
    "disabled": "cPHulk is disabled: nothing is counted and no block or list applies.",
    "saved": "The limits were saved.",
}
SKIP = ("skip_enabled_check", "1")


@route("/cphulk", "GET")
@signed_in
async def cphulk(site: Site, request: Request, principal: Principal) -> Response:
    return await _page(site, request, principal, Form(), 200)


async def _page(
    site: Site, request: Request, principal: Principal, form: Form, status: int
) -> Response:
    if not acls.holds(principal.privileges, acls.ALL):
        return site.render.message(
            request, 403, "Not allowed", "cPHulk Brute Force Protection is root's alone."
        )
    data: dict[str, Any] = {}
    for key, function, pairs in (
        ("status", "cphulk_status", []),
        ("config", "load_cphulk_config", []),
        ("white", "read_cphulk_records", [("list_name", "white"), SKIP]),
        ("black", "read_cphulk_records", [("list_name", "black"), SKIP]),
        ("brutes", "get_cphulk_brutes", []),
        ("excessive", "get_cphulk_excessive_brutes", []),
        ("users", "get_cphulk_user_brutes", []),
    ):
        outcome = await site.call(request, principal, function, pairs)
        if not outcome.ok:
            return site.render.denied(request, principal, outcome)
        data[key] = outcome.payload["data"]
    return site.render.page(
        request,
        "cphulk.html",
        status,
        principal=principal,
        data=data,
        limits=LIMITS,
        form=form,
        done=DONE.get(request.query_params.get("done", "")),
    )


async def _act(
    site: Site,
    request: Request,
    principal: Principal,
    function: str,
    fields: tuple[str, ...],
    done: str,
    extra: tuple[tuple[str, str], ...] = (),
) -> Response:
    """Run `function` with the posted `fields`; back to the page with `done`, or the page with
    the refusal in the form (400)."""
    pairs = await verified_form(request)
    if pairs is None:
        return site.render.csrf_refused(request)
    posted = dict(pairs)
    values = [(name, posted.get(name, "").strip()) for name in fields]
    outcome = await site.call(request, principal, function, [*values, *extra])
    if not outcome.ok:
        return await _refused(site, request, principal, outcome, dict(values))
    return RedirectResponse(url(request, "cphulk", done=done), status_code=303)


async def _refused(
    site: Site,
    request: Request,
    principal: Principal,
    outcome: dispatch.Outcome,
    values: dict[str, str],
) -> Response:
    if outcome.status in (401, 403):
        return site.render.denied(request, principal, outcome)
    form = Form(values)
    form.errors["action"] = reason(outcome)
    return await _page(site, request, principal, form, 400)


@route("/cphulk/add", "POST")
@signed_in
async def add(site: Site, request: Request, principal: Principal) -> Response:
    return await _act(
        site,
        request,
        principal,
        "create_cphulk_record",
        ("list_name", "ip", "comment"),
        "added",
        (SKIP,),
    )


@route("/cphulk/remove", "POST")
@signed_in
async def remove(site: Site, request: Request, principal: Principal) -> Response:
    return await _act(
        site, request, principal, "delete_cphulk_record", ("list_name", "ip"), "removed", (SKIP,)
    )


@route("/cphulk/unblock", "POST")
@signed_in
async def unblock(site: Site, request: Request, principal: Principal) -> Response:
    return await _act(
        site, request, principal, "flush_cphulk_login_history_for_ips", ("ip",), "unblocked"
    )


@route("/cphulk/unlock", "POST")
@signed_in
async def unlock(site: Site, request: Request, principal: Principal) -> Response:
    return await _act(
        site, request, principal, "gatehouse_unlock_cphulk_user", ("user",), "unlocked"
    )


@route("/cphulk/switch", "POST")
@signed_in
async def switch(site: Site, request: Request, principal: Principal) -> Response:
    pairs = await verified_form(request)
    if pairs is None:
        return site.render.csrf_refused(request)
    on = dict(pairs).get("enable") == "1"
    function = "enable_cphulk" if on else "disable_cphulk"
    outcome = await site.call(request, principal, function, [])
    if not outcome.ok:
        return await _refused(site, request, principal, outcome, {})
    return RedirectResponse(
        url(request, "cphulk", done="enabled" if on else "disabled"), status_code=303
    )


@route("/cphulk/limits", "POST")
@signed_in
async def limits(site: Site, request: Request, principal: Principal) -> Response:
    return await _act(
        site, request, principal, "save_cphulk_config", tuple(k for k, _ in LIMITS), "saved"
    )
