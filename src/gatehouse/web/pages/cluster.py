"""DNS Cluster (WHM › Clusters): the peers this node pushes its zones to, each with its role,
queue, last delivery and the failure it is in; add, check, sync, change the role, remove —
each through the gatehouse extension of WHM API 1 of the same purpose (so the checks, the
wording and the audit are the API's). A link to the Remote Access Key page, as cPanel's has."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gatehouse.auth.authenticator import Principal
from gatehouse.domain.cluster_peers import ROLES
from gatehouse.web.pages.form import Form
from gatehouse.web.pages.render import reason, url
from gatehouse.web.pages.routes import route
from gatehouse.web.pages.session import signed_in, verified_form
from gatehouse.web.pages.site import Site

ADD_FIELDS = ("host", "port", "user", "token", "role")
ADD_BOXES = ("http", "verify_tls")
PEER_FIELDS = ("host", "port")
DONE = {
    "added": "The peer was added; its zones are being sent.",
    "removed": "The peer was removed.",
    "role": "The role was changed.",
    "synced": "Every zone was queued for the peer.",
    "checked": "The peer answers and accepts its token.",
}


@route("/cluster", "GET")
@signed_in
async def cluster(site: Site, request: Request, principal: Principal) -> Response:
    return await _page(site, request, principal, Form(), 200)


async def _page(
    site: Site, request: Request, principal: Principal, form: Form, status: int
) -> Response:
    outcome = await site.call(request, principal, "gatehouse_list_cluster_peers", [])
    if not outcome.ok:
        return site.render.denied(request, principal, outcome)
    return site.render.page(
        request,
        "cluster.html",
        status,
        principal=principal,
        peers=outcome.payload["data"]["peers"],
        roles=ROLES,
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
    boxes: tuple[str, ...] = (),
) -> Response:
    """Run `function` with the posted `fields` (and `boxes`, checkboxes: 1 when ticked, else
    0 — an unticked box is absent from a form, and the API's default is not what the user
    chose); back to the page with `done`, or the page with the refusal (400). The token is
    never put back into the form."""
    pairs = await verified_form(request)
    if pairs is None:
        return site.render.csrf_refused(request)
    posted = dict(pairs)
    values = [(name, posted.get(name, "").strip()) for name in fields if name in posted]
    values += [(box, "1" if posted.get(box) else "0") for box in boxes]
    outcome = await site.call(request, principal, function, values)
    if not outcome.ok:
        if outcome.status in (401, 403):
            return site.render.denied(request, principal, outcome)
        shown = {k: v for k, v in values if k != "token"}
        return await _page(site, request, principal, _with_error(Form(shown), reason(outcome)), 400)
    problem = outcome.payload["data"].get("problem")  # a check that found the peer failing
    if problem:
        return await _page(site, request, principal, _with_error(Form(), str(problem)), 200)
    return RedirectResponse(url(request, "cluster", done=done), status_code=303)


def _with_error(form: Form, message: str) -> Form:
    form.errors["action"] = message
    return form


@route("/cluster/add", "POST")
@signed_in
async def add(site: Site, request: Request, principal: Principal) -> Response:
    return await _act(
        site, request, principal, "gatehouse_add_cluster_peer", ADD_FIELDS, "added", ADD_BOXES
    )


@route("/cluster/remove", "POST")
@signed_in
async def remove(site: Site, request: Request, principal: Principal) -> Response:
    return await _act(
        site, request, principal, "gatehouse_remove_cluster_peer", PEER_FIELDS, "removed"
    )


@route("/cluster/role", "POST")
@signed_in
async def role(site: Site, request: Request, principal: Principal) -> Response:
    return await _act(
        site, request, principal, "gatehouse_set_cluster_peer_role", (*PEER_FIELDS, "role"), "role"
    )


@route("/cluster/sync", "POST")
@signed_in
async def sync(site: Site, request: Request, principal: Principal) -> Response:
    return await _act(
        site, request, principal, "gatehouse_sync_cluster_peer", PEER_FIELDS, "synced"
    )


@route("/cluster/check", "POST")
@signed_in
async def check(site: Site, request: Request, principal: Principal) -> Response:
    return await _act(
        site, request, principal, "gatehouse_check_cluster_peer", PEER_FIELDS, "checked"
    )
