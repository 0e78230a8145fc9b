"""Logging in with a password (the WHM login page): the session a successful login opens.

Failed logins are counted and limited by cPHulk (`domain.cphulk`), for the page as for every
other credential path. A cPanel account's login is also where it logged in from
(`domain.last_login`: UAPI `LastLogin`).
"""

from __future__ import annotations

import sqlalchemy as sa

from gatehouse.domain import audit, last_login, sessions
from gatehouse.domain.users import User

FAILURE_DETAIL = "/login"  # the audit detail of a failed login on the page


def open_session(
    conn: sa.Connection,
    user: User,
    peer: str | None,
    now: int,
    idle_timeout: int,
    service: str = sessions.WHOSTMGRD,
) -> tuple[sessions.ActiveSession, str]:
    """A session of `service` (WHM's `whostmgrd`, or `cpaneld`) for `user`, who has just
    logged in from `peer` (audited; on the cPanel face, recorded as its last login), and its
    cookie secret; stale sessions are purged on the way."""
    opened = sessions.open_session(conn, user, service, "login", now)
    if service == sessions.CPANELD:
        last_login.lastlogin(conn, user.id, peer)
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
