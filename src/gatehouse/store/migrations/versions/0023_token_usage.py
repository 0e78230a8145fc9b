"""API tokens: which functions each token has called (count, first and last time, last result)

`token_usage`, one row per token and function, written in batches every few seconds from
memory (domain/token_usage.py), never per request; the ground for the suggested least
privilege (docs/governance.md, least privilege). Deleted with the token.

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "token_usage",
        sa.Column(
            "token_id",
            sa.Integer(),
            sa.ForeignKey("api_tokens.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("function", sa.String(length=100), primary_key=True),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("first_time", sa.BigInteger(), nullable=False),
        sa.Column("last_time", sa.BigInteger(), nullable=False),
        sa.Column("last_result", sa.String(length=32), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
