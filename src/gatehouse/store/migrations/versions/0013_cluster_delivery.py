"""DNS cluster: each peer's last delivery and last failure, how it was added, and the
dnsuniqids applied by any process of any node

Nullable columns and one with a server default added to `cluster_peers`, and one plain
CREATE TABLE (`cluster_seen`); no existing row changes meaning (docs/cluster.md).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cluster_peers", sa.Column("last_delivery_time", sa.BigInteger(), nullable=True))
    op.add_column("cluster_peers", sa.Column("last_error", sa.Text(), nullable=True))
    op.add_column("cluster_peers", sa.Column("last_error_time", sa.BigInteger(), nullable=True))
    op.add_column(
        "cluster_peers",
        sa.Column("origin", sa.String(length=16), server_default="added", nullable=False),
    )
    op.create_table(
        "cluster_seen",
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("seen_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("digest", name=op.f("pk_cluster_seen")),
    )
    op.create_index(op.f("ix_cluster_seen_seen_time"), "cluster_seen", ["seen_time"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
