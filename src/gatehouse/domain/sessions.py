"""Sessions: a `/cpsessNNNNNNNNNN/` path token plus a secret cookie.

`create_user_session` makes a one-time login URL; following it swaps the URL's secret for a
fresh cookie secret, so a URL seen in a log or a browser history cannot be replayed. Only
SHA-256 digests of either secret are stored.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.domain.users import OWNER_COLUMNS, User, owner_from_joined
from gatehouse.store.schema import sessions, users

LOGIN_WINDOW = 5 * 60  # cPanel's PREAUTH_SESSION_DURATION: the one-time URL's lifetime
IDLE_TIMEOUT = 15 * 60  # cPanel destroys a session after 15 minutes of inactivity
TOUCH_INTERVAL = 60  # record activity at most once a minute: no write on every request

WHOSTMGRD = "whostmgrd"
CPANELD = "cpaneld"
WEBMAILD = "webmaild"

# The cookie that carries a session's secret beside its /cpsessN/ prefix, by cpsrvd's names:
# WHM's (the pages and the API on the WHM ports) and cPanel's (on the cPanel ports).
WHM_COOKIE = "whostmgrsession"
CPANEL_COOKIE = "cpsession"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def new_security_token() -> str:
    return "".join(secrets.choice("0123456789") for _ in range(10))


@dataclass(frozen=True, slots=True)
class NewSession:
    security_token: str  # the digits of cpsessNNNNNNNNNN
    login_secret: str  # goes into the one-time URL as `session=USER:SECRET`
    expires: int


def create(conn: sa.Connection, user: User, service: str, origin: str, now: int) -> NewSession:
    secret = secrets.token_urlsafe(32)
    token = new_security_token()
    conn.execute(
        sa.insert(sessions).values(
            user_id=user.id,
            service=service,
            security_token=token,
            login_digest=_digest(secret),
            cookie_digest=None,
            created_time=now,
            last_active=now,
            origin=origin,
        )
    )
    return NewSession(security_token=token, login_secret=secret, expires=now + LOGIN_WINDOW)


@dataclass(frozen=True, slots=True)
class ActiveSession:
    id: int
    user: User
    service: str
    security_token: str
    last_active: int


def redeem_login(
    conn: sa.Connection,
    security_token: str,
    login_secret: str,
    now: int,
    service: str = WHOSTMGRD,
) -> tuple[ActiveSession, str] | None:
    """Turn a one-time login secret into a cookie secret; None if it is unknown or stale, or
    made for another face's `service` (a cpaneld URL is no key to WHM, nor the reverse)."""
    row = conn.execute(
        sa.select(sessions).where(sessions.c.login_digest == _digest(login_secret))
    ).first()
    if row is None or row.security_token != security_token or row.service != service:
        return None
    if row.cookie_digest is not None or now - row.created_time > LOGIN_WINDOW:
        return None
    cookie_secret = secrets.token_urlsafe(32)
    # Conditional on the URL still being unredeemed: of two requests racing with the same
    # URL, exactly one gets a cookie.
    swapped = conn.execute(
        sa.update(sessions)
        .where(
            sessions.c.id == row.id,
            sessions.c.login_digest == row.login_digest,
            sessions.c.cookie_digest.is_(None),
        )
        .values(login_digest=None, cookie_digest=_digest(cookie_secret), last_active=now)
    )
    if swapped.rowcount != 1:
        return None
    active = authenticate(conn, security_token, cookie_secret, now, service=service)
    assert active is not None
    return active, cookie_secret


def authenticate(
    conn: sa.Connection,
    security_token: str,
    cookie_secret: str,
    now: int,
    idle_timeout: int = IDLE_TIMEOUT,
    *,
    service: str = WHOSTMGRD,
) -> ActiveSession | None:
    """The live session of `service` with this prefix and cookie, or None: a session serves
    only the face it was made for (WHM's pages take `whostmgrd`, the cPanel pages `cpaneld`)."""
    row = conn.execute(
        sa.select(sessions, *OWNER_COLUMNS)
        .join(users, users.c.id == sessions.c.user_id)
        .where(sessions.c.cookie_digest == _digest(cookie_secret))
    ).first()
    if row is None or not secrets.compare_digest(row.security_token, security_token):
        return None
    if row.service != service:
        return None
    if now - row.last_active > idle_timeout:
        return None
    return ActiveSession(
        id=row.id,
        user=owner_from_joined(row),
        service=row.service,
        security_token=row.security_token,
        last_active=int(row.last_active),
    )


def touch(conn: sa.Connection, session_id: int, now: int) -> None:
    conn.execute(sa.update(sessions).where(sessions.c.id == session_id).values(last_active=now))


def open_session(
    conn: sa.Connection, user: User, service: str, origin: str, now: int
) -> tuple[ActiveSession, str]:
    """A session for someone who has just proved who they are (the login page): no
    one-time URL is handed out, the cookie secret is made at once."""
    new = create(conn, user, service, origin, now)
    redeemed = redeem_login(conn, new.security_token, new.login_secret, now, service)
    assert redeemed is not None
    return redeemed


def destroy(conn: sa.Connection, session_id: int) -> None:
    conn.execute(sa.delete(sessions).where(sessions.c.id == session_id))


def purge_stale(conn: sa.Connection, now: int, idle_timeout: int = IDLE_TIMEOUT) -> int:
    result = conn.execute(
        sa.delete(sessions).where(sessions.c.last_active < now - max(idle_timeout, LOGIN_WINDOW))
    )
    return int(result.rowcount or 0)
