"""Rotating an API token with an overlap window (docs/governance.md, rotation; issue 17 §3).

Rotation gives a token a new secret under the same row — name, privileges, allowed addresses,
expiry, description and history stay — and keeps the previous secret working for a grace
period, so the clients that hold it can be moved one by one. The previous secret's digest
waits in `token_grace` until its time is up; the authenticator finds a token by its current
digest first and by a previous one only when that fails (domain/tokens.lookup_for_auth), and
a token found that way expires when its grace does.

* One previous secret per token: rotating again ends the previous grace at once.
* Revoking the token deletes its row and with it the grace row: both secrets stop at once.
* Changing the digest moves the store's auth generation (the trigger of migration 0003
  watches the `digest` column), so every process's token cache drops the old entry at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.domain import tokens
from gatehouse.domain.tokens import Token
from gatehouse.errors import InvalidParameter, NotFound
from gatehouse.numerals import digits
from gatehouse.store.schema import api_tokens, token_grace

DEFAULT_GRACE = 24 * 3600  # seconds the previous secret keeps working unless told otherwise
MAX_GRACE = 30 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Rotated:
    token: Token
    plaintext: str  # the new secret: exists here once, never stored
    previous_expires_at: int | None  # when the previous secret stops; None: it already has


def parse_grace(raw: str | None) -> int:
    """Seconds of overlap: absent means DEFAULT_GRACE, 0 none, at most MAX_GRACE."""
    if raw is None or raw.strip() == "":
        return DEFAULT_GRACE
    text = raw.strip()
    if not digits(text) or int(text) > MAX_GRACE:
        raise InvalidParameter(
            f"“grace_period” must be a whole number of seconds from 0 to {MAX_GRACE} "
            f"(30 days), not “{raw}”."
        )
    return int(text)


def rotate(
    conn: sa.Connection, *, user_id: int, service: str, name: str, now: int, grace: int
) -> Rotated:
    """Give the named token a new secret; its current one keeps working `grace` seconds."""
    row = conn.execute(
        sa.select(api_tokens.c.id, api_tokens.c.digest).where(
            api_tokens.c.user_id == user_id,
            api_tokens.c.service == service,
            api_tokens.c.name == name,
        )
    ).first()
    if row is None:
        raise NotFound(f"The API token “{name}” does not exist.")
    current = tokens.get_by_name(conn, user_id, service, name)
    assert current is not None  # the row read above, in this transaction
    if current.is_expired(now):
        raise InvalidParameter(
            f"The API token “{name}” has expired; a new secret would not work either. "
            "Create a new token, or extend this one's expiry first."
        )
    plaintext = tokens.generate()
    conn.execute(sa.delete(token_grace).where(token_grace.c.token_id == row.id))
    conn.execute(sa.delete(token_grace).where(token_grace.c.expires_at < now))
    conn.execute(
        sa.update(api_tokens)
        .where(api_tokens.c.id == row.id)
        .values(digest=tokens.digest(plaintext))
    )
    previous = None
    if grace > 0:
        previous = now + grace
        if current.expires_at is not None:
            previous = min(previous, current.expires_at)
        conn.execute(
            sa.insert(token_grace).values(
                digest=row.digest, token_id=row.id, expires_at=previous, rotated_at=now
            )
        )
    token = tokens.get_by_name(conn, user_id, service, name)
    assert token is not None
    return Rotated(token, plaintext, previous)


def end_grace(conn: sa.Connection, *, user_id: int, service: str, name: str) -> bool:
    """Stop the named token's previous secret now; False if it had none working."""
    token = tokens.get_by_name(conn, user_id, service, name)
    if token is None:
        raise NotFound(f"The API token “{name}” does not exist.")
    ended = conn.execute(sa.delete(token_grace).where(token_grace.c.token_id == token.id))
    if not ended.rowcount:
        return False
    # Touch the watched column: every process's token cache drops what it holds for the
    # previous secret now, rather than when its grace would have ended.
    conn.execute(
        sa.update(api_tokens).where(api_tokens.c.id == token.id).values(digest=api_tokens.c.digest)
    )
    return True


def grace_ends(conn: sa.Connection, token_ids: list[int], now: int) -> dict[int, int]:
    """When each of these tokens' previous secret stops, for those that still have one."""
    if not token_ids:
        return {}
    rows = conn.execute(
        sa.select(token_grace.c.token_id, token_grace.c.expires_at).where(
            token_grace.c.token_id.in_(token_ids), token_grace.c.expires_at >= now
        )
    )
    return {int(r.token_id): int(r.expires_at) for r in rows}
