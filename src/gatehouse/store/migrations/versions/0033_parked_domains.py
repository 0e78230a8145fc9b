"""Parked and addon domains

WHM API 1 `create_parked_domain_for_user` parks a domain on one of an account's web vhosts, as
cPanel's Cpanel::ParkAdmin::park does: the domain gets a zone of its own (the default
template, as adddns makes it) and is recorded as the account's — parked on the main domain's
vhost, or an addon domain on a subdomain's. `delete_domain` unparks it. One new table; an
account's rows go with it.

Revision ID: 0033
Revises: 0032
"""

import sqlalchemy as sa
from alembic import op

revision = "0033"
down_revision = "0032"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "parked_domains",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=253), nullable=False),
        sa.Column("vhost", sa.String(length=253), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_parked_domains_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_parked_domains")),
        sa.UniqueConstraint("name", name=op.f("uq_parked_domains_name")),
    )
    op.create_index(
        op.f("ix_parked_domains_user_id"), "parked_domains", ["user_id"], unique=False
    )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
