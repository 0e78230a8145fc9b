"""SSL/TLS for an account: its installed certificates (UAPI SSL::installed_hosts, with
Uninstall: SSL::delete_ssl), install one by pasting (SSL::install_ssl; a refusal next to its
field in the API's words), the certificates and keys in its storage (SSL::list_certs,
SSL::list_keys — public facts only — with Delete: SSL::delete_cert, SSL::delete_key, which
refuse what is installed), and AutoSSL: the problems its last check found
(SSL::get_autossl_problems), whether a check runs (SSL::is_autossl_check_in_progress) and Run
AutoSSL (SSL::start_autossl_check) when the server has AutoSSL configured.

Key material is shown only when asked, by a form (POST, CSRF) run as the account: one stored
certificate with its key (SSL::fetch_cert_info), or one stored key (SSL::show_key). A pasted
key is never put back into a page."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gatehouse.auth.authenticator import Principal
from gatehouse.domain import autossl
from gatehouse.web.cpanel.routes import route
from gatehouse.web.cpanel.session import signed_in, verified_form
from gatehouse.web.cpanel.site import Site
from gatehouse.web.pages import ssl_rows
from gatehouse.web.pages.form import Form, FormTooLarge
from gatehouse.web.pages.render import url

# The form's fields and the UAPI arguments they are sent as.
FIELDS = {"domain": "domain", "crt": "cert", "key": "key", "cab": "cabundle"}
EMPTY = {"domain": "Choose the domain.", "crt": "Paste the certificate."}


@route("/ssl", "GET")
@signed_in
async def ssl_page(site: Site, request: Request, principal: Principal) -> Response:
    return await _page(site, request, principal, Form(), "", 200)


async def _uapi_list(site: Site, request: Request, principal: Principal, func: str) -> list[Any]:
    answer = await site.uapi(request, principal, "SSL", func, [])
    return list(answer.data or []) if answer.ok else []


async def _page(
    site: Site, request: Request, principal: Principal, form: Form, error: str, status: int
) -> Response:
    now = site.gatehouse.now()
    hosts = []
    installed: set[str] = set()  # the ids of what is installed (list_certs does not say)
    for item in await _uapi_list(site, request, principal, "installed_hosts"):
        installed.add(str(item["certificate"]["id"]))
        row = ssl_rows.certificate(item["certificate"], now)
        row.update(domain=item["servername"], days=ssl_rows.days_text(row))
        hosts.append(row)
    hosts.sort(key=lambda r: r["domain"])
    certs = []
    for info in await _uapi_list(site, request, principal, "list_certs"):
        row = ssl_rows.certificate(info, now)
        row.update(
            id=info["id"],
            friendly_name=info.get("friendly_name") or info["id"],
            installed=str(info["id"]) in installed,
            days=ssl_rows.days_text(row),
        )
        certs.append(row)
    keys = await _uapi_list(site, request, principal, "list_keys")
    problems = await _uapi_list(site, request, principal, "get_autossl_problems")
    running = await site.uapi(request, principal, "SSL", "is_autossl_check_in_progress", [])
    domains = await site.uapi(request, principal, "DomainInfo", "list_domains", [])
    names: list[str] = []
    if domains.ok:
        names = [domains.data["main_domain"], *sorted(domains.data.get("sub_domains") or [])]
    done = request.query_params.get("done", "")
    domain = request.query_params.get("domain", "")
    notice = {
        "installed": f"The certificate was installed on “{domain}”.",
        "uninstalled": f"The certificate of “{domain}” was uninstalled.",
        "autossl": "An AutoSSL check of your domains was asked for; it runs in the background.",
        "cert-deleted": "The certificate was deleted from storage.",
        "key-deleted": "The private key was deleted from storage.",
    }.get(done, "")
    return site.page(
        request,
        "ssl.html",
        principal,
        status,
        hosts=hosts,
        certs=certs,
        keys=keys,
        problems=problems,
        running=bool(running.ok and running.data),
        autossl_configured=autossl.configured(site.gatehouse.config),
        domains=names,
        form=form,
        error=error,
        done=notice,
    )


@route("/ssl/install", "POST")
@signed_in
async def install(site: Site, request: Request, principal: Principal) -> Response:
    try:
        pairs = await verified_form(request)
    except FormTooLarge:
        form = Form(errors={"action": ssl_rows.TOO_LARGE})
        return await _page(site, request, principal, form, "", 413)
    if pairs is None:
        return site.csrf_refused(request, principal)
    posted = dict(pairs)
    values = {name: posted.get(name, "").strip() for name in FIELDS}
    form = Form({k: v for k, v in values.items() if k != "key"})  # the key is never echoed
    for name, words in EMPTY.items():
        if not values[name]:
            form.errors[name] = words
    if not form.errors:
        params = [(arg, values[name]) for name, arg in FIELDS.items() if values[name]]
        answer = await site.uapi(request, principal, "SSL", "install_ssl", params)
        if answer.ok:
            target = url(request, "ssl", done="installed", domain=values["domain"])
            return RedirectResponse(target, status_code=303)
        form.errors[ssl_rows.field_of(answer.reason)] = answer.reason
    return await _page(site, request, principal, form, "", 400)


@route("/ssl/uninstall", "POST")
@signed_in
async def uninstall(site: Site, request: Request, principal: Principal) -> Response:
    pairs = await verified_form(request)
    if pairs is None:
        return site.csrf_refused(request, principal)
    domain = dict(pairs).get("domain", "").strip()
    answer = await site.uapi(request, principal, "SSL", "delete_ssl", [("domain", domain)])
    if not answer.ok:
        return await _page(site, request, principal, Form(), answer.reason, 400)
    return RedirectResponse(url(request, "ssl", done="uninstalled", domain=domain), 303)


@route("/ssl/autossl", "POST")
@signed_in
async def run_autossl(site: Site, request: Request, principal: Principal) -> Response:
    if await verified_form(request) is None:
        return site.csrf_refused(request, principal)
    answer = await site.uapi(request, principal, "SSL", "start_autossl_check", [])
    if not answer.ok:
        return await _page(site, request, principal, Form(), answer.reason, 400)
    return RedirectResponse(url(request, "ssl", done="autossl"), status_code=303)


@route("/ssl/show", "POST")
@signed_in
async def show(site: Site, request: Request, principal: Principal) -> Response:
    """One stored certificate with its key and CA bundle, asked for by its owner (a form, so
    never a link a browser could prefetch or keep in its history)."""
    pairs = await verified_form(request)
    if pairs is None:
        return site.csrf_refused(request, principal)
    cert_id = dict(pairs).get("id", "")
    answer = await site.uapi(request, principal, "SSL", "fetch_cert_info", [("id", cert_id)])
    if not answer.ok:
        return site.message(request, 404, "No such certificate", answer.reason, principal)
    info: dict[str, Any] = answer.data
    # fetch_cert_info answers the text, key and bundle (cPanel's fetch_crt_info); the facts
    # shown with them are the certificate's list_certs record.
    facts = next(
        (c for c in await _uapi_list(site, request, principal, "list_certs") if c["id"] == cert_id),
        None,
    )
    if facts is None:
        return site.message(request, 404, "No such certificate", "", principal)
    row = ssl_rows.certificate(facts, site.gatehouse.now())
    row["days"] = ssl_rows.days_text(row)
    bundle = info.get("cabundle") or ""
    return site.page(
        request,
        "ssl_show.html",
        principal,
        info=info,
        row=row,
        friendly_name=facts.get("friendly_name") or cert_id,
        cabundle=bundle if bundle.startswith("-----BEGIN") else "",
    )


@route("/ssl/key", "POST")
@signed_in
async def show_key(site: Site, request: Request, principal: Principal) -> Response:
    """One stored private key, asked for by its owner (a form, as `show`)."""
    pairs = await verified_form(request)
    if pairs is None:
        return site.csrf_refused(request, principal)
    key_id = dict(pairs).get("id", "")
    answer = await site.uapi(request, principal, "SSL", "show_key", [("id", key_id)])
    if not answer.ok:
        return site.message(request, 404, "No such key", answer.reason, principal)
    return site.page(
        request, "ssl_key.html", principal, details=answer.data["details"], key=answer.data["key"]
    )


async def _delete(
    site: Site, request: Request, principal: Principal, func: str, done: str
) -> Response:
    pairs = await verified_form(request)
    if pairs is None:
        return site.csrf_refused(request, principal)
    item = dict(pairs).get("id", "")
    answer = await site.uapi(request, principal, "SSL", func, [("id", item)])
    if not answer.ok:  # e.g. installed on a domain: uninstall it first
        return await _page(site, request, principal, Form(), answer.reason, 400)
    return RedirectResponse(url(request, "ssl", done=done), status_code=303)


@route("/ssl/delete-cert", "POST")
@signed_in
async def delete_cert(site: Site, request: Request, principal: Principal) -> Response:
    return await _delete(site, request, principal, "delete_cert", "cert-deleted")


@route("/ssl/delete-key", "POST")
@signed_in
async def delete_key(site: Site, request: Request, principal: Principal) -> Response:
    return await _delete(site, request, principal, "delete_key", "key-deleted")
