"""WHM › SSL/TLS: Manage SSL Hosts (the installed certificates — domain, account, issuer,
expiry and days left, the names each covers — with Uninstall) and Install an SSL Certificate
on a Domain (paste the certificate, its key and the CA bundle). Each runs the WHM API 1
function of the same purpose as the signed-in user (fetch_ssl_vhosts, installssl,
delete_ssl_vhost), so the privileges (`ssl-info` to see, `ssl` to change), a reseller's reach
(its own accounts' domains), the checks, their wording and the audit are the API's
(docs/ssl.md).

A pasted private key is sent to installssl and never put back into a page, even when the
install is refused."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gatehouse import acls
from gatehouse.auth.authenticator import Principal
from gatehouse.web.pages import ssl_rows
from gatehouse.web.pages.form import Form, FormTooLarge
from gatehouse.web.pages.render import reason, url
from gatehouse.web.pages.routes import route
from gatehouse.web.pages.session import signed_in, verified_form
from gatehouse.web.pages.site import Site

FIELDS = ("domain", "crt", "key", "cab")
EMPTY = {
    "domain": "Give the domain to install the certificate on.",
    "crt": "Paste the certificate.",
    "key": "Paste the certificate's private key.",
}


@route("/ssl", "GET")
@signed_in
async def hosts(site: Site, request: Request, principal: Principal) -> Response:
    return await _hosts_page(site, request, principal, None, 200)


async def _hosts_page(
    site: Site, request: Request, principal: Principal, error: str | None, status: int
) -> Response:
    # What is installed is fetch_ssl_vhosts' (listcrts lists the caller's SSL storage).
    outcome = await site.call(request, principal, "fetch_ssl_vhosts", [])
    if not outcome.ok:
        return site.render.denied(request, principal, outcome)
    now = site.gatehouse.now()
    rows = []
    for vhost in outcome.payload["data"]["vhosts"]:
        row = ssl_rows.certificate(vhost["crt"], now)
        row.update(domain=vhost["servername"], user=vhost["user"])
        row["days"] = ssl_rows.days_text(row)
        rows.append(row)
    rows.sort(key=lambda r: r["domain"])
    done = request.query_params.get("done", "")
    domain = request.query_params.get("domain", "")
    notice = {
        "installed": f"The certificate was installed on “{domain}”.",
        "uninstalled": f"The certificate of “{domain}” was uninstalled.",
    }.get(done)
    return site.render.page(
        request,
        "ssl_hosts.html",
        status,
        principal=principal,
        rows=rows,
        may_change=acls.holds(principal.privileges, "ssl"),
        autossl=acls.holds(principal.privileges, acls.ALL),
        done=notice,
        error=error,
    )


@route("/ssl/uninstall", "POST")
@signed_in
async def uninstall(site: Site, request: Request, principal: Principal) -> Response:
    pairs = await verified_form(request)
    if pairs is None:
        return site.render.csrf_refused(request)
    host = dict(pairs).get("host", "").strip()
    outcome = await site.call(request, principal, "delete_ssl_vhost", [("host", host)])
    if outcome.status in (401, 403):
        return site.render.denied(request, principal, outcome)
    if not outcome.ok:
        return await _hosts_page(site, request, principal, reason(outcome), 400)
    return RedirectResponse(url(request, "ssl", done="uninstalled", domain=host), status_code=303)


@route("/ssl/install", "GET", "POST")
@signed_in
async def install(site: Site, request: Request, principal: Principal) -> Response:
    if request.method == "GET":
        if not acls.holds(principal.privileges, "ssl"):
            return site.render.message(
                request,
                403,
                "Not allowed",
                "Installing a certificate needs the “ssl” privilege.",
            )
        form = Form({"domain": request.query_params.get("domain", "")})
        return _install_page(site, request, principal, form, 200)
    try:
        pairs = await verified_form(request)
    except FormTooLarge:
        form = Form(errors={"action": ssl_rows.TOO_LARGE})
        return _install_page(site, request, principal, form, 413)
    if pairs is None:
        return site.render.csrf_refused(request)
    posted = dict(pairs)
    values = {name: posted.get(name, "").strip() for name in FIELDS}
    form = Form({k: v for k, v in values.items() if k != "key"})  # the key is never echoed
    for name, words in EMPTY.items():
        if not values[name]:
            form.errors[name] = words
    if form.errors:
        return _install_page(site, request, principal, form, 400)
    params = [(name, values[name]) for name in FIELDS if values[name]]
    outcome = await site.call(request, principal, "installssl", params)
    if outcome.status in (401, 403):
        return site.render.denied(request, principal, outcome)
    if not outcome.ok:
        form.errors[ssl_rows.field_of(reason(outcome))] = reason(outcome)
        return _install_page(site, request, principal, form, 400)
    domain = str(outcome.payload["data"]["domain"])
    return RedirectResponse(url(request, "ssl", done="installed", domain=domain), status_code=303)


def _install_page(
    site: Site, request: Request, principal: Principal, form: Form, status: int
) -> Response:
    return site.render.page(
        request,
        "ssl_install.html",
        status,
        principal=principal,
        form=form,
        autossl=acls.holds(principal.privileges, acls.ALL),
    )
