"""Token names one character longer: 50 characters and a trailing newline

cPanel 11.120 validates a token name with Perl's `m/^[A-Za-z0-9_-]{1,50}$/`
(Cpanel/Security/Authn/APITokens/Validate.pm line 135), whose `$` also matches before one
final newline: a name of 50 characters and a newline is valid and stored as given. The
columns holding a token's name (`api_tokens.name`, `notices.token_name`) take 51.

Revision ID: 0031
Revises: 0030
"""

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

# The columns whose change bumps the token cache's generation (migration 0003).
TOKEN_COLUMNS = "user_id, service, name, digest, acls, whitelist_ips, expires_at"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite does not enforce a VARCHAR's length, and its batch mode would copy and drop
        # api_tokens, whose dependants (token_grace, token_usage, ...) cascade on delete.
        return
    # PostgreSQL does not change the type of a column a trigger names: the token cache's
    # trigger (migration 0003) is dropped and made again, as it was, in the same transaction.
    op.execute("DROP TRIGGER auth_gen_api_tokens_update ON api_tokens")
    op.alter_column(
        "api_tokens",
        "name",
        existing_type=sa.String(50),
        type_=sa.String(51),
        existing_nullable=False,
    )
    op.execute(
        f"CREATE TRIGGER auth_gen_api_tokens_update AFTER UPDATE OF {TOKEN_COLUMNS} ON "
        "api_tokens FOR EACH STATEMENT EXECUTE FUNCTION gatehouse_auth_changed()"
    )
    op.alter_column(
        "notices",
        "token_name",
        existing_type=sa.String(50),
        type_=sa.String(51),
        existing_nullable=True,
    )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
