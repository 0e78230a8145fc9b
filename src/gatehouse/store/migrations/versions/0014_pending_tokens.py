"""New tokens waiting for their one view on the token pages, in the store

One plain CREATE TABLE (`pending_tokens`): a new token shown once after Save, encrypted with
the key ring, one row per session (deleted with it), read and deleted in one statement, and
expiring after a few minutes (docs/web.md). No existing row changes.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_tokens",
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name=op.f("fk_pending_tokens_session_id_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_pending_tokens")),
    )
    op.create_index(op.f("ix_pending_tokens_expires"), "pending_tokens", ["expires"], unique=False)


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
