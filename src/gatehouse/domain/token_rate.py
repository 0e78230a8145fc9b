"""Per-token rate limits (docs/governance.md, rate limits; issue 17 §7).

A token may carry a limit of requests per minute (`api_tokens.rate_limit`). Its requests are
counted in the store — one row per limited token in `token_rate`, this minute's count and the
last minute's — so every process and every node on the store shares one count. The estimate
is the usual sliding window: the last minute's count weighted by how much of it still lies
within the past 60 seconds, plus this minute's. A request that would take the estimate over
the limit is refused (and not counted) with the seconds to wait.

Only limited tokens pay for this: one upsert per request, in a transaction of its own. Tokens
without a limit — all of them unless an owner sets one — never touch the table.
"""

from __future__ import annotations

import math

import sqlalchemy as sa

from gatehouse.errors import InvalidParameter
from gatehouse.numerals import digits
from gatehouse.store.rows import upsert
from gatehouse.store.schema import token_rate

WINDOW = 60  # seconds
MAX_LIMIT = 1_000_000  # requests per minute


def parse_limit(raw: str | None) -> int | None:
    """`rate_limit`: a whole number of requests per minute, 0 or empty for none."""
    text = (raw or "").strip()
    if not text or text == "0":
        return None
    if not digits(text) or not 0 < int(text) <= MAX_LIMIT:
        raise InvalidParameter(
            f"“rate_limit” must be a whole number of requests per minute from 0 (none) to "
            f"{MAX_LIMIT}, not “{raw}”."
        )
    return int(text)


def take(engine: sa.Engine, token_id: int, limit: int, now: float) -> int | None:
    """Count one request of the token; None if it is within `limit` per minute, else the
    whole seconds to wait (at least 1), the request not counted."""
    window = int(now) // WINDOW * WINDOW
    row = token_rate.c
    statement = (
        upsert(engine, token_rate)
        .values(token_id=token_id, window_start=window, this_minute=1, last_minute=0)
        .on_conflict_do_update(
            index_elements=[row.token_id],
            # Every expression reads the row as it was before this update.
            set_={
                "last_minute": sa.case(
                    (row.window_start == window, row.last_minute),
                    (row.window_start == window - WINDOW, row.this_minute),
                    else_=0,
                ),
                "this_minute": sa.case((row.window_start == window, row.this_minute + 1), else_=1),
                "window_start": window,
            },
        )
        .returning(row.this_minute, row.last_minute)
    )
    with engine.begin() as conn:
        this_minute, last_minute = conn.execute(statement).one()
        elapsed = now - window
        if _estimate(this_minute, last_minute, elapsed) <= limit:
            return None
        conn.execute(
            sa.update(token_rate)
            .where(row.token_id == token_id, row.window_start == window)
            .values(this_minute=row.this_minute - 1)
        )
    return _wait(this_minute - 1, last_minute, elapsed, limit)


def _estimate(this_minute: int, last_minute: int, elapsed: float) -> float:
    return last_minute * max(0.0, 1 - elapsed / WINDOW) + this_minute


def _wait(this_minute: int, last_minute: int, elapsed: float, limit: int) -> int:
    """Seconds until one more request fits: while this minute lasts, as the last minute's
    weight fades; else into the next minute, as this minute's fades in its turn."""
    room = limit - 1  # what the others may add up to, so that one more fits
    if this_minute <= room and last_minute > 0:
        # last × (1 − (elapsed + x)/60) + this ≤ room
        x = WINDOW * (1 - (room - this_minute) / last_minute) - elapsed
        if x <= WINDOW - elapsed:
            return max(1, math.ceil(x))
    # Next minute, t seconds in: this × (1 − t/60) ≤ room
    t = WINDOW * (1 - room / this_minute) if this_minute > 0 else 0.0
    return max(1, math.ceil(WINDOW - elapsed + max(0.0, t)))
