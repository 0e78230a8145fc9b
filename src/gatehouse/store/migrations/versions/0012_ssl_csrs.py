"""Certificate signing requests, and friendly names for stored keys and certificates

One plain CREATE TABLE (`ssl_csrs`) and a nullable column added to `ssl_keys` and
`ssl_certificates` (docs/ssl.md); no existing row changes.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("ssl_keys", sa.Column("friendly_name", sa.Text(), nullable=True))
    op.add_column("ssl_certificates", sa.Column("friendly_name", sa.Text(), nullable=True))
    op.create_table(
        "ssl_csrs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("domains", sa.JSON(), nullable=False),
        sa.Column("subject_cn", sa.Text(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("friendly_name", sa.Text(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_ssl_csrs_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ssl_csrs")),
        sa.UniqueConstraint("user_id", "fingerprint", name="uq_ssl_csrs_user_fingerprint"),
    )
    op.create_index(op.f("ix_ssl_csrs_user_id"), "ssl_csrs", ["user_id"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
