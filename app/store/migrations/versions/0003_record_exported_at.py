"""Records remember when they were last exported to removable media.

An exported record no longer lives in one place only, so it leaves the falling-behind limits
(like a mirrored one); it is still uploaded as usual.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("record") as batch:
        batch.add_column(sa.Column("exported_at", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("record") as batch:
        batch.drop_column("exported_at")
