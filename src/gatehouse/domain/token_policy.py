"""Token policies of the server (issue 17 part 5, docs/governance.md): a maximum lifetime for
new tokens, the expiry of tokens left unused, and the stale-token report. WHM and cPanel
tokens alike."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.domain import audit
from gatehouse.store.schema import api_tokens, users

DAY = 24 * 3600
AUTO_EXPIRE = "AUTOEXPIREAPITOKEN"


def capped_expiry(expires_at: int | None, now: int, max_days: int) -> int | None:
    """The expiry a new token gets under a maximum lifetime of `max_days` (0: none): the one
    asked for, or the limit when none was asked for or a later one was."""
    if max_days <= 0:
        return expires_at
    limit = now + max_days * DAY
    return limit if expires_at is None or expires_at > limit else expires_at


@dataclass(frozen=True, slots=True)
class StaleToken:
    owner: str
    service: str  # whostmgr | cpanel
    name: str
    description: str | None
    create_time: int
    expires_at: int | None
    last_used_time: int | None
    last_used_ip: str | None


def _unused_since(cutoff: int) -> sa.ColumnElement[bool]:
    """Not used since `cutoff` (a token never used: made before it)."""
    return sa.func.coalesce(api_tokens.c.last_used_time, api_tokens.c.create_time) < cutoff


def _live(now: int) -> sa.ColumnElement[bool]:
    return sa.or_(api_tokens.c.expires_at.is_(None), api_tokens.c.expires_at >= now)


def stale(conn: sa.Connection, now: int, days: int) -> list[StaleToken]:
    """Every unexpired token unused for `days` days (or never used and older than that),
    the longest unused first."""
    query = (
        sa.select(
            users.c.username,
            api_tokens.c.service,
            api_tokens.c.name,
            api_tokens.c.description,
            api_tokens.c.create_time,
            api_tokens.c.expires_at,
            api_tokens.c.last_used_time,
            api_tokens.c.last_used_ip,
        )
        .join(users, users.c.id == api_tokens.c.user_id)
        .where(_unused_since(now - days * DAY), _live(now))
        .order_by(
            sa.func.coalesce(api_tokens.c.last_used_time, api_tokens.c.create_time),
            users.c.username,
            api_tokens.c.name,
        )
    )
    return [
        StaleToken(
            str(r.username),
            str(r.service),
            str(r.name),
            r.description,
            int(r.create_time),
            None if r.expires_at is None else int(r.expires_at),
            None if r.last_used_time is None else int(r.last_used_time),
            r.last_used_ip,
        )
        for r in conn.execute(query)
    ]


def expire_unused(engine: sa.Engine, now: int, days: int) -> list[StaleToken]:
    """Expire (as of `now`) every live token unused for `days` days, each audited; the
    tokens expired. Expired rather than deleted: the owner still sees it, and why."""
    if days <= 0:
        return []
    with engine.begin() as conn:
        found = stale(conn, now, days)
        if not found:
            return []
        conn.execute(
            sa.update(api_tokens)
            .where(_unused_since(now - days * DAY), _live(now))
            .values(expires_at=now - 1)
        )
        for token in found:
            audit.record(
                conn, now=now, action=AUTO_EXPIRE, actor="gatehouse", subject=token.owner,
                token_name=token.name,
                detail=f"{token.service} token unused for {days} days"
                + (" (never used)" if token.last_used_time is None else ""),
            )  # fmt: skip
    return found


@dataclass(frozen=True, slots=True)
class Revoked:
    owner: str
    service: str
    name: str


def revoke_where(conn: sa.Connection, *conditions: sa.ColumnElement[bool]) -> list[Revoked]:
    """Delete every token matching `conditions` (at once: the auth generation moves with the
    delete, so every node refuses them on the next request); the tokens revoked."""
    found = [
        Revoked(str(r.username), str(r.service), str(r.name))
        for r in conn.execute(
            sa.select(users.c.username, api_tokens.c.service, api_tokens.c.name, api_tokens.c.id)
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(*conditions)
            .order_by(users.c.username, api_tokens.c.service, api_tokens.c.name)
        )
    ]
    if found:
        conn.execute(sa.delete(api_tokens).where(*conditions))
    return found


def of_user(user_id: int, service: str | None) -> list[sa.ColumnElement[bool]]:
    conditions = [api_tokens.c.user_id == user_id]
    if service is not None:
        conditions.append(api_tokens.c.service == service)
    return conditions


def last_used_from(address: str) -> list[sa.ColumnElement[bool]]:
    return [api_tokens.c.last_used_ip == address]
