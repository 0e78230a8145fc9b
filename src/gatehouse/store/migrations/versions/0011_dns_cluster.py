"""DNS cluster, sending side: peers and the outbox of zone changes to push to them

Plain CREATE TABLEs (docs/cluster.md); no existing table is touched.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster_peers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("host", sa.String(length=253), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=5), nullable=False),
        sa.Column("verify_tls", sa.Boolean(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("token_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_peers")),
        sa.UniqueConstraint("host", "port", name="uq_cluster_peers_host_port"),
    )
    op.create_table(
        "cluster_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("peer_id", sa.Integer(), nullable=False),
        sa.Column("zone", sa.String(length=253), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt", sa.BigInteger(), nullable=False),
        sa.Column("claimed_until", sa.BigInteger(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["peer_id"],
            ["cluster_peers.id"],
            name=op.f("fk_cluster_outbox_peer_id_cluster_peers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cluster_outbox")),
    )
    op.create_index(
        op.f("ix_cluster_outbox_next_attempt"), "cluster_outbox", ["next_attempt"], unique=False
    )
    op.create_index(op.f("ix_cluster_outbox_peer_id"), "cluster_outbox", ["peer_id"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
