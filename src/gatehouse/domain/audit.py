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
TOKEN_ROTATE = "ROTATEAPITOKEN"
TOKEN_GRACE_END = "ENDAPITOKENGRACE"
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
RESELLER_IPS = "SETRESELLERIPS"
RESELLER_MAIN_IP = "SETRESELLERMAINIP"
RESELLER_PACKAGE_LIMIT = "SETRESELLERPACKAGELIMIT"
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


# Refusals repeat (a client retrying a revoked token, a scanner): an identical one less than
# AGGREGATE_WINDOW seconds after the latest identical row was started adds to that row's
# `repeats` instead of a new row. The row keeps its first time, so a storm is one row a minute.
AGGREGATED = frozenset({AUTH_FAILURE, ACCESS_DENIED})
AGGREGATE_WINDOW = 60
PURGE_BATCH = 5000


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
    values = {
        "action": action,
        "reason": reason,
        "actor": _clip(actor, 64),
        "subject": _clip(subject, 64),
        "source_ip": _clip(source_ip, 45),
        "token_name": _clip(token_name, 64),
        "detail": detail,
    }
    if action not in AGGREGATED:
        conn.execute(sa.insert(audit_log).values(time=now, **values))
    elif conn.dialect.name == "postgresql":
        conn.execute(_repeat_or_insert(values, now))
    elif not conn.execute(_add_repeat(values, now)).rowcount:
        conn.execute(sa.insert(audit_log).values(time=now, **values))


def _add_repeat(values: dict[str, str | None], now: int) -> sa.Update:
    """Count one more of the latest identical row within the window (no row updated when
    there is none). One UPDATE: two processes adding to the same row never lose a count (at
    worst a race inserts a second row)."""
    same = [audit_log.c.time > now - AGGREGATE_WINDOW]
    same += [audit_log.c[name].is_not_distinct_from(value) for name, value in values.items()]
    latest = sa.select(sa.func.max(audit_log.c.id)).where(*same).scalar_subquery()
    return (
        sa.update(audit_log).where(audit_log.c.id == latest).values(repeats=audit_log.c.repeats + 1)
    )


def _repeat_or_insert(values: dict[str, str | None], now: int) -> sa.Insert:
    """`_add_repeat`, and the new row when it updated none, as one statement (PostgreSQL's
    UPDATE inside WITH): one round trip, not two, for the first refusal of a kind — such as
    the first request with a token just revoked on another node (docs/performance.md)."""
    repeated = _add_repeat(values, now).returning(audit_log.c.id).cte("repeated")
    row = {"time": now, **values}
    new = sa.select(*(sa.literal(value, audit_log.c[name].type) for name, value in row.items()))
    return (
        sa.insert(audit_log)
        .from_select(list(row), new.where(~sa.exists(sa.select(repeated.c.id))))
        .add_cte(repeated, nest_here=True)
    )


def purge(conn: sa.Connection, before: int, limit: int = PURGE_BATCH) -> int:
    """Delete up to `limit` rows older than `before`; how many went. Callers commit between
    batches, so a long purge never holds the store's write lock for long."""
    batch = sa.select(audit_log.c.id).where(audit_log.c.time < before).limit(limit)
    return int(
        conn.execute(
            sa.delete(audit_log).where(audit_log.c.id.in_(batch.scalar_subquery()))
        ).rowcount
    )


def _clip(value: str | None, limit: int) -> str | None:
    return value[:limit] if value is not None else None


def query(
    conn: sa.Connection,
    *,
    since: int | None = None,
    until: int | None = None,
    user: str | None = None,
    action: str | None = None,
    token_name: str | None = None,
    source_ip: str | None = None,
    reason: str | None = None,
    limit: int = 1000,
) -> list[Entry]:
    """The latest `limit` entries matching every filter given, oldest first. `user` matches
    the actor or the subject; the others match exactly (`action` case-insensitively)."""
    stmt = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if since is not None:
        stmt = stmt.where(audit_log.c.time >= since)
    if until is not None:
        stmt = stmt.where(audit_log.c.time <= until)
    if user is not None:
        stmt = stmt.where(sa.or_(audit_log.c.actor == user, audit_log.c.subject == user))
    if action is not None:
        stmt = stmt.where(audit_log.c.action == action.upper())
    if token_name is not None:
        stmt = stmt.where(audit_log.c.token_name == token_name)
    if source_ip is not None:
        stmt = stmt.where(audit_log.c.source_ip == source_ip)
    if reason is not None:
        stmt = stmt.where(audit_log.c.reason == reason)
    rows: list[Any] = list(conn.execute(stmt))
    return [Entry(**r._mapping) for r in reversed(rows)]
