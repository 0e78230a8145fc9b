"""API tokens: an optional rate limit (requests per minute) and its counters in the store

`api_tokens.rate_limit` (null: none) and `token_rate`, one row per limited token: the
requests of the current minute and of the one before, for a sliding-window count shared by
every process and node on the store (docs/governance.md, rate limits).

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("rate_limit", sa.Integer(), nullable=True))
    op.create_table(
        "token_rate",
        sa.Column(
            "token_id",
            sa.Integer(),
            sa.ForeignKey("api_tokens.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("this_minute", sa.Integer(), nullable=False),
        sa.Column("last_minute", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
