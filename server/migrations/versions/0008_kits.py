"""The centre and its kits (issue 12): policy set by the office, the kits' latest health,
their uploaded audit chains and the moves they made offline (server/kit_tables.py).

Revision ID: 0008
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kit_policy",
        sa.Column("scope", sa.String(16), primary_key=True),
        sa.Column("target", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("set_at", sa.Float(), nullable=False),
        sa.Column("set_by", sa.String(100), nullable=False),
    )
    op.create_table(
        "kit_health",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("reported_at", sa.Float(), nullable=False),
        sa.Column("version", sa.String(64), nullable=True),
        sa.Column("pending", sa.Integer(), nullable=True),
        sa.Column("oldest_unsent_s", sa.Float(), nullable=True),
        sa.Column("disk_free_bytes", sa.BigInteger(), nullable=True),
        sa.Column("camera", sa.String(32), nullable=True),
        sa.Column("reader", sa.String(32), nullable=True),
        sa.Column("mirror", sa.String(32), nullable=True),
        sa.Column("clock_offset_s", sa.Float(), nullable=True),
        sa.Column("last_seal_at", sa.String(40), nullable=True),
        sa.Column("report", sa.Text(), nullable=False),
    )
    op.create_table(
        "kit_audit",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "kit_moves",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("moved_at", sa.Float(), primary_key=True),
        sa.Column("to_kecamatan", sa.String(32), primary_key=True),
        sa.Column("from_kecamatan", sa.String(32), nullable=True),
        sa.Column("moved_by", sa.String(100), nullable=False),
        sa.Column("approved_by", sa.String(100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("reported_at", sa.Float(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
    )
    op.create_index("ix_kit_moves_reported_at", "kit_moves", ["reported_at"])


def downgrade() -> None:
    op.drop_index("ix_kit_moves_reported_at", "kit_moves")
    op.drop_table("kit_moves")
    op.drop_table("kit_audit")
    op.drop_table("kit_health")
    op.drop_table("kit_policy")
