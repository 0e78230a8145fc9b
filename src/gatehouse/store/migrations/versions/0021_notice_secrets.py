"""Token notices: the webhook's signing secret kept in the store, ENCRYPTED with the key ring

One plain CREATE TABLE, no existing row changes: `notice_secrets`, one row per secret
(`webhook`), set with `gatehouse notices set-secret` or WHM `gatehouse_set_notice_secret`,
so every node on the store signs with it (docs/governance.md#4-notices).

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_secrets",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("set_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_notice_secrets")),
    )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
