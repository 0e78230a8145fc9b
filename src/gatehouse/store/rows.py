"""Row helpers shared by the use cases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def upsert(bind: sa.Connection | sa.Engine, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT into `table` in the store's own dialect, the one that can say what to do on a
    conflict (`on_conflict_do_nothing` / `on_conflict_do_update`: SQLite and PostgreSQL both
    speak it, through their own statement classes)."""
    if bind.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def put(
    conn: sa.Connection, table: sa.Table, key: Mapping[str, Any], values: Mapping[str, Any]
) -> None:
    """The row of `table` with `key` (its primary-key columns) set to `values`: inserted, or
    updated when it exists — one statement (`INSERT … ON CONFLICT DO UPDATE`, which SQLite
    and PostgreSQL both speak), so two transactions racing to make the same new row both
    succeed, the later one's values kept, rather than the second failing on the key."""
    statement = upsert(conn, table).values(**key, **values)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c[name] for name in key],
            set_={name: statement.excluded[name] for name in values},
        )
    )
