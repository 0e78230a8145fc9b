"""Resellers' IP addresses and per-package limits

WHM API 1 `setresellerips` / `getresellerips` (the reseller's pool of addresses: cPanel's
/var/cpanel/dips/RESELLER, absent when the reseller may use every address), `setresellermainip`
(its main shared address: cPanel's /var/cpanel/mainips/RESELLER) and `setresellerpackagelimit`
(which packages a reseller may put accounts on, and how many: cPanel's package-limits.yaml,
`allowed.create` and `allowed.number` per package and reseller). Two new tables; a reseller's
rows go with its account, a package's limits with the package (as cPanel's cleanup_package).

Revision ID: 0032
Revises: 0031
"""

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reseller_ips",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        # The delegated addresses; null: not delegated (every address of the server).
        sa.Column("delegated", sa.JSON(none_as_null=True), nullable=True),
        # The reseller's main shared address; null: the server's main address.
        sa.Column("main_ip", sa.String(45), nullable=True),
    )
    op.create_table(
        "reseller_package_limits",
        sa.Column(
            "user_id",
            sa.Integer,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "package_id",
            sa.Integer,
            sa.ForeignKey("packages.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
        sa.Column("allowed", sa.Boolean, nullable=True),  # null: not set
        sa.Column("number", sa.Integer, nullable=True),  # null: not set
    )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
