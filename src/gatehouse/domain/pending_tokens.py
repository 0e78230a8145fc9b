"""A new token waiting for its one view (Generate Token → the "created" page), in the store.

Any node behind a load balancer can show it, and exactly one request does: `take` reads and
deletes the row in one statement (`DELETE … RETURNING`), so of two nodes asked at once one gets
the row and the other nothing. The token is kept only as AES-256-GCM ciphertext under the key
ring (every node of a cluster shares it), bound to its session, so a row copied to another
session does not decrypt; the row goes with its session (log out, an ended session) and is
worthless after `TTL` seconds. Expired rows are purged by every `put` and `take`.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag

from gatehouse.domain.accesshash import KeyRing
from gatehouse.store.schema import pending_tokens

TTL = 5 * 60  # seconds a new token waits for its one view

_log = logging.getLogger(__name__)


def _context(session_id: int, security_token: str) -> str:
    # Binds the ciphertext to its session: a blob moved to another session's row will not
    # decrypt (a session id SQLite reuses comes with a new security token).
    return f"pending-token:{session_id}:{security_token}"


def put(
    conn: sa.Connection,
    keyring: KeyRing,
    session_id: int,
    security_token: str,
    token: dict[str, Any],
    now: int,
) -> None:
    """Keep `token` (the new token's details, its secret included) for the session's one
    view, replacing any not yet shown."""
    purge(conn, now)
    conn.execute(sa.delete(pending_tokens).where(pending_tokens.c.session_id == session_id))
    conn.execute(
        sa.insert(pending_tokens).values(
            session_id=session_id,
            ciphertext=keyring.encrypt(
                json.dumps(token, separators=(",", ":")), _context(session_id, security_token)
            ),
            expires=now + TTL,
        )
    )


def take(
    conn: sa.Connection, keyring: KeyRing, session_id: int, security_token: str, now: int
) -> dict[str, Any] | None:
    """The session's new token, once: None if there is none, it expired, or it was taken."""
    row = conn.execute(
        sa.delete(pending_tokens)
        .where(pending_tokens.c.session_id == session_id)
        .returning(pending_tokens.c.ciphertext, pending_tokens.c.expires)
    ).first()
    purge(conn, now)
    if row is None or row.expires <= now:
        return None
    try:
        plain = keyring.decrypt(bytes(row.ciphertext), _context(session_id, security_token))
    except InvalidTag:
        # Another key ring (nodes without the same GATEHOUSE_SECRET_KEY) or a row not made
        # for this session: nothing to show, and the row is gone.
        _log.warning("a new token waiting for session %d could not be decrypted", session_id)
        return None
    token: dict[str, Any] = json.loads(plain)
    return token


def purge(conn: sa.Connection, now: int) -> int:
    """Delete every expired row; returns how many."""
    return conn.execute(sa.delete(pending_tokens).where(pending_tokens.c.expires <= now)).rowcount
