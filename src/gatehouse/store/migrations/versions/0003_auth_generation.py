"""auth generation counter and triggers, for the token cache's invalidation

Every change that could alter the outcome of a token check (a token deleted or edited, an
owner edited or deleted) bumps `auth_generation.n` in the same transaction, by trigger, so no
code path can forget to. On PostgreSQL the trigger also NOTIFYs `gatehouse_auth`, which other
nodes LISTEN on. Last-use writes and new tokens do not bump it: neither can make a cached
answer wrong (misses are never cached).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TOKEN_COLUMNS = "user_id, service, name, digest, acls, whitelist_ips, expires_at"


def upgrade() -> None:
    op.create_table(
        "auth_generation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_generation")),
    )
    op.execute("INSERT INTO auth_generation (id, n) VALUES (1, 0)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION gatehouse_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE auth_generation SET n = n + 1 WHERE id = 1;
                PERFORM pg_notify('gatehouse_auth', '');
                RETURN NULL;
            END $$
            """
        )
        for name, event in (
            ("api_tokens_update", f"UPDATE OF {TOKEN_COLUMNS} ON api_tokens"),
            ("api_tokens_delete", "DELETE ON api_tokens"),
            ("users_change", "UPDATE OR DELETE ON users"),
        ):
            op.execute(
                f"CREATE TRIGGER auth_gen_{name} AFTER {event} "
                "FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_auth_changed()"
            )
    else:
        bump = "BEGIN UPDATE auth_generation SET n = n + 1 WHERE id = 1; END"
        for name, event in (
            ("api_tokens_update", f"UPDATE OF {TOKEN_COLUMNS} ON api_tokens"),
            ("api_tokens_delete", "DELETE ON api_tokens"),
            ("users_update", "UPDATE ON users"),
            ("users_delete", "DELETE ON users"),
        ):
            op.execute(f"CREATE TRIGGER auth_gen_{name} AFTER {event} {bump}")


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
