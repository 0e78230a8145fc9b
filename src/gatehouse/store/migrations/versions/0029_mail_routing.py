"""Mail routing: how an account asked mail for its domain to be treated, and what was decided

UAPI `Email::list_mxs`, `add_mx`, `change_mx`, `delete_mx` and `set_always_accept` (and their
API 2 forms) report and set a domain's mail routing as cPanel keeps it: the account's choice
(`MXCHECK-<domain>` in its cPanel user file: `auto`, `local`, `secondary` or `remote`) and the
routing last decided from it and the domain's MX records (/etc/localdomains, remotedomains,
secondarymx). A new table, one row per account, absent until the account first sets or
changes an MX record: absence reads as cPanel's default, `auto`, never decided.

Revision ID: 0029
Revises: 0028
"""

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_routing",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("mxcheck", sa.String(16), nullable=False),
        sa.Column("routing", sa.String(16), nullable=True),
    )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
