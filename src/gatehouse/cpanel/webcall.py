"""`/cpanelwebcall/<id>` on the cPanel ports: the Dynamic DNS webcall (cPanel's name). No
authentication — the id is the secret (gatehouse.domain.dynamicdns) — and a plain-text answer a
router's script can show or grep:

* 200 `<domain> A <address> updated` or `... unchanged` (IPv6 callers: AAAA);
* 404 `No Dynamic DNS domain has this ID.` for an unknown id (or a suspended account's), the
  same whatever the id looks like;
* 429 (with Retry-After) within MIN_INTERVAL seconds of the domain's previous webcall;
* 405 for a method other than GET or POST; 409 when the zone refuses the record (a CNAME at the
  name, a zone gone).

The id never reaches the access log: the request's path is logged as `/cpanelwebcall/-`.
"""

from __future__ import annotations

import logging

import anyio.to_thread

from gatehouse.core import Gatehouse
from gatehouse.domain import dynamicdns
from gatehouse.domain.unit import ServerUnit
from gatehouse.errors import GatehouseError, NotFound
from gatehouse.http import asgi

PREFIX = "/cpanelwebcall/"
TEXT = (b"content-type", b"text/plain; charset=utf-8")
log = logging.getLogger("gatehouse.webcall")


def _run(gatehouse: Gatehouse, webcall_id: str, peer: str | None) -> tuple[int, str, int]:
    """(status, text, retry-after) of one webcall, committed if it changed anything."""
    now = int(gatehouse.clock())
    try:
        with gatehouse.engine.begin() as conn:
            ran = dynamicdns.run(ServerUnit(conn, now, "cpanelwebcall", peer), webcall_id, peer)
    except dynamicdns.RateLimited as exc:
        return 429, exc.reason, exc.retry_after
    except NotFound as exc:
        return 404, exc.reason, 0
    except GatehouseError as exc:
        return 409, exc.reason, 0
    if ran.changed:
        gatehouse.changed.set()
        try:
            gatehouse.zone_publisher.sync_after_change()
        except Exception:
            log.exception("writing the zone files after a Dynamic DNS webcall failed")
    word = "updated" if ran.changed else "unchanged"
    return 200, f"{ran.domain} {ran.record_type} {ran.address} {word}", 0


async def serve(gatehouse: Gatehouse, scope: asgi.Scope, send: asgi.Send, path: str) -> None:
    """Answer a request for `/cpanelwebcall/<id>` (`path` without any cpsess prefix)."""
    webcall_id = path[len(PREFIX) :]
    scope["path"] = PREFIX + "-"  # the access log reads it: never the secret
    if scope.get("method") not in ("GET", "POST"):  # not HEAD: a link checker must not update
        await asgi.respond(
            send, 405, b"Use GET or POST.\n", [TEXT, asgi.NO_STORE, (b"allow", b"GET, POST")]
        )
        return
    peer = asgi.peer(scope)
    status, text, retry_after = await anyio.to_thread.run_sync(_run, gatehouse, webcall_id, peer)
    headers = [TEXT, asgi.NO_STORE]
    if retry_after:
        headers.append((b"retry-after", str(retry_after).encode()))
    await asgi.respond(send, status, f"{text}\n".encode(), headers)
