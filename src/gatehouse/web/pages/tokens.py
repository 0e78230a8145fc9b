"""Manage API Tokens: the list, Generate Token (and the new token's one view), Edit, Revoke.

Every list and change is the WHM API 1 function (`api_token_list`, `_create`, `_update`,
`_revoke`) run as the signed-in user; see `token_form` for how a form maps to it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gatehouse.auth.authenticator import Principal
from gatehouse.web.pages import pending
from gatehouse.web.pages.form import Form
from gatehouse.web.pages.render import reason, url
from gatehouse.web.pages.routes import route
from gatehouse.web.pages.session import signed_in, verified_form
from gatehouse.web.pages.site import Site
from gatehouse.web.pages.token_form import (
    acl_groups,
    attach_error,
    call_params,
    edit_form,
    posted_form,
)
from gatehouse.web.pages.token_list import SORT_KEYS, done_notice, row


@route("/tokens", "GET")
@signed_in
async def tokens(site: Site, request: Request, principal: Principal) -> Response:
    listed = await _list(site, request, principal)
    if isinstance(listed, Response):
        return listed
    now = site.gatehouse.now()
    rows = [row(t, now) for t in listed.values()]
    sort = request.query_params.get("sort", "name")
    if sort not in SORT_KEYS:
        sort = "name"
    descending = request.query_params.get("dir") == "desc"
    rows.sort(key=SORT_KEYS[sort], reverse=descending)
    query = request.query_params.get("q", "").strip()
    if query:
        rows = [r for r in rows if query.lower() in r["name"].lower()]
    return site.render.page(
        request,
        "tokens.html",
        principal=principal,
        rows=rows,
        total=len(listed),
        sort=sort,
        descending=descending,
        query=query,
        done=done_notice(request),
    )


@route("/tokens/new", "GET", "POST")
@signed_in
async def token_new(site: Site, request: Request, principal: Principal) -> Response:
    if request.method == "GET":
        return _form_page(site, request, principal, Form({"everything": True}), False)
    pairs = await verified_form(request)
    if pairs is None:
        return site.render.csrf_refused(request)
    form = posted_form(pairs)
    call = call_params(principal, form, editing=False)
    if form.errors:
        return _form_page(site, request, principal, form, False, 400)
    outcome = await site.call(request, principal, "api_token_create", call)
    if not outcome.ok:
        if outcome.status == 403:
            return site.render.denied(request, principal, outcome)
        attach_error(form, reason(outcome))
        return _form_page(site, request, principal, form, False, 400)
    await pending.put(site.gatehouse, principal, outcome.payload["data"])
    return RedirectResponse(url(request, "tokens/created"), status_code=303)


@route("/tokens/created", "GET")
@signed_in
async def token_created(site: Site, request: Request, principal: Principal) -> Response:
    data = await pending.take(site.gatehouse, principal)
    if data is None:
        # Already shown (a reload, the back button): it is gone for good.
        return RedirectResponse(url(request, "tokens"), status_code=303)
    return site.render.page(
        request, "token_created.html", principal=principal, token=data, bare=True
    )


@route("/tokens/saved", "POST")
@signed_in
async def token_saved(site: Site, request: Request, principal: Principal) -> Response:
    pairs = await verified_form(request)
    if pairs is None:
        return site.render.csrf_refused(request)
    name = dict(pairs).get("name", "")
    return RedirectResponse(url(request, "tokens", done="created", name=name), status_code=303)


@route("/tokens/edit", "GET", "POST")
@signed_in
async def token_edit(site: Site, request: Request, principal: Principal) -> Response:
    if request.method == "GET":
        listed = await _list(site, request, principal)
        if isinstance(listed, Response):
            return listed
        name = request.query_params.get("name", "")
        token = listed.get(name)
        if token is None:
            return site.render.message(
                request, 404, "No such token", f"There is no API token named “{name}”."
            )
        return _form_page(site, request, principal, edit_form(token), True)
    pairs = await verified_form(request)
    if pairs is None:
        return site.render.csrf_refused(request)
    form = posted_form(pairs)
    call = call_params(principal, form, editing=True)
    if form.errors:
        return _form_page(site, request, principal, form, True, 400)
    outcome = await site.call(request, principal, "api_token_update", call)
    if not outcome.ok:
        if outcome.status == 403:
            return site.render.denied(request, principal, outcome)
        attach_error(form, reason(outcome))
        return _form_page(site, request, principal, form, True, 400)
    name = outcome.payload["data"]["name"]
    return RedirectResponse(url(request, "tokens", done="updated", name=name), status_code=303)


@route("/tokens/revoke", "GET", "POST")
@signed_in
async def token_revoke(site: Site, request: Request, principal: Principal) -> Response:
    if request.method == "GET":
        names = [n for n in request.query_params.getlist("name") if n]
        if not names:
            return RedirectResponse(url(request, "tokens", done="none"), status_code=303)
        return site.render.page(request, "revoke.html", principal=principal, names=names)
    pairs = await verified_form(request)
    if pairs is None:
        return site.render.csrf_refused(request)
    names = [v for k, v in pairs if k == "name" and v]
    call = [(f"token_name-{i}", n) for i, n in enumerate(names)]
    outcome = await site.call(request, principal, "api_token_revoke", call)
    if not outcome.ok:
        return site.render.denied(request, principal, outcome)
    return RedirectResponse(
        url(request, "tokens", done="revoked", count=str(len(names))), status_code=303
    )


async def _list(site: Site, request: Request, principal: Principal) -> dict[str, Any] | Response:
    """The tokens `principal` may see, by name; or the page saying why not."""
    outcome = await site.call(request, principal, "api_token_list", [])
    if not outcome.ok:
        return site.render.denied(request, principal, outcome)
    listed: dict[str, Any] = outcome.payload["data"]["tokens"]
    return listed


def _form_page(
    site: Site,
    request: Request,
    principal: Principal,
    form: Form,
    editing: bool,
    status: int = 200,
) -> Response:
    return site.render.page(
        request,
        "token_form.html",
        status,
        principal=principal,
        form=form,
        editing=editing,
        groups=acl_groups(principal),
        today=dt.datetime.fromtimestamp(site.gatehouse.now(), dt.UTC).date().isoformat(),
    )
