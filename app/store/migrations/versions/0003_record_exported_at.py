"""Records remember when they were last exported to removable media.

An exported record no longer lives in one place only, so it leaves the falling-behind limits
(like a mirrored one); it is still uploaded as usual. The status index gains the column, so
the limits (unsent and never exported: count, bytes, oldest) stay index-only queries; it
replaces the old (status, size) index rather than adding one, so a seal writes no more pages.

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
    op.drop_index("ix_record_status_size", table_name="record")
    op.create_index(
        "ix_record_status_exported_at_size", "record", ["status", "exported_at", "size"]
    )


def downgrade() -> None:
    op.drop_index("ix_record_status_exported_at_size", table_name="record")
    op.create_index("ix_record_status_size", "record", ["status", "size"])
    with op.batch_alter_table("record") as batch:
        batch.drop_column("exported_at")
