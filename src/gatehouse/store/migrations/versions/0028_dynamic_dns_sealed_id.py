"""Dynamic DNS: the webcall id kept encrypted beside its digest, so `DynamicDNS::list` can show it

cPanel's `DynamicDNS::list` answers each domain's `id`, and real clients read it there (aiocpanel
finds an existing domain's webcall through `list`). The id was kept only as a digest, so `list`
answered `null`. The digest stays the only way in (the webcall finds its row by it); the new
nullable column holds the id encrypted with the key ring (AES-256-GCM, bound to the account and
the domain), as the Remote Access Key is. Rows made before this revision have no copy: their
`id` stays null until `DynamicDNS::recreate` gives them a new one.

Revision ID: 0028
Revises: 0027
"""

import sqlalchemy as sa
from alembic import op

revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dynamic_dns", sa.Column("id_ciphertext", sa.LargeBinary, nullable=True))


def downgrade() -> None:
    raise NotImplementedError("gatehouse migrations are forward-only")
