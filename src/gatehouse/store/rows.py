"""Row helpers shared by the use cases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite


def put(
    conn: sa.Connection, table: sa.Table, key: Mapping[str, Any], values: Mapping[str, Any]
) -> None:
    """The row of `table` with `key` (its primary-key columns) set to `values`: inserted, or
    updated when it exists — one statement (`INSERT … ON CONFLICT DO UPDATE`, which SQLite
    and PostgreSQL both speak), so two transactions racing to make the same new row both
    succeed, the later one's values kept, rather than the second failing on the key."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**key, **values)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[table.c[name] for name in key],
            set_={name: statement.excluded[name] for name in values},
        )
    )
