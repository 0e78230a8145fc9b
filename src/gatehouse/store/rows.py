"""Row helpers shared by the use cases."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa


def put(
    conn: sa.Connection, table: sa.Table, key: Mapping[str, Any], values: Mapping[str, Any]
) -> None:
    """The row of `table` with `key` (its primary-key columns) set to `values`: updated when
    it exists, else inserted — one spelling for SQLite and PostgreSQL. Two transactions
    racing to insert the same new key: the second fails on the primary key and rolls back."""
    where = [table.c[name] == value for name, value in key.items()]
    if conn.execute(sa.update(table).where(*where).values(**values)).rowcount == 0:
        conn.execute(sa.insert(table).values(**key, **values))
