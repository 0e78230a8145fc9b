"""Pages from the Jinja2 templates in `web/templates/`: the context every page shares (the
cpsess prefix, the CSRF token, WHM's left-hand menu), and the message pages."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from gatehouse import acls
from gatehouse.api import dispatch
from gatehouse.auth.authenticator import Principal
from gatehouse.web.pages.session import csrf_token

# WHM's left-hand menu, grouped as WHM groups it; (title, path under /cpsessN/, privilege).
MENU: tuple[tuple[str, tuple[tuple[str, str, str | None], ...]], ...] = (
    ("Server Information", (("Home", "", None),)),
    (
        "Security Center",
        (
            ("cPHulk Brute Force Protection", "cphulk", acls.ALL),
            ("Audit Trail", "audit", acls.ALL),
        ),
    ),
    (
        "SSL/TLS",
        (
            ("Manage SSL Hosts", "ssl", "ssl-info"),
            ("Install an SSL Certificate on a Domain", "ssl/install", "ssl"),
            ("Manage AutoSSL", "autossl", acls.ALL),
        ),
    ),
    (
        "Clusters",
        (("DNS Cluster", "cluster", "clustering"), ("Remote Access Key", "accesshash", None)),
    ),
    (
        "Development",
        (
            ("Manage API Tokens", "tokens", "manage-api-tokens"),
            ("Stale API Tokens", "tokens/stale", acls.ALL),
            ("API Reference (OpenAPI)", "/openapi.json", None),
        ),
    ),
)


class Renderer:
    def __init__(self) -> None:
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("gatehouse.web", "templates"),
            autoescape=True,
        )
        self.templates.filters["when"] = when

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        principal: Principal | None = context.get("principal")
        cpsess = request.scope.get("gatehouse.cpsess")
        context.setdefault("prefix", f"/cpsess{cpsess}" if cpsess else "")
        context.setdefault("csrf", csrf_token(request) if principal else "")
        context.setdefault("menu", menu(principal) if principal else [])
        context.setdefault("current", request.url.path)
        body = self.templates.get_template(name).render(**context)
        return HTMLResponse(body, status_code=status)

    def message(self, request: Request, status: int, title: str, text: str) -> Response:
        return self.page(request, "message.html", status, title=title, text=text)

    def signed_out(self, request: Request) -> Response:
        return self.page(
            request,
            "message.html",
            401,
            title="Not signed in",
            text="Your session has expired or you have logged out. Log in again to continue.",
            login_link=True,
        )

    def csrf_refused(self, request: Request) -> Response:
        return self.message(
            request,
            403,
            "Form refused",
            "This form could not be verified (its security token is missing, wrong, or from "
            "an older session), so nothing was changed. Go back, reload the page and try again.",
        )

    def denied(self, request: Request, principal: Principal, outcome: dispatch.Outcome) -> Response:
        """The API refused: its reason, as a page (with the API's status when it is an
        error status)."""
        return self.page(
            request,
            "message.html",
            outcome.status if outcome.status >= 400 else 400,
            title="Not allowed",
            text=reason(outcome),
            principal=principal,
        )


# The longest value a redirect carries in its query (a name, a domain, a reason). A posted form
# may hold 256 KB: echoed whole into a Location header, it makes an answer browsers and proxies
# refuse to follow (their header buffers are 8–64 KB). No token name, domain or reason is
# longer; a longer value is cut, marked with "…".
MAX_QUERY_VALUE = 1024


def url(request: Request, path: str, **query: str) -> str:
    """`path` under the request's /cpsessN/ prefix."""
    cpsess = request.scope.get("gatehouse.cpsess")
    cut = {
        k: v if len(v) <= MAX_QUERY_VALUE else v[:MAX_QUERY_VALUE] + "…" for k, v in query.items()
    }
    suffix = f"?{urlencode(cut)}" if cut else ""
    return f"/cpsess{cpsess}/{path}{suffix}"


def reason(outcome: dispatch.Outcome) -> str:
    return str(outcome.payload["metadata"]["reason"])


def menu(principal: Principal | None) -> list[dict[str, Any]]:
    held = principal.privileges if principal else frozenset()
    groups = []
    for title, items in MENU:
        shown = [
            {"title": t, "path": p}
            for t, p, privilege in items
            if privilege is None or acls.holds(held, privilege)
        ]
        if shown:
            groups.append({"title": title, "items": shown})
    return groups


def when(value: int | None) -> str:
    """A stored time as a date; never raises: a row older than today's checks may hold a time
    no date can show (an expiry after 9999), shown then as the number it is."""
    if not value:
        return ""
    try:
        return dt.datetime.fromtimestamp(int(value), dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    except (ValueError, OverflowError, OSError):
        return f"Unix time {value}"
