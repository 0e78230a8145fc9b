"""cPHulk's changes notify as `gate` (PostgreSQL), so a token change leaves the gate cached

Every node caches cPHulk's settings, lists and blocks (the gate) beside its tokens, and used to
drop both at any auth change: after a revoke each node read the gate again, three round trips
on its next request. cPHulk's tables now notify `gatehouse_auth` with the payload `gate`;
token and user changes keep the empty payload, and a listener that took in only those keeps
the gate (auth/token_cache.py). Both still bump `auth_generation.n`. SQLite is unchanged: its
processes share one file and tell each other through it.

Revision ID: 0027
Revises: 0026
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

WATCHED = ("cphulk_settings", "cphulk_lists", "cphulk_blocks")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION gatehouse_gate_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE auth_generation SET n = n + 1 WHERE id = 1;
            PERFORM pg_notify('gatehouse_auth', 'gate');
            RETURN NULL;
        END $$
        """
    )
    for table in WATCHED:
        op.execute(f"DROP TRIGGER auth_gen_{table} ON {table}")
        op.execute(
            f"CREATE TRIGGER auth_gen_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_gate_changed()"
        )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
