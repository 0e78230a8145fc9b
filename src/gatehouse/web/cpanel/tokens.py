"""Manage API Tokens for the account's cPanel tokens: the list, Create (and the new token's
one view), Rename, Revoke — `Tokens::list`, `create_full_access`, `rename` and `revoke` run
as the account. The token is shown once, from the store (`pages/pending.py`: encrypted, read
and deleted in one statement), never from a URL or a cookie."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gatehouse.auth.authenticator import Principal
from gatehouse.web.cpanel.routes import route
from gatehouse.web.cpanel.session import signed_in, verified_form
from gatehouse.web.cpanel.site import Site
from gatehouse.web.pages import pending
from gatehouse.web.pages.form import Form
from gatehouse.web.pages.render import url

MODULE = "Tokens"


def _done(request: Request) -> str:
    done = request.query_params.get("done")
    name = request.query_params.get("name", "")
    return {
        "created": f"The API token “{name}” was created.",
        "renamed": f"The API token was renamed to “{name}”.",
        "revoked": f"The API token “{name}” was revoked.",
    }.get(done or "", "")


@route("/tokens", "GET")
@signed_in
async def tokens(site: Site, request: Request, principal: Principal) -> Response:
    listed = await site.uapi(request, principal, MODULE, "list", [])
    if not listed.ok:
        return site.message(request, 400, "Not allowed", listed.reason, principal)
    rows: list[dict[str, Any]] = sorted(listed.data, key=lambda t: str(t["name"]).lower())
    return site.page(request, "tokens.html", principal, rows=rows, done=_done(request))


@route("/tokens/detail", "GET")
@signed_in
async def token_detail(site: Site, request: Request, principal: Principal) -> Response:
    """One token: its settings, its last use and what it has called (issue 17 §8)."""
    name = request.query_params.get("name", "")
    found = await site.uapi(request, principal, MODULE, "gatehouse_get_usage", [("name", name)])
    if not found.ok:
        return site.message(request, 404, "No such token", found.reason, principal)
    return site.page(request, "token_detail.html", principal, token=found.data)


@route("/tokens/new", "GET", "POST")
@signed_in
async def token_new(site: Site, request: Request, principal: Principal) -> Response:
    if request.method == "GET":
        return _form(site, request, principal, Form(), renaming=False)
    pairs = await verified_form(request)
    if pairs is None:
        return site.csrf_refused(request, principal)
    name = dict(pairs).get("name", "").strip()
    form = Form({"name": name})
    created = await site.uapi(request, principal, MODULE, "create_full_access", [("name", name)])
    if not created.ok:
        form.errors["name"] = created.reason
        return _form(site, request, principal, form, renaming=False, status=400)
    await pending.put(site.gatehouse, principal, {"name": name, **created.data})
    return RedirectResponse(url(request, "tokens/created"), status_code=303)


@route("/tokens/created", "GET")
@signed_in
async def token_created(site: Site, request: Request, principal: Principal) -> Response:
    data = await pending.take(site.gatehouse, principal)
    if data is None:
        # Already shown (a reload, the back button): it is gone for good.
        return RedirectResponse(url(request, "tokens"), status_code=303)
    return site.page(request, "token_created.html", principal, token=data, bare=True)


@route("/tokens/saved", "POST")
@signed_in
async def token_saved(site: Site, request: Request, principal: Principal) -> Response:
    pairs = await verified_form(request)
    if pairs is None:
        return site.csrf_refused(request, principal)
    name = dict(pairs).get("name", "")
    return RedirectResponse(url(request, "tokens", done="created", name=name), status_code=303)


@route("/tokens/rename", "GET", "POST")
@signed_in
async def token_rename(site: Site, request: Request, principal: Principal) -> Response:
    if request.method == "GET":
        name = request.query_params.get("name", "")
        form = Form({"name": name, "original_name": name})
        return _form(site, request, principal, form, renaming=True)
    pairs = await verified_form(request)
    if pairs is None:
        return site.csrf_refused(request, principal)
    values = dict(pairs)
    original, name = values.get("original_name", ""), values.get("name", "").strip()
    form = Form({"name": name, "original_name": original})
    renamed = await site.uapi(
        request, principal, MODULE, "rename", [("name", original), ("new_name", name)]
    )
    if not renamed.ok:
        form.errors["name"] = renamed.reason
        return _form(site, request, principal, form, renaming=True, status=400)
    return RedirectResponse(url(request, "tokens", done="renamed", name=name), status_code=303)


@route("/tokens/revoke", "GET", "POST")
@signed_in
async def token_revoke(site: Site, request: Request, principal: Principal) -> Response:
    if request.method == "GET":
        name = request.query_params.get("name", "")
        return site.page(request, "revoke.html", principal, token_name=name)
    pairs = await verified_form(request)
    if pairs is None:
        return site.csrf_refused(request, principal)
    name = dict(pairs).get("name", "")
    revoked = await site.uapi(request, principal, MODULE, "revoke", [("name", name)])
    if not revoked.ok:
        return site.message(request, 400, "Not revoked", revoked.reason, principal)
    return RedirectResponse(url(request, "tokens", done="revoked", name=name), status_code=303)


def _form(
    site: Site,
    request: Request,
    principal: Principal,
    form: Form,
    *,
    renaming: bool,
    status: int = 200,
) -> Response:
    return site.page(request, "token_form.html", principal, status, form=form, renaming=renaming)
