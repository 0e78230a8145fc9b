"""Logging in with a password (the WHM login page): the limit on failed attempts, and the
session a successful one opens.

The limit is counted from the audit trail's failed logins, so it holds across restarts and
across nodes sharing a store; refusals made by the limit itself are not counted, so waiting
out the window always works.
"""

from __future__ import annotations

import sqlalchemy as sa

from gatehouse.domain import audit, sessions
from gatehouse.domain.users import User
from gatehouse.store.schema import audit_log

FAILURE_DETAIL = "/login"  # the audit detail of a failed login on the page
WINDOW = 15 * 60
RATE_LIMITED = "login_rate_limited"  # the audit reason of an attempt refused by the limit


def rate_limited(
    conn: sa.Connection,
    *,
    username: str,
    peer: str | None,
    now: int,
    per_user: int,
    per_ip: int,
) -> bool:
    """Whether `username`, or the address `peer`, has failed `per_user` (`per_ip`) logins
    within the window."""
    failures = sa.select(sa.func.count()).where(
        audit_log.c.time >= now - WINDOW,
        audit_log.c.action == audit.AUTH_FAILURE,
        audit_log.c.detail == FAILURE_DETAIL,
        audit_log.c.reason != RATE_LIMITED,
    )
    if conn.execute(failures.where(audit_log.c.actor == username)).scalar_one() >= per_user:
        return True
    if peer is None:
        return False
    per_peer = conn.execute(failures.where(audit_log.c.source_ip == peer)).scalar_one()
    return bool(per_peer >= per_ip)


def open_session(
    conn: sa.Connection, user: User, peer: str | None, now: int, idle_timeout: int
) -> tuple[sessions.ActiveSession, str]:
    """A `whostmgrd` session for `user`, who has just logged in from `peer` (audited), and
    its cookie secret; stale sessions are purged on the way."""
    opened = sessions.open_session(conn, user, sessions.WHOSTMGRD, "login", now)
    audit.record(
        conn,
        now=now,
        action=audit.SESSION_CREATE,
        actor=user.username,
        subject=user.username,
        source_ip=peer,
        detail="login page",
    )
    sessions.purge_stale(conn, now, idle_timeout)
    return opened
