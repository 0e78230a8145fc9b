"""Last logins: where each cPanel account logged in from

UAPI `LastLogin::get_last_or_current_logged_in_ip` answers from cPanel's ~/.lastlogin
(Cpanel/LastLogin/Tiny.pm): the account's latest IPv4 login address and, for when that is
the caller's own, the one before it. One row per account, going with it; no times, no
credential.

Revision ID: 0034
Revises: 0033
"""

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0033"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "last_logins",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("address", sa.String(15), nullable=False),
        sa.Column("previous", sa.String(15), nullable=True),
    )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
