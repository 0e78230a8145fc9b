"""API tokens: a description (where the token is used) and the last user agent

Two nullable columns added to `api_tokens` (docs/governance.md); no row changes.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("description", sa.Text(), nullable=True))
    op.add_column("api_tokens", sa.Column("last_used_agent", sa.String(length=255), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
