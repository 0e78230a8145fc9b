"""The audit trail: token changes and refused authentications. It never holds a secret."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gatehouse.store.schema import audit_log

# Actions
TOKEN_CREATE = "CREATEAPITOKEN"
TOKEN_UPDATE = "UPDATEAPITOKEN"
TOKEN_REVOKE = "REVOKEAPITOKEN"
AUTH_FAILURE = "AUTHFAILURE"
ACCESS_DENIED = "ACCESSDENIED"
SESSION_CREATE = "CREATESESSION"
PASSWORD_CHANGE = "PASSWD"
ACCOUNT_CREATE = "CREATEACCT"
ACCOUNT_MODIFY = "MODIFYACCT"
RESELLER_SETUP = "ADDRESELLER"
RESELLER_UNSETUP = "DELRESELLER"
RESELLER_ACLS = "SETACLS"
ACCESSHASH_GENERATE = "GENERATEACCESSHASH"
ACCESSHASH_CONVERT = "CONVERTACCESSHASH"
TWEAK_SET = "TWEAKSETTING"
IMPORT = "IMPORTCPANEL"
ACCOUNT_SUSPEND = "SUSPENDACCT"
ACCOUNT_UNSUSPEND = "UNSUSPENDACCT"
ACCOUNT_REMOVE = "REMOVEACCT"
ACCOUNT_CHANGE_PACKAGE = "CHANGEPACKAGE"
RESELLER_LIMITS = "SETRESELLERLIMITS"
RESELLER_NAMESERVERS = "SETRESELLERNAMESERVERS"
PACKAGE_CREATE = "ADDPKG"
PACKAGE_EDIT = "EDITPKG"
PACKAGE_DELETE = "KILLPKG"
ZONE_CREATE = "ADDDNS"
ZONE_EDIT = "EDITDNSZONE"
ZONE_RESET = "RESETZONE"
ZONE_DELETE = "KILLDNS"
ZONE_KEEP = "KEEPDNS"

OK = "ok"


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    time: int
    action: str
    actor: str | None
    subject: str | None
    source_ip: str | None
    token_name: str | None
    reason: str
    detail: str | None
    repeats: int = 1  # identical refusals in a row kept as one row (issue 18 §4)


def record(
    conn: sa.Connection,
    *,
    now: int,
    action: str,
    reason: str = OK,
    actor: str | None = None,
    subject: str | None = None,
    source_ip: str | None = None,
    token_name: str | None = None,
    detail: str | None = None,
) -> None:
    conn.execute(
        sa.insert(audit_log).values(
            time=now,
            action=action,
            reason=reason,
            actor=_clip(actor, 64),
            subject=_clip(subject, 64),
            source_ip=_clip(source_ip, 45),
            token_name=_clip(token_name, 64),
            detail=detail,
        )
    )


def _clip(value: str | None, limit: int) -> str | None:
    return value[:limit] if value is not None else None


def query(
    conn: sa.Connection,
    *,
    since: int | None = None,
    user: str | None = None,
    limit: int = 1000,
) -> list[Entry]:
    stmt = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if since is not None:
        stmt = stmt.where(audit_log.c.time >= since)
    if user is not None:
        stmt = stmt.where(sa.or_(audit_log.c.actor == user, audit_log.c.subject == user))
    rows: list[Any] = list(conn.execute(stmt))
    return [Entry(**r._mapping) for r in reversed(rows)]
