"""Zones: a covering index of each zone's version (name, id, serial, updated_time)

The zone files' incremental sync and a server's start-up read every zone's version
(dns/zones.versions); without this index that is a scan of the whole table, zone texts
included — 1.8 s for 100,000 zones on a busy machine (docs/performance.md, scenario 13).
With it, an index-only scan.

Revision ID: 0025
Revises: 0024
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_zones_versions", "zones", ["name", "id", "serial", "updated_time"], unique=False
    )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
