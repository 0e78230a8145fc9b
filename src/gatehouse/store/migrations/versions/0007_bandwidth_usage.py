"""Bandwidth used per account, domain and month (WHM `showbw`)

One plain CREATE TABLE: the users table is not touched (on SQLite a batch copy of it would drop
the triggers of migration 0003). Bandwidth and disk limits stay in users.limits (BWLIMIT,
QUOTA), where createacct and modifyacct keep them.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bandwidth_usage",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_bandwidth_usage_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bandwidth_usage")),
        sa.UniqueConstraint(
            "user_id", "domain", "year", "month", name="uq_bandwidth_usage_user_domain_month"
        ),
    )
    op.create_index(
        op.f("ix_bandwidth_usage_user_id"), "bandwidth_usage", ["user_id"], unique=False
    )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
