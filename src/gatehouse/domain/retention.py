"""What the store keeps and for how long: the audit trail for GATEHOUSE_AUDIT_RETENTION_DAYS
(0: for ever), cPHulk's attempts while a window can count them and its blocks an hour past
expiry. Run by `gatehouse serve` every hour and by `gatehouse audit purge`; one batch per
transaction, so a large purge never holds the store's write lock for long."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from gatehouse.domain import audit
from gatehouse.domain.cphulk import history
from gatehouse.domain.cphulk import settings as hulk_settings

DAY = 24 * 3600
INTERVAL = 3600  # seconds between the server's passes


@dataclass(frozen=True, slots=True)
class Purged:
    audit_rows: int
    cphulk_rows: int


def purge(engine: sa.Engine, now: int, audit_days: int) -> Purged:
    audit_rows = 0
    if audit_days > 0:
        while True:
            with engine.begin() as conn:
                count = audit.purge(conn, now - audit_days * DAY)
            audit_rows += count
            if count < audit.PURGE_BATCH:
                break
    cphulk_rows = 0
    while True:
        with engine.begin() as conn:
            count = history.purge(conn, hulk_settings.load(conn), now)
        cphulk_rows += count
        if count < history.PURGE_BATCH:
            break
    return Purged(audit_rows, cphulk_rows)
