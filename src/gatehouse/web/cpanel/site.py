"""What every cPanel page works with: the core, the renderer (the WHM pages' Jinja2
environment, with this face's menu, cookie and templates), and the way to run a UAPI
function as the signed-in account."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
from starlette.requests import Request
from starlette.responses import Response

from gatehouse.api import bridge
from gatehouse.api.dispatch import Outcome
from gatehouse.api.params import Params
from gatehouse.auth.authenticator import Principal
from gatehouse.core import Gatehouse
from gatehouse.http import asgi
from gatehouse.web.cpanel.session import csrf_token
from gatehouse.web.pages.form import Pairs
from gatehouse.web.pages.render import Renderer

# cPanel's menu for what gatehouse models: (title, path under /cpsessN/).
MENU: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("General", (("Home", ""),)),
    ("Domains", (("Zone Editor", "zones"),)),
    ("Security", (("SSL/TLS", "ssl"), ("Manage API Tokens", "tokens"))),
)


@dataclass(frozen=True, slots=True)
class UapiAnswer:
    """A UAPI function's result object (`status`, `data`, `errors`, …)."""

    ok: bool
    data: Any
    errors: list[str]

    @property
    def reason(self) -> str:
        return "; ".join(self.errors) or "The call failed."


@dataclass(frozen=True)
class Site:
    gatehouse: Gatehouse
    render: Renderer = field(default_factory=Renderer)

    async def uapi(
        self, request: Request, principal: Principal, module: str, func: str, pairs: Pairs
    ) -> UapiAnswer:
        """UAPI `module::func` as the account, exactly as `/execute/` runs it: the same
        validation, auditing and wording, in its own transaction."""
        params = Params(list(pairs))
        peer = asgi.peer(request.scope)
        host = request.headers.get("host")

        def run() -> Outcome:
            return bridge.account_api().uapi(
                self.gatehouse, principal, module, func, params, peer=peer, host=host
            )

        outcome = await anyio.to_thread.run_sync(run)
        result = outcome.payload["result"]
        return UapiAnswer(
            ok=bool(result["status"]), data=result["data"], errors=list(result["errors"] or [])
        )

    def page(
        self,
        request: Request,
        template: str,
        principal: Principal | None,
        status: int = 200,
        **context: Any,
    ) -> Response:
        """The template `cpanel/TEMPLATE` with this face's menu and CSRF token."""
        return self.render.page(
            request,
            f"cpanel/{template}",
            status,
            principal=principal,
            csrf=csrf_token(request) if principal else "",
            menu=_menu() if principal else [],
            **context,
        )

    def message(
        self, request: Request, status: int, title: str, text: str, principal: Principal | None
    ) -> Response:
        return self.page(request, "message.html", principal, status, title=title, text=text)

    def signed_out(self, request: Request) -> Response:
        return self.message(
            request,
            401,
            "Not signed in",
            "Your session has expired or you have logged out. Log in again from your "
            "hosting provider's control panel.",
            None,
        )

    def csrf_refused(self, request: Request, principal: Principal) -> Response:
        return self.message(
            request,
            403,
            "Form refused",
            "This form could not be verified (its security token is missing, wrong, or from "
            "an older session), so nothing was changed. Go back, reload the page and try again.",
            principal,
        )


def _menu() -> list[dict[str, Any]]:
    return [
        {"title": title, "items": [{"title": t, "path": p} for t, p in items]}
        for title, items in MENU
    ]
