"""Reading the audit trail (issue 17 part 8, docs/governance.md): a **gatehouse extension**
for root, filtered by user, token, action, address, reason and time. cPanel keeps its logs
in files (`/usr/local/cpanel/logs/`) with no API to query them."""

from __future__ import annotations

import datetime as dt
import ipaddress
from typing import Any

from gatehouse import acls
from gatehouse.api.call import Call
from gatehouse.api.registry import Param
from gatehouse.domain import audit
from gatehouse.errors import InvalidParameter
from gatehouse.numerals import digits
from gatehouse.whm.registry import REGISTRY

MAX_LIMIT = 10_000


def _time(call: Call, name: str) -> int | None:
    """A Unix time, or an ISO date or date-time (UTC unless it says otherwise)."""
    raw = (call.params.get(name) or "").strip()
    if not raw:
        return None
    if digits(raw) and len(raw) <= 12:
        return int(raw)
    try:
        parsed = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidParameter(
            f"“{name}” must be a Unix time or an ISO date (2026-12-04T10:00), not “{raw[:40]}”."
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp())


def _text(call: Call, name: str) -> str | None:
    value = (call.params.get(name) or "").strip()
    return value or None


def entries(call: Call) -> list[audit.Entry]:
    """The entries the call's filters select (shared with the audit page's export)."""
    raw_limit = (call.params.get("limit") or "1000").strip()
    if not digits(raw_limit) or not 1 <= int(raw_limit) <= MAX_LIMIT:
        raise InvalidParameter(f"“limit” must be a whole number from 1 to {MAX_LIMIT}.")
    address = _text(call, "ip")
    if address is not None:
        try:
            address = str(ipaddress.ip_address(address))
        except ValueError:
            raise InvalidParameter(f"“{address}” is not an IP address.") from None
    since, until = _time(call, "since"), _time(call, "until")
    if since is not None and until is not None and until < since:
        raise InvalidParameter("“until” is before “since”.")
    return audit.query(
        call.conn,
        since=since,
        until=until,
        user=_text(call, "user"),
        action=_text(call, "action"),
        token_name=_text(call, "token_name"),
        source_ip=address,
        reason=_text(call, "reason"),
        limit=int(raw_limit),
    )


def as_dict(entry: audit.Entry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "time": entry.time,
        "action": entry.action,
        "reason": entry.reason,
        "actor": entry.actor,
        "subject": entry.subject,
        "source_ip": entry.source_ip,
        "token_name": entry.token_name,
        "detail": entry.detail,
        "repeats": entry.repeats,
    }


FILTERS = (
    Param("user", "Entries by (actor) or about (subject) this user."),
    Param("token_name", "Entries naming this token."),
    Param("action", "This action, e.g. `CREATEAPITOKEN`, `AUTHFAILURE`."),
    Param("reason", "This reason code, e.g. `ok`, `token_expired`, `ip_not_allowed`."),
    Param("ip", "From this address."),
    Param("since", "From this time: Unix time or ISO date (UTC)."),
    Param("until", "Up to this time: Unix time or ISO date (UTC)."),
    Param("limit", f"The latest N entries (default 1000, at most {MAX_LIMIT})."),
)


@REGISTRY.function(
    "gatehouse_read_audit_log",
    "**gatehouse extension**: the audit trail (token changes, refusals with their reason "
    "codes, account and zone changes), filtered; the latest `limit` entries, oldest first.",
    params=FILTERS,
    privileges=(acls.ALL,),
    readonly=True,
)
def gatehouse_read_audit_log(call: Call) -> dict[str, Any]:
    found = entries(call)
    return {"entries": [as_dict(e) for e in found], "count": len(found)}
