"""Named privilege lists (saveacllist, listacls), which setacls may apply to a reseller."""

from __future__ import annotations

import sqlalchemy as sa

from gatehouse.store.schema import acl_lists


def get(conn: sa.Connection, name: str) -> list[str] | None:
    """The privileges saved under `name` (None: no such list)."""
    row = conn.execute(sa.select(acl_lists.c.acls).where(acl_lists.c.name == name)).first()
    return list(row.acls) if row is not None else None


def save(conn: sa.Connection, name: str, privileges: list[str]) -> None:
    """Save (or replace) the list `name`."""
    conn.execute(sa.delete(acl_lists).where(acl_lists.c.name == name))
    conn.execute(sa.insert(acl_lists).values(name=name, acls=privileges))


def all_lists(conn: sa.Connection) -> list[tuple[str, frozenset[str]]]:
    """Every saved list, by name."""
    rows = conn.execute(sa.select(acl_lists).order_by(acl_lists.c.name))
    return [(r.name, frozenset(r.acls)) for r in rows]
