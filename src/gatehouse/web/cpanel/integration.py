"""Following an integration link from the cPanel pages (cPanel's
`frontend/<theme>/integration/index.html?app=APP`): `Integration::fetch_url` as the account,
then a redirect to the `redirect_url` it gives — an http(s) URL only — or a page saying why
not. The home page lists the links (`Integration::gatehouse_list_links`)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from gatehouse.auth.authenticator import Principal
from gatehouse.web.cpanel.routes import route
from gatehouse.web.cpanel.session import signed_in
from gatehouse.web.cpanel.site import Site

MODULE = "Integration"


def _followable(url: Any) -> bool:
    return isinstance(url, str) and url.lower().startswith(("https://", "http://"))


@route("/integration/index.html", "GET")
@route("/frontend/{theme}/integration/index.html", "GET")
@signed_in
async def follow(site: Site, request: Request, principal: Principal) -> Response:
    app = request.query_params.get("app", "")
    fetched = await site.uapi(request, principal, MODULE, "fetch_url", [("app", app)])
    if not fetched.ok:
        return site.message(request, 400, "Link unavailable", fetched.reason, principal)
    target = fetched.data.get("redirect_url") if isinstance(fetched.data, dict) else None
    if not _followable(target):
        return site.message(
            request,
            502,
            "Link unavailable",
            "The application did not give an address to go to. Try again later, or contact "
            "your hosting provider.",
            principal,
        )
    return RedirectResponse(str(target), status_code=302)


async def visible_links(site: Site, request: Request, principal: Principal) -> list[dict[str, Any]]:
    """The links the home page shows, by group (each in its `order`, then by label):
    [{"label", "links": [{"app", "label"}]}]; hidden ones (`hide` 1) are left out."""
    listed = await site.uapi(request, principal, MODULE, "gatehouse_list_links", [])
    if not listed.ok:
        return []
    groups = {g["group_id"]: g for g in listed.data["groups"]}
    grouped: dict[str, list[dict[str, Any]]] = {}
    for link in listed.data["links"]:
        if link.get("hide") != "1":
            grouped.setdefault(link.get("group_id") or DEFAULT_GROUP, []).append(link)

    def group_key(group_id: str) -> tuple[int, str]:
        return _order(groups.get(group_id, {}).get("order")), group_id

    return [
        {
            "label": groups.get(group_id, {}).get("label") or _group_label(group_id),
            "links": [
                {"app": link["app"], "label": link.get("label") or link["app"]}
                for link in sorted(
                    grouped[group_id],
                    key=lambda link: (_order(link.get("order")), link.get("label") or link["app"]),
                )
            ],
        }
        for group_id in sorted(grouped, key=group_key)
    ]


DEFAULT_GROUP = "preferences"  # cPanel's default group of a link


def _group_label(group_id: str) -> str:
    return "Preferences" if group_id == DEFAULT_GROUP else group_id


def _order(raw: Any) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return 99999  # cPanel's default order
