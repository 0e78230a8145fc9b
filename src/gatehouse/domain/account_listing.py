"""Every account a caller may list, read for listaccts' fast path (whm/account_listing.py):
the columns an entry shows, in one query, as plain tuples — the package settings (`limits`)
as their stored JSON text, not decoded, so a row is a value that changes whenever anything
its entry shows changes, and can key a cache of the encoded entry.

The tuples are the driver's own (no SQLAlchemy Row, no result processing: 10,000 rows are
read ~20 % faster and compared ~3× faster): so a Boolean column is 0/1 on SQLite and a bool
on PostgreSQL, which an entry turns into the same number either way. `Listed` gives a row's
values their names, for building an entry.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import sqlalchemy as sa

from gatehouse.domain import access
from gatehouse.domain.accounts import visible_select
from gatehouse.store.schema import users as users_table


class Listed(NamedTuple):
    """A row of `visible_raw`, its values named: the columns of accounts.visible_rows (what
    an entry shows), `limits` last and as text."""

    id: Any
    username: Any
    domain: Any
    owner: Any
    contact_email: Any
    suspended: Any
    created_time: Any
    plan: Any
    ip: Any
    suspend_reason: Any
    suspend_time: Any
    suspend_locked: Any
    limits_text: Any  # `limits`' JSON text, or None


ID, USERNAME, LIMITS_TEXT = 0, 1, len(Listed._fields) - 1
_SELECTED = [
    *(users_table.c[name] for name in Listed._fields[:LIMITS_TEXT]),
    sa.cast(users_table.c.limits, sa.Text).label("limits_text"),
]


def _listing() -> Any:
    return sa.select(*_SELECTED)


def sees_every_account(actor: access.Actor) -> bool:
    """Whether `actor`'s listing is every account of the store (root, unscoped)."""
    return access.visible_owner(actor) is None and actor.scope is None


def visible_raw(conn: sa.Connection, actor: access.Actor) -> list[tuple[Any, ...]]:
    """The accounts `actor` may list (the same rows as accounts.visible_rows) as the
    driver's tuples of `Listed`'s values, in no particular order: the caller sorts (by
    username, as the listing is sorted)."""
    query, values = visible_select(_listing, actor)
    result = conn.execute(query, values)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()
