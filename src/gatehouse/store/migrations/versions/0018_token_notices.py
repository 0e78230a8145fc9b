"""Token notices (issue 17 part 4): the addresses each token was used from, and a durable
queue of notices to deliver by webhook and e-mail

Two plain CREATE TABLEs and one INSERT … SELECT; no existing row changes:

* `token_addresses`: each address a token was seen from (recorded with the batched last-use
  write, never per request), when first seen, and whether the notice pass has still to look
  at it (`pending`). Seeded from each token's `last_used_ip`, not pending: an address known
  before notices existed is not news.
* `notices`: one row per notice and channel (`webhook` | `email`), unique per
  (`dedup_key`, `channel`) so that each is queued once however many processes look; claimed
  for delivery with one conditional UPDATE (`claimed_until`), retried with backoff. The
  payload is JSON that holds no secret.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "token_addresses",
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("first_seen", sa.BigInteger(), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"],
            ["api_tokens.id"],
            name=op.f("fk_token_addresses_token_id_api_tokens"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_id", "ip", name=op.f("pk_token_addresses")),
    )
    op.create_index(
        op.f("ix_token_addresses_pending"), "token_addresses", ["pending"], unique=False
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=True),
        sa.Column("token_name", sa.String(length=50), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt", sa.BigInteger(), nullable=False),
        sa.Column("claimed_until", sa.BigInteger(), nullable=False),
        sa.Column("delivered_time", sa.BigInteger(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("dedup_key", "channel", name=op.f("uq_notices_dedup_key")),
    )
    op.create_index(
        op.f("ix_notices_status_next_attempt"),
        "notices",
        ["status", "next_attempt"],
        unique=False,
    )
    op.execute(
        "INSERT INTO token_addresses (token_id, ip, first_seen, pending) "
        "SELECT id, last_used_ip, COALESCE(last_used_time, create_time), false "
        "FROM api_tokens WHERE last_used_ip IS NOT NULL"
    )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
