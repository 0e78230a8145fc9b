"""cPHulk: settings, white and black lists, blocks, login attempts; audit rows count repeats

The settings, lists and blocks decide who may authenticate at all, and the authenticator
keeps them in memory: a change to any of them bumps the auth generation (the triggers of
migration 0003), as a token change does. Login attempts do not: a new attempt changes no
decision until it makes a block.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

WATCHED = ("cphulk_settings", "cphulk_lists", "cphulk_blocks")


def upgrade() -> None:
    op.add_column(
        "audit_log", sa.Column("repeats", sa.Integer(), server_default="1", nullable=False)
    )
    op.create_table(
        "cphulk_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_cphulk_settings")),
    )
    op.create_table(
        "cphulk_lists",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("list_name", sa.String(length=8), nullable=False),
        sa.Column("first", sa.String(length=32), nullable=False),
        sa.Column("last", sa.String(length=32), nullable=False),
        sa.Column("given", sa.String(length=100), nullable=False),
        sa.Column("comment", sa.String(length=255), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cphulk_lists")),
        sa.UniqueConstraint("list_name", "first", "last", name="uq_cphulk_lists_range"),
    )
    op.create_table(
        "cphulk_blocks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=45), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("expires_time", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cphulk_blocks")),
    )
    for column in ("address", "username", "expires_time"):
        op.create_index(op.f(f"ix_cphulk_blocks_{column}"), "cphulk_blocks", [column], unique=False)
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("address", sa.String(length=45), nullable=True),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("authservice", sa.String(length=16), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    for column in ("time", "address", "username"):
        op.create_index(
            op.f(f"ix_login_attempts_{column}"), "login_attempts", [column], unique=False
        )
    if op.get_bind().dialect.name == "postgresql":
        for table in WATCHED:
            op.execute(
                f"CREATE TRIGGER auth_gen_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_auth_changed()"
            )
    else:
        bump = "BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END"
        for table in WATCHED:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER auth_gen_{table}_{event.lower()} AFTER {event} ON {table} "
                    f"{bump}"
                )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
