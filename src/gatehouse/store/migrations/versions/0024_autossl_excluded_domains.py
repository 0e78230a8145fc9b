"""AutoSSL: the domains an account excludes from AutoSSL

`autossl_excluded_domains`, one row per account and excluded domain (cPanel's "excluded
domains": WHM API 1 add/remove/get_autossl_user_excluded_domains, UAPI
SSL::add/remove/get/set_autossl_excluded_domains). AutoSSL skips them. Deleted with the
account. A plain CREATE TABLE, no existing row changes.

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "autossl_excluded_domains",
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("domain", sa.String(length=253), primary_key=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
