"""Integration links: applications a billing system links into an account's cPanel interface

WHM API 1 `create_integration_link`, `create_integration_group`, `update_integration_link_token`,
`remove_integration_link`, `remove_integration_group`, `list_integration_links`,
`list_integration_groups` and `get_integration_link_user_config`, and UAPI
`Integration::fetch_url`, keep what cPanel keeps in /var/cpanel/integration/links/USER: a
link's settings (its user config, JSON) and its token (its admin config), here encrypted with
the key ring; and each group's settings. Two new tables; an account's rows go with it.

Revision ID: 0030
Revises: 0029
"""

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "integration_links",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("app", sa.String(255), primary_key=True),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("token_ciphertext", sa.LargeBinary, nullable=True),
        sa.Column("created_time", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "integration_groups",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("group_id", sa.String(255), primary_key=True),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("created_time", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
