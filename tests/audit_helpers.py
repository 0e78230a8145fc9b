"""What the audit trail recorded since a moment, for tests. Identical refusals within a minute
add to one row's `repeats` (docs/security.md#audit-trail), so "since" means the rows added
since and the counts that grew since; each event is returned once, however it was stored."""

from __future__ import annotations

import time
from typing import Any

from conftest import Server

Mark = tuple[int, dict[int, int]]  # the last row id, and the counts of recent rows


def last_audit_id(server: Server) -> Mark:
    rows = server.sql(
        "SELECT id, repeats FROM audit_log WHERE time >= :t", t=int(time.time()) - 120
    )
    top = server.sql("SELECT COALESCE(MAX(id), 0) FROM audit_log")[0][0]
    return int(top), {int(r[0]): int(r[1]) for r in rows}


def audited_since(server: Server, since: Mark, action: str | None = None) -> list[Any]:
    """The rows (every column) of the events since `since`, one per event, oldest first."""
    top, counts = since
    query = "SELECT * FROM audit_log WHERE id > :floor"
    if action is not None:
        query += " AND action = :action"
    rows = server.sql(query + " ORDER BY id", floor=min([*counts, top + 1]) - 1, action=action)
    return [r for r in rows for _ in range(r.repeats - counts.get(r.id, 0))]
