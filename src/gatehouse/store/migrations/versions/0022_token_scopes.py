"""API tokens: a scope — the accounts, zones and record names a token may reach

`api_tokens.scope` (JSON, null: no scope beyond the owner's own reach), checked in the one
access rule (domain/access.py) and the one record-edit path (dns/edits.py); see
docs/governance.md, scopes.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("api_tokens", sa.Column("scope", sa.JSON(), nullable=True))


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
