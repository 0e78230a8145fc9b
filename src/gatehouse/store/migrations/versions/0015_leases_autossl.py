"""Leases (background work one process at a time) and AutoSSL's state

Plain CREATE TABLEs, no existing row changes:

* `leases`: one row per kind of background work; whoever holds an unexpired lease runs it
  (claimed with one conditional UPDATE, or the INSERT of the row: only one can win).
  `last_done` is when the work last completed (what a schedule counts from).
* `autossl_accounts`: the ACME account per directory URL, its key ENCRYPTED with the key ring.
* `autossl_domains`: AutoSSL's outcome per domain (the problem, if any, its time, failures in
  a row and when to try again).
* `autossl_requests`: checks asked for (start_autossl_check…): one account's, or every
  account's (user_id null), taken by whichever process next holds the AutoSSL lease.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=128), nullable=False),
        sa.Column("expires", sa.BigInteger(), nullable=False),
        sa.Column("claimed_time", sa.BigInteger(), nullable=False),
        sa.Column("last_done", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    op.create_table(
        "autossl_accounts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("directory", sa.String(length=1000), nullable=False),
        sa.Column("key_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("account_uri", sa.Text(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autossl_accounts")),
        sa.UniqueConstraint("directory", name=op.f("uq_autossl_accounts_directory")),
    )
    op.create_table(
        "autossl_domains",
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("checked_time", sa.BigInteger(), nullable=False),
        sa.Column("run_time", sa.BigInteger(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_autossl_domains_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("domain", name=op.f("pk_autossl_domains")),
    )
    op.create_index(
        op.f("ix_autossl_domains_user_id"), "autossl_domains", ["user_id"], unique=False
    )
    op.create_table(
        "autossl_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("requested_time", sa.BigInteger(), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_autossl_requests_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_autossl_requests")),
    )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
