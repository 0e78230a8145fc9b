"""Certificates, their private keys (encrypted) and the vhosts they are installed on

Three plain CREATE TABLEs (docs/ssl.md); no existing table is touched.

Revision ID: 0009
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def _user_id(table: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{table}_user_id_users"), ondelete="CASCADE"
        ),
    ]


def upgrade() -> None:
    op.create_table(
        "ssl_certificates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        *_user_id("ssl_certificates"),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("pem", sa.Text(), nullable=False),
        sa.Column("names", sa.JSON(), nullable=False),
        sa.Column("subject_cn", sa.Text(), nullable=False),
        sa.Column("issuer_cn", sa.Text(), nullable=False),
        sa.Column("issuer_org", sa.Text(), nullable=False),
        sa.Column("not_before", sa.BigInteger(), nullable=False),
        sa.Column("not_after", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("modulus", sa.Text(), nullable=True),
        sa.Column("key_algorithm", sa.String(length=16), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ssl_certificates")),
        sa.UniqueConstraint("user_id", "fingerprint", name="uq_ssl_certificates_user_fingerprint"),
    )
    op.create_index(
        op.f("ix_ssl_certificates_user_id"), "ssl_certificates", ["user_id"], unique=False
    )
    op.create_table(
        "ssl_keys",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        *_user_id("ssl_keys"),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("key_algorithm", sa.String(length=16), nullable=False),
        sa.Column("modulus", sa.Text(), nullable=True),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ssl_keys")),
        sa.UniqueConstraint("user_id", "key_id", name="uq_ssl_keys_user_key_id"),
    )
    op.create_index(op.f("ix_ssl_keys_user_id"), "ssl_keys", ["user_id"], unique=False)
    op.create_table(
        "ssl_vhosts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        *_user_id("ssl_vhosts"),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("cabundle", sa.Text(), nullable=True),
        sa.Column("installed_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["ssl_certificates.id"],
            name=op.f("fk_ssl_vhosts_certificate_id_ssl_certificates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ssl_vhosts")),
        sa.UniqueConstraint("domain", name=op.f("uq_ssl_vhosts_domain")),
    )
    op.create_index(op.f("ix_ssl_vhosts_user_id"), "ssl_vhosts", ["user_id"], unique=False)
    op.create_index(
        op.f("ix_ssl_vhosts_certificate_id"), "ssl_vhosts", ["certificate_id"], unique=False
    )


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
