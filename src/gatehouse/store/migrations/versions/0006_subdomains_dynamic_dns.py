"""Subdomains and Dynamic DNS domains (UAPI `SubDomain`, `DynamicDNS`)

Two plain CREATE TABLEs: the users table is not touched (on SQLite a batch copy of it would drop
the triggers of migration 0003).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subdomains",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=253), nullable=False),
        sa.Column("root_domain", sa.String(length=253), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_subdomains_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subdomains")),
        sa.UniqueConstraint("name", name=op.f("uq_subdomains_name")),
    )
    op.create_index(op.f("ix_subdomains_user_id"), "subdomains", ["user_id"], unique=False)
    op.create_table(
        "dynamic_dns",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("zone", sa.String(length=253), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("id_digest", sa.String(length=64), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("last_run_time", sa.BigInteger(), nullable=True),
        sa.Column("last_update_time", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_dynamic_dns_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dynamic_dns")),
        sa.UniqueConstraint("domain", name=op.f("uq_dynamic_dns_domain")),
        sa.UniqueConstraint("id_digest", name=op.f("uq_dynamic_dns_id_digest")),
    )
    op.create_index(op.f("ix_dynamic_dns_user_id"), "dynamic_dns", ["user_id"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
