"""New tokens waiting for their one view (Generate Token → the "created" page), shared by the
WHM and cPanel pages.

Kept in the store (`domain/pending_tokens.py`), encrypted with the key ring and keyed by the
session, so the redirect after Save may land on any node behind a load balancer; the view
deletes it in the same statement that reads it, so exactly one request shows it. Never in a
URL, a log, a cookie or browser storage; gone after its one view, at log out, or after
`pending_tokens.TTL` seconds.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread

from gatehouse.auth.authenticator import Principal
from gatehouse.core import Gatehouse
from gatehouse.domain import pending_tokens


async def put(gatehouse: Gatehouse, principal: Principal, token: dict[str, Any]) -> None:
    session = principal.session
    assert session is not None

    def run() -> None:
        with gatehouse.engine.begin() as conn:
            pending_tokens.put(
                conn,
                gatehouse.keyring,
                session.id,
                session.security_token,
                token,
                gatehouse.now(),
            )

    await anyio.to_thread.run_sync(run)


async def take(gatehouse: Gatehouse, principal: Principal) -> dict[str, Any] | None:
    """The session's new token, once."""
    session = principal.session
    assert session is not None

    def run() -> dict[str, Any] | None:
        with gatehouse.engine.begin() as conn:
            return pending_tokens.take(
                conn, gatehouse.keyring, session.id, session.security_token, gatehouse.now()
            )

    return await anyio.to_thread.run_sync(run)
