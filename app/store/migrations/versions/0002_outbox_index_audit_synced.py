"""Outbox due-query index; audit events remember when they were synced.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_record_status_next_attempt_at_seq", "record", ["status", "next_attempt_at", "seq"]
    )
    with op.batch_alter_table("audit_event") as batch:
        batch.add_column(sa.Column("synced_at", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_event") as batch:
        batch.drop_column("synced_at")
    op.drop_index("ix_record_status_next_attempt_at_seq", table_name="record")
