"""The service certificate (gatehouse's own TLS ports) and each account's default key type

Plain CREATE TABLEs, no existing row changes:

* `service_certificates`: one row per service (`cpanel`: the WHM and cPanel TLS ports), the
  certificate's PEM, its CA bundle, and its private key ENCRYPTED with the key ring (as
  `ssl_keys`). The store is the truth: every node writes its TLS files from this row.
* `ssl_key_type_defaults`: UAPI `SSL::set_default_key_type`'s choice per account.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "service_certificates",
        sa.Column("service", sa.String(length=32), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("cabundle", sa.Text(), nullable=True),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("key_ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("installed_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("service", name=op.f("pk_service_certificates")),
    )
    op.create_table(
        "ssl_key_type_defaults",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_type", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_ssl_key_type_defaults_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_ssl_key_type_defaults")),
    )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
