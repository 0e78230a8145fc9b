"""Token notices (issue 17 part 4, docs/governance.md#4-notices): **gatehouse extensions** for
root to read the queue, to queue a test notice and to set the webhook's signing secret. cPanel
sends no such notices."""

from __future__ import annotations

import secrets
from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param
from gatehouse.domain import notices
from gatehouse.errors import InvalidParameter
from gatehouse.numerals import digits
from gatehouse.whm.registry import REGISTRY

MAX_LIMIT = 1000


@REGISTRY.function(
    "gatehouse_list_notices",
    "**gatehouse extension**: the token notices queued and sent (webhook and e-mail), newest "
    "first: event, channel, token, status (`pending`, `delivered`, `failed`), attempts, the "
    "last error.",
    params=(
        Param("status", "`pending`, `delivered`, `failed` or `all` (default)."),
        Param("limit", "How many, newest first (default 100, at most 1000).", type="integer"),
    ),
    privileges=(acls.ALL,),
    readonly=True,
)
def gatehouse_list_notices(call: Call) -> dict[str, Any]:
    status = (call.params.get("status") or "all").strip().lower()
    if status not in (*notices.STATUSES, "all"):
        raise InvalidParameter(
            f"“status” must be pending, delivered, failed or all, not “{status}”."
        )
    raw = (call.params.get("limit") or "100").strip()
    if not digits(raw) or not 0 < int(raw) <= MAX_LIMIT:
        raise InvalidParameter(
            f"“limit” must be a whole number from 1 to {MAX_LIMIT}, not “{raw}”."
        )
    found = notices.listed(call.conn, None if status == "all" else status, int(raw))
    return {
        "channels": list(notices.channels(call.gatehouse.config)),
        "notices": found,
        "count": len(found),
    }


@REGISTRY.function(
    "gatehouse_send_test_notice",
    "**gatehouse extension**: queue a test notice on every configured channel (the webhook, "
    "and e-mail to the operator addresses); `gatehouse serve` delivers it within seconds, and "
    "`gatehouse_list_notices` shows how it went.",
    privileges=(acls.ALL,),
)
def gatehouse_send_test_notice(call: Call) -> dict[str, Any]:
    config = call.gatehouse.config
    if not notices.channels(config):
        raise InvalidParameter(
            "No notice channel is configured: set GATEHOUSE_NOTICE_WEBHOOK_URL (with "
            "GATEHOUSE_NOTICE_WEBHOOK_SECRET) or GATEHOUSE_NOTICE_SMTP_HOST."
        )
    ids = notices.queue_test(call.conn, config, call.now, secrets.token_hex(8))
    if not ids:
        raise InvalidParameter(
            "Only e-mail is configured, and it has no address to send a test to: set "
            "GATEHOUSE_NOTICE_EMAIL_TO."
        )
    call.audit(notices.TEST_AUDIT, detail=f"test notice queued on {len(ids)} channel(s)")
    return {"ids": ids}


@REGISTRY.function(
    "gatehouse_set_notice_secret",
    "**gatehouse extension**: set the key token-notice webhooks are signed with, kept "
    "encrypted in the store so every node signs with it (GATEHOUSE_NOTICE_WEBHOOK_SECRET, "
    "when a node sets it, takes precedence there).",
    params=(
        Param(
            "secret",
            "The signing key: 16 to 512 printable ASCII characters.",
            required=True,
            secret=True,
        ),
    ),
    privileges=(acls.ALL,),
)
def gatehouse_set_notice_secret(call: Call) -> dict[str, Any]:
    notices.set_webhook_secret(call.conn, call.gatehouse.keyring, call.require("secret"), call.now)
    call.audit(notices.SECRET_AUDIT, detail="the notices webhook's signing secret was set")
    overridden = bool(call.gatehouse.config.notice_webhook_secret)
    return {"set_time": call.now, "overridden_here": 1 if overridden else 0}
