"""account life cycle: packages, account plan/limits/suspension, reseller limits

Revision ID: 0004
Revises: 0003
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# cPanel's defaults at the time of this migration (domain/packages.py FIELDS), frozen here so
# that later changes to the code cannot change what this migration did.
DEFAULT_SETTINGS = {
    "QUOTA": "unlimited", "BWLIMIT": "unlimited", "MAXFTP": "unlimited", "MAXPOP": "unlimited",
    "MAXLST": "unlimited", "MAXSQL": "unlimited", "MAXSUB": "unlimited", "MAXPARK": "0",
    "MAXADDON": "0", "MAX_EMAILACCT_QUOTA": "unlimited", "MAX_EMAIL_PER_HOUR": "unlimited",
    "MAX_DEFER_FAIL_PERCENTAGE": "unlimited", "MAX_TEAM_USERS": "7", "HASSHELL": "n",
    "CGI": "y", "DIGESTAUTH": "n",
    "IP": "n", "FEATURELIST": "default", "CPMOD": "jupiter", "LANG": "en",
}


def upgrade() -> None:
    op.create_table(
        "packages",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_packages")),
        sa.UniqueConstraint("name", name=op.f("uq_packages_name")),
    )
    # Plain ADD COLUMNs (no batch table copy): on SQLite a copy would drop the users
    # triggers that keep the token cache honest (migration 0003).
    for column in (
        sa.Column("plan", sa.String(length=64), nullable=True),
        sa.Column("limits", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("suspend_reason", sa.Text(), nullable=True),
        sa.Column("suspend_time", sa.BigInteger(), nullable=True),
        sa.Column("suspend_locked", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("suspended_by", sa.String(length=64), nullable=True),
        sa.Column("reseller_limits", sa.JSON(none_as_null=True), nullable=True),
    ):
        op.add_column("users", column)
    # cPanel always has a "default" package; accounts made before this migration are on it.
    packages = sa.table(
        "packages",
        sa.column("name", sa.String),
        sa.column("owner", sa.String),
        sa.column("settings", sa.JSON),
        sa.column("created_time", sa.BigInteger),
    )
    op.bulk_insert(
        packages,
        [
            {
                "name": "default",
                "owner": "root",
                "settings": DEFAULT_SETTINGS,
                "created_time": int(time.time()),
            }
        ],
    )
    op.execute("UPDATE users SET plan = 'default' WHERE is_root = false")


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
