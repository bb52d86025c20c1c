"""The server's signing key: the station checks every answer of the server with it.

Stations provisioned before have none (NULL); they learn it once, authenticated by the
sealing key they already trust (app.sync.serverkey), before anything is marked uploaded.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("station") as batch:
        batch.add_column(sa.Column("server_signing_key", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("station") as batch:
        batch.drop_column("server_signing_key")
