"""Fates back from the centre (issue 12; app/store/fates.py): each record's fate, reason, when
it came, the record it duplicates, whether the resident was contacted and the record it
re-records; and the fate sequence this station has applied (``fate_cursor``, one row).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TS = sa.String(32)  # UTCDateTime: fixed-width ISO text
_COLUMNS = (
    ("fate", sa.String(16)),
    ("fate_reason", sa.String(64)),
    ("fate_at", TS),
    ("duplicate_of", sa.String(36)),
    ("contacted_at", TS),
    ("contacted_by", sa.String(64)),
    ("rerecord_of", sa.String(36)),
)


def upgrade() -> None:
    with op.batch_alter_table("record") as batch:
        for name, kind in _COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))
    op.create_index("ix_record_fate", "record", ["fate"])
    op.create_table(
        "fate_cursor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("pulled_at", TS, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_at", TS, nullable=True),
        sa.CheckConstraint("id = 1", name="ck_fate_cursor_single_row"),
        sa.PrimaryKeyConstraint("id", name="pk_fate_cursor"),
    )


def downgrade() -> None:
    op.drop_table("fate_cursor")
    op.drop_index("ix_record_fate", "record")
    with op.batch_alter_table("record") as batch:
        for name, _kind in reversed(_COLUMNS):
            batch.drop_column(name)
