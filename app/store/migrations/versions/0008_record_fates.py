"""Fates back from the centre (issue 12; app/store/fates.py): what the centre made of each
record (``record_fate``: fate, reason, when, the record it duplicates, whether the resident was
contacted), the record a new one re-records (``record.rerecord_of``), and the fate sequence this
station has applied (``fate_cursor``, one row).

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


def upgrade() -> None:
    with op.batch_alter_table("record") as batch:
        batch.add_column(sa.Column("rerecord_of", sa.String(36), nullable=True))
    op.create_table(
        "record_fate",
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("fate", sa.String(16), nullable=False),
        sa.Column("fate_reason", sa.String(64), nullable=True),
        sa.Column("fate_at", TS, nullable=False),
        sa.Column("duplicate_of", sa.String(36), nullable=True),
        sa.Column("contacted_at", TS, nullable=True),
        sa.Column("contacted_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("uuid", name="pk_record_fate"),
    )
    op.create_index("ix_record_fate_fate", "record_fate", ["fate"])
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
    op.drop_index("ix_record_fate_fate", "record_fate")
    op.drop_table("record_fate")
    with op.batch_alter_table("record") as batch:
        batch.drop_column("rerecord_of")
