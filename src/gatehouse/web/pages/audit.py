"""Audit Trail (root, WHM › Security Center): the audit trail filtered by user, token,
action, reason, address and time, through the gatehouse extension `gatehouse_read_audit_log`
(so the filters are checked and worded as the API's), with CSV and JSON export of the same
selection."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from gatehouse import acls
from gatehouse.auth.authenticator import Principal
from gatehouse.web.pages.form import Form
from gatehouse.web.pages.render import reason
from gatehouse.web.pages.routes import route
from gatehouse.web.pages.session import signed_in
from gatehouse.web.pages.site import Site

FILTERS = ("user", "token_name", "action", "reason", "ip", "since", "until")
PAGE_LIMIT = "200"
COLUMNS = ("id", "time", "action", "reason", "actor", "subject", "source_ip", "token_name",
           "detail", "repeats")  # fmt: skip


def _filters(request: Request) -> list[tuple[str, str]]:
    return [
        (name, request.query_params.get(name, "").strip())
        for name in FILTERS
        if request.query_params.get(name, "").strip()
    ]


@route("/audit", "GET")
@signed_in
async def audit_page(site: Site, request: Request, principal: Principal) -> Response:
    if not acls.holds(principal.privileges, acls.ALL):
        return site.render.message(request, 403, "Not allowed", "The audit trail is root's alone.")
    filters = _filters(request)
    outcome = await site.call(
        request, principal, "gatehouse_read_audit_log", [*filters, ("limit", PAGE_LIMIT)]
    )
    form = Form(dict(filters))
    entries = []
    status = 200
    if outcome.ok:
        entries = list(reversed(outcome.payload["data"]["entries"]))  # newest first
    elif outcome.status in (401, 403):
        return site.render.denied(request, principal, outcome)
    else:
        form.errors["action"] = reason(outcome)
        status = 400
    query = urlencode(filters)
    return site.render.page(
        request,
        "audit.html",
        status,
        principal=principal,
        entries=entries,
        form=form,
        limit=PAGE_LIMIT,
        export_query=query,
    )


@route("/audit/export", "GET")
@signed_in
async def audit_export(site: Site, request: Request, principal: Principal) -> Response:
    """The selection as a download: `format=csv` (default) or `json`, up to 10,000 entries."""
    if not acls.holds(principal.privileges, acls.ALL):
        return site.render.message(request, 403, "Not allowed", "The audit trail is root's alone.")
    kind = request.query_params.get("format", "csv")
    if kind not in ("csv", "json"):
        return site.render.message(request, 400, "Bad request", "The format is csv or json.")
    outcome = await site.call(
        request,
        principal,
        "gatehouse_read_audit_log",
        [*_filters(request), ("limit", request.query_params.get("limit", "10000"))],
    )
    if not outcome.ok:
        if outcome.status in (401, 403):
            return site.render.denied(request, principal, outcome)
        return site.render.message(request, 400, "Bad request", reason(outcome))
    entries = outcome.payload["data"]["entries"]
    stamp = dt.datetime.fromtimestamp(site.gatehouse.now(), dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    disposition = f'attachment; filename="gatehouse-audit-{stamp}.{kind}"'
    if kind == "json":
        body = json.dumps(entries, indent=1, ensure_ascii=False)
        return Response(
            body,
            media_type="application/json",
            headers={"content-disposition": disposition, "cache-control": "no-store"},
        )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for entry in entries:
        writer.writerow(["" if entry[c] is None else _cell(entry[c]) for c in COLUMNS])
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": disposition, "cache-control": "no-store"},
    )


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run: a leading =, +, - or @ is quoted with '."""
    text = str(value)
    return (
        "'" + text if text[:1] in ("=", "+", "-", "@") and not text.lstrip("-").isdigit() else text
    )
