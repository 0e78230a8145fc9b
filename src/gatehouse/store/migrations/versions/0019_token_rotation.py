"""API tokens: the previous secret of a rotated token, working until its grace period ends

`token_grace`: one row per rotated token while its previous secret still works — the previous
secret's digest and when it stops (docs/governance.md, rotation). Deleted with the token.

Revision ID: 0019
Revises: 0018
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "token_grace",
        sa.Column("digest", sa.String(length=128), primary_key=True),
        sa.Column(
            "token_id",
            sa.Integer(),
            sa.ForeignKey("api_tokens.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("rotated_at", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
