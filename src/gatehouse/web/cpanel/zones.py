"""The Zone Editor: the account's zones and their records — list, add, edit, delete — over
`DomainInfo::list_domains`, `DNS::parse_zone` and `DNS::mass_edit_zone` run as the account.

Every change carries the serial the page was read at: if the zone changed since (another tab,
an API client), `mass_edit_zone` refuses it as stale and the page says so, changing nothing."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gatehouse.auth.authenticator import Principal
from gatehouse.web.cpanel import zone_form
from gatehouse.web.cpanel.routes import route
from gatehouse.web.cpanel.session import signed_in, verified_form
from gatehouse.web.cpanel.site import Site, UapiAnswer
from gatehouse.web.pages.form import Form
from gatehouse.web.pages.render import url

DONE = {
    "added": "The record was added.",
    "saved": "The record was saved.",
    "deleted": "The record was deleted.",
}


async def _zones(site: Site, request: Request, principal: Principal) -> list[str]:
    listed = await site.uapi(request, principal, "DomainInfo", "list_domains", [])
    if not listed.ok:
        return []
    data: dict[str, Any] = listed.data
    return [data["main_domain"], *data.get("addon_domains", []), *data.get("parked_domains", [])]


async def _zone_page(
    site: Site,
    request: Request,
    principal: Principal,
    zone: str,
    *,
    add: Form | None = None,
    error: str = "",
    status: int = 200,
) -> Response:
    zones = await _zones(site, request, principal)
    if zone not in zones:
        zone = zones[0] if zones else ""
    parsed = await site.uapi(request, principal, "DNS", "parse_zone", [("zone", zone)])
    if not parsed.ok:
        return site.message(request, 400, "Zone Editor", parsed.reason, principal)
    rows, serial = zone_form.records(parsed.data)
    done = DONE.get(request.query_params.get("done", ""), "")
    return site.page(
        request,
        "zones.html",
        principal,
        status,
        zones=zones,
        zone=zone,
        rows=rows,
        serial=serial,
        types=zone_form.TYPES,
        add=add or Form({"ttl": "14400", "type": "A"}),
        error=error,
        done=done,
    )


async def _mass_edit(
    site: Site, request: Request, principal: Principal, form: Form, op: str
) -> UapiAnswer:
    """One record added or edited through UAPI's DNS::mass_edit_zone, if the zone still has the
    serial the form was read at."""
    item = zone_form.item(form, edit=op == "edit")
    pairs = [("zone", form.values["zone"]), ("serial", form.values["serial"]), (op, item)]
    return await site.uapi(request, principal, "DNS", "mass_edit_zone", pairs)


@route("/zones", "GET")
@signed_in
async def zones(site: Site, request: Request, principal: Principal) -> Response:
    return await _zone_page(site, request, principal, request.query_params.get("zone", ""))


@route("/zones/add", "POST")
@signed_in
async def record_add(site: Site, request: Request, principal: Principal) -> Response:
    pairs = await verified_form(request)
    if pairs is None:
        return site.csrf_refused(request, principal)
    form = zone_form.posted(pairs)
    zone = form.values["zone"]
    changed = await _mass_edit(site, request, principal, form, "add")
    if not changed.ok:
        return await _zone_page(
            site, request, principal, zone, add=form, error=_explained(changed), status=400
        )
    return RedirectResponse(url(request, "zones", zone=zone, done="added"), status_code=303)


@route("/zones/edit", "GET", "POST")
@signed_in
async def record_edit(site: Site, request: Request, principal: Principal) -> Response:
    if request.method == "GET":
        zone = request.query_params.get("zone", "")
        line = request.query_params.get("line", "")
        parsed = await site.uapi(request, principal, "DNS", "parse_zone", [("zone", zone)])
        if not parsed.ok:
            return site.message(request, 400, "Zone Editor", parsed.reason, principal)
        rows, serial = zone_form.records(parsed.data)
        found = next((r for r in rows if str(r["line"]) == line and r["editable"]), None)
        if found is None:
            return site.message(
                request,
                404,
                "No such record",
                "There is no record to edit on that line.",
                principal,
            )
        form = Form(
            {
                "zone": zone,
                "serial": serial,
                "line": line,
                "name": found["name"],
                "ttl": str(found["ttl"]),
                "type": found["type"],
                "value": found["value"],
            }
        )
        return _edit_page(site, request, principal, form)
    pairs = await verified_form(request)
    if pairs is None:
        return site.csrf_refused(request, principal)
    form = zone_form.posted(pairs)
    zone = form.values["zone"]
    changed = await _mass_edit(site, request, principal, form, "edit")
    if not changed.ok:
        form.errors["value"] = _explained(changed)
        return _edit_page(site, request, principal, form, 400)
    return RedirectResponse(url(request, "zones", zone=zone, done="saved"), status_code=303)


@route("/zones/delete", "GET", "POST")
@signed_in
async def record_delete(site: Site, request: Request, principal: Principal) -> Response:
    if request.method == "GET":
        query = request.query_params
        form = Form({k: query.get(k, "") for k in ("zone", "serial", "line", "name", "type")})
        return site.page(request, "record_delete.html", principal, form=form)
    pairs = await verified_form(request)
    if pairs is None:
        return site.csrf_refused(request, principal)
    form = zone_form.posted(pairs)
    zone = form.values["zone"]
    changed = await site.uapi(
        request,
        principal,
        "DNS",
        "mass_edit_zone",
        [("zone", zone), ("serial", form.values["serial"]), ("remove", form.values["line"])],
    )
    if not changed.ok:
        return await _zone_page(
            site, request, principal, zone, error=_explained(changed), status=400
        )
    return RedirectResponse(url(request, "zones", zone=zone, done="deleted"), status_code=303)


def _explained(answer: Any) -> str:
    """The API's reason; for a stale serial, also what to do about it on this page."""
    reason: str = answer.reason
    if isinstance(answer.data, dict) and answer.data.get("type") == "Stale":
        return (
            f"{reason} Nothing was changed: the zone was changed elsewhere since this page "
            "was loaded. Reload the Zone Editor and make the change again."
        )
    return reason


def _edit_page(
    site: Site, request: Request, principal: Principal, form: Form, status: int = 200
) -> Response:
    return site.page(
        request, "record_form.html", principal, status, form=form, types=zone_form.TYPES
    )
