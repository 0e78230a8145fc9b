"""The WHM pages: log in, Manage API Tokens, Remote Access Key.

A thin face over the same core as `/json-api/`: every change (and every list) goes through
`dispatch.execute` with the session's principal, so validation, privileges, auditing and the
wording of errors are exactly the API's. The pages add only what a browser needs: sessions,
CSRF protection, forms, and the one-time display of a new token.

`web/app.py` answers `/json-api/`, `/healthz`, `/openapi.json` and the one-time `/login/` URLs
itself and hands every other request here, with the `/cpsessNNNNNNNNNN` prefix stripped (its
digits in `scope["gatehouse.cpsess"]`).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import anyio.to_thread
import jinja2
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from gatehouse import acls, ipnets
from gatehouse.api import bridge, dispatch
from gatehouse.api.params import Params
from gatehouse.auth.authenticator import Denial, Principal
from gatehouse.auth.header import PasswordCredential
from gatehouse.core import Gatehouse
from gatehouse.domain import audit, sessions, settings
from gatehouse.store.schema import audit_log

SESSION_COOKIE = "whostmgrsession"
LOGIN_CSRF_COOKIE = "gatehouse_login"
CSRF_FIELD = "csrf_token"
LOGIN_DETAIL = "/login"  # audit detail of a failed login on the page (the rate limit counts them)
RATE_WINDOW = 15 * 60
RATE_LIMITED = "login_rate_limited"
PENDING_TTL = 10 * 60  # a new token waits this long, server-side, for its one view
EXPIRING_SOON = 7 * 86400
MAX_FORM = 256 * 1024
STATIC_DIR = Path(__file__).parent / "static"
STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),  # the cpsess prefix must not leak to other sites
]

CATEGORY_TITLES = {
    "rootaccess": ("Everything", "Full access: every privilege, now and later."),
    "basicprivileges": (
        "Basic Privileges",
        "Day-to-day functions; cPanel grants these to new resellers by default.",
    ),
    "standardprivileges": ("Standard Privileges", "Create, change and remove accounts and DNS."),
    "packageprivileges": ("Packages", "What packages this token may create."),
    "globalprivileges": ("Global Privileges", "Server-wide information and services."),
    "superprivileges": ("Super Privileges", "Powerful functions; grant with care."),
}

# WHM's left-hand menu, grouped as WHM groups it; (title, path under /cpsessN/, privilege).
MENU: tuple[tuple[str, tuple[tuple[str, str, str | None], ...]], ...] = (
    ("Server Information", (("Home", "", None),)),
    ("Clusters", (("Remote Access Key", "accesshash", None),)),
    (
        "Development",
        (
            ("Manage API Tokens", "tokens", "manage-api-tokens"),
            ("API Reference (OpenAPI)", "/openapi.json", None),
        ),
    ),
)


@dataclass
class Form:
    """What the user entered, and an error per field: re-rendered as entered on an error."""

    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


class Pages:
    def __init__(self, gatehouse: Gatehouse) -> None:
        self.gatehouse = gatehouse
        self.config = gatehouse.config
        self.templates = jinja2.Environment(
            loader=jinja2.PackageLoader("gatehouse.web", "templates"),
            autoescape=True,
        )
        self.templates.filters["when"] = _when
        # New tokens waiting for their one view: session id → (deadline, details). Process
        # memory only, never a URL, a log, a cookie or the store.
        self._pending: dict[int, tuple[float, dict[str, Any]]] = {}
        self._pending_lock = threading.Lock()
        routes = [
            Route("/", self.home, methods=["GET"]),
            Route("/login/", self.login_form, methods=["GET"]),
            Route("/login/", self.login, methods=["POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/static/{name}", self.static, methods=["GET"]),
            Route("/tokens", self.tokens, methods=["GET"]),
            Route("/tokens/new", self.token_new, methods=["GET", "POST"]),
            Route("/tokens/created", self.token_created, methods=["GET"]),
            Route("/tokens/saved", self.token_saved, methods=["POST"]),
            Route("/tokens/edit", self.token_edit, methods=["GET", "POST"]),
            Route("/tokens/revoke", self.token_revoke, methods=["GET", "POST"]),
            Route("/accesshash", self.accesshash, methods=["GET"]),
            Route("/accesshash/generate", self.accesshash_generate, methods=["GET", "POST"]),
        ]
        self.app = Starlette(routes=routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers.extend(SECURITY_HEADERS)
                if not any(k == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, secured)

    # -- plumbing --------------------------------------------------------------------------

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> Response:
        principal: Principal | None = context.get("principal")
        cpsess = request.scope.get("gatehouse.cpsess")
        context.setdefault("prefix", f"/cpsess{cpsess}" if cpsess else "")
        context.setdefault("csrf", self._csrf(request) if principal else "")
        context.setdefault("menu", _menu(principal) if principal else [])
        context.setdefault("current", request.url.path)
        body = self.templates.get_template(name).render(**context)
        return HTMLResponse(body, status_code=status)

    def message(self, request: Request, status: int, title: str, text: str) -> Response:
        return self.render(request, "message.html", status, title=title, text=text)

    def principal(self, request: Request) -> Principal | None:
        cpsess = request.scope.get("gatehouse.cpsess")
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cpsess or not cookie:
            return None
        found = self.gatehouse.authenticator.session(cpsess, cookie)
        if isinstance(found, Denial):
            return None
        state = request.scope.get("gatehouse.state")
        if state is not None:
            state["user"], state["auth"] = found.user.username, "session"
        return found

    def signed_out(self, request: Request) -> Response:
        return self.render(
            request,
            "message.html",
            401,
            title="Not signed in",
            text="Your session has expired or you have logged out. Log in again to continue.",
            login_link=True,
        )

    def _csrf(self, request: Request) -> str:
        """Per session: an HMAC of the security token keyed with the (HttpOnly) cookie
        secret, so it needs no storage and cannot be computed from anything a page shows."""
        cookie = request.cookies.get(SESSION_COOKIE, "")
        cpsess = request.scope.get("gatehouse.cpsess") or ""
        mac = hmac.new(cookie.encode(), f"csrf:{cpsess}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    async def form(self, request: Request) -> list[tuple[str, str]]:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_FORM:
            return []
        body = await request.body()
        return parse_qsl(body[:MAX_FORM].decode("utf-8", "replace"), keep_blank_values=True)

    def csrf_ok(self, request: Request, pairs: list[tuple[str, str]]) -> bool:
        sent = next((v for k, v in pairs if k == CSRF_FIELD), "")
        return bool(sent) and hmac.compare_digest(sent.encode(), self._csrf(request).encode())

    def csrf_refused(self, request: Request) -> Response:
        return self.message(
            request,
            403,
            "Form refused",
            "This form could not be verified (its security token is missing, wrong, or from "
            "an older session), so nothing was changed. Go back, reload the page and try again.",
        )

    async def call(
        self, request: Request, principal: Principal, function: str, pairs: list[tuple[str, str]]
    ) -> dispatch.Outcome:
        params = Params([("api.version", "1"), *pairs])
        peer = _peer(request)
        host = request.headers.get("host")
        return await anyio.to_thread.run_sync(
            lambda: bridge.server_api().execute(
                self.gatehouse, principal, function, params, peer=peer, host=host
            )
        )

    def denied(self, request: Request, principal: Principal, outcome: dispatch.Outcome) -> Response:
        return self.render(
            request,
            "message.html",
            outcome.status if outcome.status >= 400 else 400,
            title="Not allowed",
            text=_reason(outcome),
            principal=principal,
        )

    # -- static files ------------------------------------------------------------------------

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        path = STATIC_DIR / name
        if "/" in name or name.startswith(".") or path.suffix not in STATIC_TYPES:
            return Response("Not Found\n", 404, media_type="text/plain")
        try:
            content = path.read_bytes()
        except OSError:
            return Response("Not Found\n", 404, media_type="text/plain")
        return Response(
            content,
            headers={"cache-control": "public, max-age=300"},
            media_type=STATIC_TYPES[path.suffix],
        )

    # -- log in and out ----------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        if not request.scope.get("gatehouse.cpsess"):
            return await self.login_form(request)
        principal = self.principal(request)
        if principal is None:
            return self.signed_out(request)
        return self.render(request, "home.html", principal=principal)

    async def login_form(self, request: Request) -> Response:
        notice = "You have logged out." if request.query_params.get("out") else ""
        return self._login_page(request, Form(), notice=notice)

    def _login_page(
        self, request: Request, form: Form, status: int = 200, notice: str = ""
    ) -> Response:
        token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
        request.scope["gatehouse.cpsess"] = None
        response = self.render(
            request, "login.html", status, form=form, login_csrf=token, notice=notice
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE,
            token,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response

    async def login(self, request: Request) -> Response:
        pairs = await self.form(request)
        values = dict(pairs)
        sent = values.get(CSRF_FIELD, "")
        expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
        if not (sent and expected and hmac.compare_digest(sent.encode(), expected.encode())):
            return self.csrf_refused(request)
        username = values.get("user", "").strip()
        password = values.get("pass", "")
        form = Form({"user": username})
        if not username:
            form.errors["user"] = "Enter your username."
        if not password:
            form.errors["pass"] = "Enter your password."
        if form.errors:
            return self._login_page(request, form, 400)
        peer = _peer(request)
        gatehouse = self.gatehouse
        if self._rate_limited(username, peer):
            gatehouse.authenticator.record_denial(
                Denial(RATE_LIMITED, username=username), peer, LOGIN_DETAIL
            )
            form.errors["pass"] = (
                "Too many failed logins for this user or from this address. Wait 15 minutes "
                "and try again."
            )
            return self._login_page(request, form, 429)
        found = await anyio.to_thread.run_sync(
            gatehouse.authenticator.authenticate, PasswordCredential(username, password), peer
        )
        if isinstance(found, Denial):
            gatehouse.authenticator.record_denial(found, peer, LOGIN_DETAIL)
            form.errors["pass"] = "The login is invalid: check the username and the password."
            return self._login_page(request, form, 401)
        user = found.user
        now = gatehouse.now()
        with gatehouse.engine.begin() as conn:
            active, cookie_secret = sessions.open_session(
                conn, user, sessions.WHOSTMGRD, "login", now
            )
            audit.record(
                conn,
                now=now,
                action=audit.SESSION_CREATE,
                actor=user.username,
                subject=user.username,
                source_ip=peer,
                detail="login page",
            )
            sessions.purge_stale(conn, now, gatehouse.authenticator.session_idle_timeout)
        response = RedirectResponse(f"/cpsess{active.security_token}/", status_code=303)
        response.set_cookie(
            SESSION_COOKIE,
            cookie_secret,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
        return response

    def _rate_limited(self, username: str, peer: str | None) -> bool:
        since = self.gatehouse.now() - RATE_WINDOW
        base = sa.select(sa.func.count()).where(
            audit_log.c.time >= since,
            audit_log.c.action == audit.AUTH_FAILURE,
            audit_log.c.detail == LOGIN_DETAIL,
            audit_log.c.reason != RATE_LIMITED,
        )
        with self.gatehouse.engine.connect() as conn:
            per_user = conn.execute(base.where(audit_log.c.actor == username)).scalar_one()
            if per_user >= self.config.login_failures_per_user:
                return True
            if peer is None:
                return False
            per_ip = conn.execute(base.where(audit_log.c.source_ip == peer)).scalar_one()
        return bool(per_ip >= self.config.login_failures_per_ip)

    async def logout(self, request: Request) -> Response:
        principal = self.principal(request)
        if principal is None:
            return self.signed_out(request)
        if not self.csrf_ok(request, await self.form(request)):
            return self.csrf_refused(request)
        assert principal.session is not None
        with self.gatehouse.engine.begin() as conn:
            sessions.destroy(conn, principal.session.id)
        self._take_pending(principal)
        response = RedirectResponse("/login/?out=1", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- Manage API Tokens -------------------------------------------------------------------

    async def _list(self, request: Request, principal: Principal) -> dict[str, Any] | Response:
        outcome = await self.call(request, principal, "api_token_list", [])
        if not outcome.ok:
            return self.denied(request, principal, outcome)
        listed: dict[str, Any] = outcome.payload["data"]["tokens"]
        return listed

    async def tokens(self, request: Request) -> Response:
        principal = self.principal(request)
        if principal is None:
            return self.signed_out(request)
        listed = await self._list(request, principal)
        if isinstance(listed, Response):
            return listed
        now = self.gatehouse.now()
        rows = [_row(t, now) for t in listed.values()]
        sort = request.query_params.get("sort", "name")
        if sort not in SORT_KEYS:
            sort = "name"
        descending = request.query_params.get("dir") == "desc"
        rows.sort(key=SORT_KEYS[sort], reverse=descending)
        query = request.query_params.get("q", "").strip()
        if query:
            rows = [r for r in rows if query.lower() in r["name"].lower()]
        return self.render(
            request,
            "tokens.html",
            principal=principal,
            rows=rows,
            total=len(listed),
            sort=sort,
            descending=descending,
            query=query,
            done=_done(request),
        )

    def _acl_groups(self, principal: Principal) -> list[dict[str, Any]]:
        held = principal.privileges
        groups: list[dict[str, Any]] = []
        for acl in acls.CATALOGUE:
            if acl.name == acls.ALL or not acls.holds(held, acl.name):
                continue
            if not groups or groups[-1]["name"] != acl.category:
                title, description = CATEGORY_TITLES.get(acl.category, (acl.category, ""))
                groups.append(
                    {"name": acl.category, "title": title, "description": description, "acls": []}
                )
            groups[-1]["acls"].append(acl)
        return groups

    def _form_page(
        self, request: Request, principal: Principal, form: Form, editing: bool, status: int = 200
    ) -> Response:
        return self.render(
            request,
            "token_form.html",
            status,
            principal=principal,
            form=form,
            editing=editing,
            groups=self._acl_groups(principal),
            today=dt.datetime.fromtimestamp(self.gatehouse.now(), dt.UTC).date().isoformat(),
        )

    async def token_new(self, request: Request) -> Response:
        principal = self.principal(request)
        if principal is None:
            return self.signed_out(request)
        if request.method == "GET":
            return self._form_page(request, principal, Form({"everything": True}), False)
        pairs = await self.form(request)
        if not self.csrf_ok(request, pairs):
            return self.csrf_refused(request)
        form = _token_form(pairs)
        call = self._token_params(principal, form, editing=False)
        if form.errors:
            return self._form_page(request, principal, form, False, 400)
        outcome = await self.call(request, principal, "api_token_create", call)
        if not outcome.ok:
            if outcome.status == 403:
                return self.denied(request, principal, outcome)
            _attach_error(form, _reason(outcome))
            return self._form_page(request, principal, form, False, 400)
        data = outcome.payload["data"]
        assert principal.session is not None
        with self._pending_lock:
            self._expire_pending()
            self._pending[principal.session.id] = (time.monotonic() + PENDING_TTL, data)
        return RedirectResponse(_url(request, "tokens/created"), status_code=303)

    def _expire_pending(self) -> None:
        now = time.monotonic()
        for key in [k for k, (deadline, _) in self._pending.items() if deadline < now]:
            del self._pending[key]

    def _take_pending(self, principal: Principal) -> dict[str, Any] | None:
        assert principal.session is not None
        with self._pending_lock:
            self._expire_pending()
            entry = self._pending.pop(principal.session.id, None)
        return entry[1] if entry else None

    def _token_params(
        self, principal: Principal, form: Form, *, editing: bool
    ) -> list[tuple[str, str]]:
        """The API call a form stands for; page-only checks (an empty ACL, a malformed date)
        fill `form.errors` instead."""
        values = form.values
        name = values["name"]
        pairs: list[tuple[str, str]] = []
        if editing:
            pairs.append(("token_name", values["original_name"]))
            if name != values["original_name"]:
                pairs.append(("new_name", name))
        else:
            pairs.append(("token_name", name))
        if values["everything"]:
            if acls.ALL in principal.privileges:
                pairs.append(("acl", acls.ALL))
            # Otherwise no `acl`: a full-access token, which holds all of its owner's set.
        elif values["acl"]:
            pairs.extend((f"acl-{i}", acl) for i, acl in enumerate(values["acl"]))
        else:
            form.errors["acl"] = "Choose at least one privilege, or Everything."
        lines = _ip_lines(values["ips"])
        if lines:
            pairs.extend((f"whitelist_ip-{i}", line) for i, line in enumerate(lines))
        elif editing:
            pairs.append(("whitelist_ip", "any"))
        expires = values["expires"]
        if expires:
            try:
                day = dt.date.fromisoformat(expires)
            except ValueError:
                form.errors["expires"] = f"“{expires}” is not a date: use the form YYYY-MM-DD."
            else:
                if not (editing and expires == values.get("original_expires")):
                    pairs.append(("expires_at", str(_end_of_day(day))))
        elif editing and values.get("original_expires"):
            pairs.append(("expires_at", "0"))
        return pairs

    async def token_created(self, request: Request) -> Response:
        principal = self.principal(request)
        if principal is None:
            return self.signed_out(request)
        data = self._take_pending(principal)
        if data is None:
            # Already shown (a reload, the back button): it is gone for good.
            return RedirectResponse(_url(request, "tokens"), status_code=303)
        return self.render(
            request, "token_created.html", principal=principal, token=data, bare=True
        )

    async def token_saved(self, request: Request) -> Response:
        principal = self.principal(request)
        if principal is None:
            return self.signed_out(request)
        pairs = await self.form(request)
        if not self.csrf_ok(request, pairs):
            return self.csrf_refused(request)
        name = dict(pairs).get("name", "")
        return RedirectResponse(_url(request, "tokens", done="created", name=name), status_code=303)

    async def token_edit(self, request: Request) -> Response:
        principal = self.principal(request)
        if principal is None:
            return self.signed_out(request)
        if request.method == "GET":
            listed = await self._list(request, principal)
            if isinstance(listed, Response):
                return listed
            name = request.query_params.get("name", "")
            token = listed.get(name)
            if token is None:
                return self.message(
                    request, 404, "No such token", f"There is no API token named “{name}”."
                )
            return self._form_page(request, principal, _edit_form(token, principal), True)
        pairs = await self.form(request)
        if not self.csrf_ok(request, pairs):
            return self.csrf_refused(request)
        form = _token_form(pairs)
        call = self._token_params(principal, form, editing=True)
        if form.errors:
            return self._form_page(request, principal, form, True, 400)
        outcome = await self.call(request, principal, "api_token_update", call)
        if not outcome.ok:
            if outcome.status == 403:
                return self.denied(request, principal, outcome)
            _attach_error(form, _reason(outcome))
            return self._form_page(request, principal, form, True, 400)
        name = outcome.payload["data"]["name"]
        return RedirectResponse(_url(request, "tokens", done="updated", name=name), status_code=303)

    async def token_revoke(self, request: Request) -> Response:
        principal = self.principal(request)
        if principal is None:
            return self.signed_out(request)
        if request.method == "GET":
            names = [n for n in request.query_params.getlist("name") if n]
            if not names:
                return RedirectResponse(_url(request, "tokens", done="none"), status_code=303)
            return self.render(request, "revoke.html", principal=principal, names=names)
        pairs = await self.form(request)
        if not self.csrf_ok(request, pairs):
            return self.csrf_refused(request)
        names = [v for k, v in pairs if k == "name" and v]
        call = [(f"token_name-{i}", n) for i, n in enumerate(names)]
        outcome = await self.call(request, principal, "api_token_revoke", call)
        if not outcome.ok:
            return self.denied(request, principal, outcome)
        return RedirectResponse(
            _url(request, "tokens", done="revoked", count=str(len(names))), status_code=303
        )

    # -- Remote Access Key -------------------------------------------------------------------

    def _accesshash_enabled(self) -> bool:
        with self.gatehouse.engine.connect() as conn:
            return settings.enabled(conn, settings.ALLOW_DEPRECATED_ACCESSHASH)

    async def accesshash(self, request: Request) -> Response:
        principal = self.principal(request)
        if principal is None:
            return self.signed_out(request)
        if not self._accesshash_enabled():
            return self.render(request, "accesshash.html", principal=principal, key=None)
        outcome = await self.call(request, principal, "accesshash", [])
        if not outcome.ok:
            return self.denied(request, principal, outcome)
        return self.render(
            request,
            "accesshash.html",
            principal=principal,
            key=outcome.payload["data"],
            done=request.query_params.get("done") == "generated",
        )

    async def accesshash_generate(self, request: Request) -> Response:
        principal = self.principal(request)
        if principal is None:
            return self.signed_out(request)
        if request.method == "GET":
            return self.render(request, "accesshash_confirm.html", principal=principal)
        if not self.csrf_ok(request, await self.form(request)):
            return self.csrf_refused(request)
        outcome = await self.call(request, principal, "accesshash", [("generate", "1")])
        if not outcome.ok:
            return self.denied(request, principal, outcome)
        return RedirectResponse(_url(request, "accesshash", done="generated"), status_code=303)


# -- helpers ---------------------------------------------------------------------------------


def _peer(request: Request) -> str | None:
    client = request.client
    if client is None:
        return None
    address = ipnets.peer_address(client.host)
    return str(address) if address is not None else client.host


def _url(request: Request, path: str, **query: str) -> str:
    cpsess = request.scope.get("gatehouse.cpsess")
    suffix = f"?{urlencode(query)}" if query else ""
    return f"/cpsess{cpsess}/{path}{suffix}"


def _reason(outcome: dispatch.Outcome) -> str:
    return str(outcome.payload["metadata"]["reason"])


def _menu(principal: Principal | None) -> list[dict[str, Any]]:
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


def _when(value: int | None) -> str:
    if not value:
        return ""
    return dt.datetime.fromtimestamp(int(value), dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _end_of_day(day: dt.date) -> int:
    """A date in the form means "usable through that day" (UTC)."""
    return int(dt.datetime.combine(day, dt.time(23, 59, 59), dt.UTC).timestamp())


def _ip_lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


def _row(token: dict[str, Any], now: int) -> dict[str, Any]:
    acl_map: dict[str, int] = token["acls"]
    granted = [k for k, v in acl_map.items() if v]
    everything = bool(acl_map.get(acls.ALL)) or (
        acls.ALL not in acl_map and len(granted) == len(acl_map)
    )
    expires = token["expires_at"]
    state = ""
    if expires:
        if expires < now:
            state = "expired"
        elif expires - now <= EXPIRING_SOON:
            state = "expiring"
    ips = token["whitelist_ips"] or []
    return {
        "name": token["name"],
        "created": token["create_time"],
        "expires": expires,
        "state": state,
        "ips": ips[:5],
        "more_ips": max(0, len(ips) - 5),
        "privileges": "Everything"
        if everything
        else f"{len(granted)} privilege{'s' if len(granted) != 1 else ''}",
        "last_used": token["last_used"],
        "last_used_ip": token["last_used_ip"],
    }


SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "name": lambda r: r["name"].lower(),
    "created": lambda r: r["created"],
    "expires": lambda r: r["expires"] or 2**62,
    "last_used": lambda r: r["last_used"] or 0,
}


def _done(request: Request) -> str:
    done = request.query_params.get("done")
    name = request.query_params.get("name", "")
    if done == "created":
        return f"The API token “{name}” was created."
    if done == "updated":
        return f"The API token “{name}” was saved."
    if done == "revoked":
        count = request.query_params.get("count", "1")
        return "The API token was revoked." if count == "1" else f"{count} API tokens were revoked."
    if done == "none":
        return "Select the tokens to revoke first."
    return ""


def _token_form(pairs: list[tuple[str, str]]) -> Form:
    values = dict(pairs)
    return Form(
        {
            "name": values.get("name", "").strip(),
            "original_name": values.get("original_name", ""),
            "original_expires": values.get("original_expires", ""),
            "ips": values.get("ips", ""),
            "acl": [v for k, v in pairs if k == "acl"],
            "everything": values.get("everything") == "1",
            "expires": values.get("expires", "").strip(),
        }
    )


def _edit_form(token: dict[str, Any], principal: Principal) -> Form:
    row = _row(token, 0)
    expires = (
        dt.datetime.fromtimestamp(token["expires_at"], dt.UTC).date().isoformat()
        if token["expires_at"]
        else ""
    )
    return Form(
        {
            "name": token["name"],
            "original_name": token["name"],
            "original_expires": expires,
            "ips": "\n".join(token["whitelist_ips"] or []),
            "acl": [k for k, v in token["acls"].items() if v and k != acls.ALL],
            "everything": row["privileges"] == "Everything",
            "expires": expires,
        }
    )


def _attach_error(form: Form, reason: str) -> None:
    """Put the core's message next to the field it is about."""
    lowered = reason.lower()
    if "ip address" in lowered or "cidr" in lowered:
        form.errors["ips"] = reason
        bad = []
        for line in _ip_lines(form.values["ips"]):
            try:
                ipnets.normalise([line])
            except ipnets.InvalidIpEntry:
                bad.append(line)
        if len(bad) > 1:
            form.errors["ips"] = "Invalid IP addresses or CIDR ranges: " + ", ".join(bad)
    elif "acl" in lowered:
        form.errors["acl"] = reason
    elif "expires_at" in lowered or "future date" in lowered:
        expires = form.values["expires"]
        if expires:
            try:
                stamp = str(_end_of_day(dt.date.fromisoformat(expires)))
                reason = reason.replace(f"“{stamp}”", f"“{expires}”")
            except ValueError:
                pass
        form.errors["expires"] = reason
    else:
        form.errors["name"] = reason
