"""The cPanel face's HTTP server: a raw ASGI application, as lean as WHM's `/json-api/`.

Paths (each may carry a `/cpsessNNNNNNNNNN` prefix, which is accepted and ignored):

  /execute/MODULE/FUNC        UAPI, answered with the flat result object
                              (`{"data":…,"errors":…,"messages":…,"metadata":…,"status":…,
                              "warnings":…}`), as cpsrvd answers it over HTTP
  /json-api/cpanel            cPanel API 2 (`cpanel_jsonapi_module`, `cpanel_jsonapi_func`), or
                              UAPI with `cpanel_jsonapi_apiversion=3`
  /healthz                    for load balancers; no auth, no store
  /openapi.json               the OpenAPI document of every UAPI and API 2 function
                              (`gatehouse.cpanel.openapi`); no auth, as WHM's
  /cpsessN/… and /static/…    the account holder's pages (the `pages` application the
                              program gives this one: `gatehouse.web.cpanel`), reached by
                              the one-time URL of `create_user_session` with `cpaneld`
  /, /login/ (GET, POST)      the pages' login form: the account's password for a `cpaneld`
                              session; with `login_only`, cpsrvd's login for programs (JSON,
                              `gatehouse.web.login_only`); POST /login too
  anything else               404; 403 "Token authentication allows access to UAPI or API 2
                              calls only." when a valid cPanel token is presented on any
                              non-API path (the pages' included)

Every request pays for one header parse, one indexed token lookup (or a cached one) and the
function: no framework routing, no writes beyond a throttled last-use time. Parameters come
from the query string and the body whatever the Content-Type (compatibility.md §Requests 2).

Authentication: `cpanel USER:TOKEN` (a token of service `cpanel`), Basic with the account's
password, or a `cpaneld` session (`/cpsessN/` with the `cpsession` cookie); root, users without
a cPanel account and suspended accounts are refused. A refusal
is HTTP 401 in the face's envelope, with an audit row giving the precise reason.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread

from gatehouse.api.params import JSON_CONTENT_TYPE, NESTED, Params
from gatehouse.api.registry import runs_off_loop
from gatehouse.auth import header as auth_header
from gatehouse.auth.authenticator import (
    CPANEL_SERVICE,
    TOKEN_PATH_FORBIDDEN,
    TOKEN_PATHS_ONLY,
    Denial,
    Principal,
    rate_limited,
)
from gatehouse.core import Gatehouse
from gatehouse.cpanel import envelope, execute, openapi, webcall
from gatehouse.cpanel.registry import API2_REGISTRY, UAPI, UAPI_REGISTRY, Api
from gatehouse.domain import sessions
from gatehouse.errors import GatehouseError
from gatehouse.http import asgi

CHALLENGE = [(b"www-authenticate", b'Basic realm="cPanel", charset="UTF-8"')]
SESSION_COOKIE = sessions.CPANEL_COOKIE  # the cPanel pages set it (`gatehouse.web.cpanel`)
LOGIN_PATHS = ("/", "/login", "/login/")
ACCESS_DENIED = "Access denied"
NOT_FOUND = "The requested path does not exist on the cPanel interface."


INTERNAL_ERROR = "Internal error: the request failed; see the server log."


def _last_resort(scope: asgi.Scope) -> tuple[bytes, tuple[bytes, bytes]]:
    """A 500 in UAPI's flat result (what every client of this port reads), with the reason."""
    parts = str(scope.get("path", "")).split("/")
    module, func = (parts[-2], parts[-1]) if len(parts) >= 2 else ("", "")
    result = envelope.uapi_dict(module, func, ok=False, errors=[INTERNAL_ERROR])["result"]
    return envelope.dumps(result), asgi.JSON


def _refusal(scope: asgi.Scope, status: int, reason: str) -> tuple[bytes, tuple[bytes, bytes]]:
    """A refusal of the HTTP layer (a body too slow or broken, too many requests at once) in
    UAPI's flat result, as the 500 above."""
    parts = str(scope.get("path", "")).split("/")
    module, func = (parts[-2], parts[-1]) if len(parts) >= 2 else ("", "")
    result = envelope.uapi_dict(module, func, ok=False, errors=[reason])["result"]
    return envelope.dumps(result), asgi.JSON


class CpanelApp:
    def __init__(self, gatehouse: Gatehouse, pages: asgi.App | None = None) -> None:
        self.gatehouse = gatehouse
        self.config = gatehouse.config
        # The pages under /cpsessNNNNNNNNNN/ (and their script and stylesheet), with the
        # prefix taken off (`gatehouse.cpsess`), as WHM's face hands its pages every path.
        self.pages = pages
        self._openapi = envelope.dumps(openapi.document(UAPI_REGISTRY, API2_REGISTRY))

    async def __call__(self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        await asgi.serve_logged(
            self._route, scope, receive, send, " face=cpanel", _last_resort, _refusal
        )

    async def _route(
        self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send, state: dict[str, Any]
    ) -> None:
        path: str = scope["path"]
        security_token = None
        match = asgi.CPSESS_RE.match(path)
        if match:
            security_token, path = match.group(1), match.group(2) or "/"
        if path.startswith("/execute/"):
            module, sep, func = path[len("/execute/") :].partition("/")
            if sep and module and func and "/" not in func:
                await self._api(
                    scope, receive, send, state, UAPI, module, func, path, security_token
                )
                return
        elif path == "/json-api/cpanel":
            await self._api(scope, receive, send, state, None, "", "", path, security_token)
            return
        elif path == "/healthz":
            await asgi.respond(send, 200, b'{"status":1}', [asgi.JSON, asgi.NO_STORE])
            return
        elif path == "/openapi.json":
            await asgi.respond(send, 200, self._openapi, [asgi.JSON])
            return
        elif path.startswith(webcall.PREFIX) and security_token is None:
            await webcall.serve(self.gatehouse, scope, send, path)  # Dynamic DNS; no auth
            return
        await self._elsewhere(scope, receive, send, state, path, security_token)

    # -- the two APIs ----------------------------------------------------------------------

    async def _api(
        self,
        scope: asgi.Scope,
        receive: asgi.Receive,
        send: asgi.Send,
        state: dict[str, Any],
        api: Api | None,  # None: /json-api/cpanel, which says in its parameters
        module: str,
        func: str,
        path: str,
        security_token: str | None,
    ) -> None:
        # /execute/ answers with UAPI's bare result object; /json-api/cpanel with the wrapped
        # envelope (WHM's `cpanel` function and the `uapi` command line answer so too).
        flat = api == UAPI
        query: bytes = scope.get("query_string", b"")
        if len(query) > self.config.max_query:
            reason = f"The query string exceeds the limit of {self.config.max_query} bytes."
            await self._refuse(send, 414, api, query, b"", module, func, reason)
            return
        try:
            body = await asgi.read_body(asgi.headers(scope), receive, self.config.max_body)
        except asgi.BodyTooLarge:
            reason = f"The request body exceeds the limit of {self.config.max_body} bytes."
            await self._refuse(send, 413, api, query, b"", module, func, reason)
            return
        peer = asgi.peer(scope)
        principal = await self._authenticate(scope, peer, security_token)
        if isinstance(principal, Denial):
            state["user"] = principal.username or "-"
            self.gatehouse.authenticator.record_denial(principal, peer, path, CPANEL_SERVICE)
            limited = rate_limited(principal)
            if limited is not None:
                await self._refuse(send, 429, api, query, body, module, func, *limited)
                return
            await self._refuse(send, 401, api, query, body, module, func, ACCESS_DENIED, CHALLENGE)
            return
        state["user"], state["auth"] = principal.user.username, principal.method
        json_body = asgi.headers(scope).get(b"content-type") == JSON_CONTENT_TYPE
        try:
            params = Params.from_request(query, body, json_body=json_body)
        except GatehouseError as exc:
            await self._refuse(send, 400, api, query, b"", module, func, exc.reason)
            return
        if api is None:
            try:
                api, module, func = execute.json_api_target(params)
            except execute.CpanelCallFailed as exc:
                await asgi.respond(
                    send, 200, envelope.dumps(exc.payload), [asgi.JSON, asgi.NO_STORE]
                )
                return
        if params.nested:
            # A JSON body's lists, objects and booleans: refused as cPanel refuses them
            # (Cpanel/API.pm _safety_check_args; Cpanel/Api2/Exec.pm for API 2).
            reason = (
                f"{module}::{func} {NESTED}"
                if api == UAPI
                else f"API2: {module}::{func} does not support complex data requests."
            )
            payload = execute.failure_payload(api, module, func, reason)
            await asgi.respond(send, 200, _body(payload, flat), [asgi.JSON, asgi.NO_STORE])
            return
        other = params.get("cpanel_jsonapi_user")
        if other and other != principal.user.username:
            # Choice: cPanel ignores it here; acting silently as someone other than named
            # would be worse than saying so.
            reason = (
                f"The “cpanel_jsonapi_user” argument must name the authenticated user "
                f"(“{principal.user.username}”) on the cPanel interface; use WHM to act as "
                "another account."
            )
            payload = execute.failure_payload(api, module, func, reason)
            await asgi.respond(send, 200, _body(payload, flat), [asgi.JSON, asgi.NO_STORE])
            return
        host = asgi.header(scope, b"host")
        fn = execute.lookup(api, module, func)
        run_api: Api = api

        def run() -> execute.Outcome:
            return execute.execute(
                self.gatehouse, principal, run_api, module, func, params, peer=peer, host=host
            )

        off_loop = runs_off_loop(fn, self.gatehouse.store_is_remote)
        outcome = await anyio.to_thread.run_sync(run) if off_loop else run()
        body = _body(outcome.payload, True) if flat else outcome.body
        await asgi.respond(send, outcome.status, body, [asgi.JSON, asgi.NO_STORE])

    async def _authenticate(
        self, scope: asgi.Scope, peer: str | None, security_token: str | None
    ) -> Principal | Denial:
        authenticator = self.gatehouse.authenticator
        credential = auth_header.parse(
            asgi.header(scope, b"authorization"), asgi.headers(scope).get(b"user-agent")
        )
        if credential is None:
            # A cPanel session (its pages, or a script that logged in with `login_only`): the
            # `/cpsessN/` prefix with the `cpsession` cookie, as cpsrvd takes API calls from
            # its own interface. The prefix, which another site cannot know, is the CSRF guard.
            cookie = asgi.cookie(asgi.headers(scope), SESSION_COOKIE)
            if security_token and cookie:
                return authenticator.session(security_token, cookie, peer, CPANEL_SERVICE)
            return Denial("no_credentials")
        if isinstance(credential, auth_header.PasswordCredential):
            known = authenticator.password_without_argon2(credential, peer, cpanel=True)
            if known is not None:
                return known
            # Argon2 (~155 ms): keep the event loop free for everyone else.
            return await anyio.to_thread.run_sync(
                lambda: authenticator.authenticate_cpanel(credential, peer)
            )
        return authenticator.authenticate_cpanel(credential, peer)

    async def _refuse(
        self,
        send: asgi.Send,
        status: int,
        api: Api | None,
        query: bytes,
        body: bytes,
        module: str,
        func: str,
        reason: str,
        extra: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """A refusal before any function ran, in the envelope of the API the caller used: the
        flat result on /execute/, the wrapped UAPI envelope or cpsrvd's API 2 refusal on
        /json-api/cpanel."""
        flat = api == UAPI
        if api is None:
            # /json-api/cpanel: the flavour is in the parameters, if they can be read at all.
            try:
                params = Params.from_request(query, body)
            except GatehouseError:
                params = Params()
            if params.get("cpanel_jsonapi_apiversion") == "3":
                api = UAPI
                module = params.get("cpanel_jsonapi_module") or ""
                func = params.get("cpanel_jsonapi_func") or ""
        if api == UAPI:
            payload = envelope.uapi_dict(module, func, ok=False, errors=[reason])
        else:
            payload = envelope.api2_refusal_dict(reason)
        await asgi.respond(
            send, status, _body(payload, flat), [asgi.JSON, asgi.NO_STORE, *(extra or [])]
        )

    # -- everything else ----------------------------------------------------------------------

    async def _elsewhere(
        self,
        scope: asgi.Scope,
        receive: asgi.Receive,
        send: asgi.Send,
        state: dict[str, Any],
        path: str,
        security_token: str | None,
    ) -> None:
        """Not an API path. A cPanel token presented here is refused as cpsrvd refuses it
        (403, whm-reference §2.2) when it is valid; a bad one is a bad credential (401).
        Otherwise a session path (or the pages' static files) goes to the pages; anything
        else is 404."""
        credential = auth_header.parse(asgi.header(scope, b"authorization"))
        if isinstance(credential, auth_header.TokenCredential) and credential.scheme == "cpanel":
            peer = asgi.peer(scope)
            found = self.gatehouse.authenticator.authenticate_cpanel(credential, peer)
            if isinstance(found, Denial):
                state["user"] = found.username or "-"
                self.gatehouse.authenticator.record_denial(found, peer, path, CPANEL_SERVICE)
                payload = envelope.api2_refusal_dict(ACCESS_DENIED)
                await asgi.respond(
                    send, 401, envelope.dumps(payload), [asgi.JSON, asgi.NO_STORE, *CHALLENGE]
                )
                return
            state["user"], state["auth"] = found.user.username, found.method
            self.gatehouse.authenticator.record_denial(
                Denial(
                    TOKEN_PATH_FORBIDDEN,
                    username=found.user.username,
                    token_name=found.token_name,
                ),
                peer,
                path,
            )
            payload = envelope.api2_refusal_dict(TOKEN_PATHS_ONLY)
            await asgi.respond(send, 403, envelope.dumps(payload), [asgi.JSON, asgi.NO_STORE])
            return
        if self.pages is not None and security_token is None and path in LOGIN_PATHS:
            # The login form (GET, also at `/`, as cPanel's :2083 opens on it) and its POST.
            posted = scope.get("method") == "POST"
            path = "/login" if path == "/login" and posted else "/login/"
        if self.pages is not None and (
            security_token or path in LOGIN_PATHS or path.startswith("/static/")
        ):
            scope = {
                **scope,
                "path": path,
                "raw_path": path.encode(),
                "root_path": "",
                "gatehouse.cpsess": security_token,
                "gatehouse.state": state,
            }
            await self.pages(scope, receive, send)
            return
        payload = envelope.api2_refusal_dict(NOT_FOUND)
        await asgi.respond(send, 404, envelope.dumps(payload), [asgi.JSON, asgi.NO_STORE])


def _body(payload: dict[str, Any], flat: bool) -> bytes:
    """A UAPI envelope as the caller's path answers it: `/execute/` the bare `result` object
    (cPanel's "UAPI - Return Data"; lego's fixtures recorded from real servers), otherwise
    whole."""
    return envelope.dumps(payload["result"] if flat else payload)
