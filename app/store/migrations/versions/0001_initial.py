"""First schema: station, assignment, operator, record, audit_event, setting.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.String(32)  # UTCDateTime: fixed-width ISO text


def upgrade() -> None:
    op.create_table(
        "station",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("server_url", sa.String(500), nullable=True),
        sa.Column("server_key_pem", sa.LargeBinary(), nullable=False),
        sa.Column("signing_key_pem", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_station_single_row"),
        sa.PrimaryKeyConstraint("id", name="pk_station"),
    )
    op.create_table(
        "assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kecamatan", sa.String(16), nullable=False),
        sa.Column("from_at", TS, nullable=False),
        sa.Column("to_at", TS, nullable=True),
        sa.Column("set_by", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_assignment"),
    )
    op.create_table(
        "operator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("card_uid", sa.String(64), nullable=True),
        sa.Column("pin_hash", sa.String(200), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint(
            "role IN ('operator', 'supervisor', 'technician')", name="ck_operator_role"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_operator"),
        sa.UniqueConstraint("username", name="uq_operator_username"),
        sa.UniqueConstraint("card_uid", name="uq_operator_card_uid"),
    )
    op.create_table(
        "record",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("uuid", sa.String(36), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("packet", sa.LargeBinary(), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("kecamatan", sa.String(16), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("sealed_at", TS, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("receipt", sa.Text(), nullable=True),
        sa.Column("uploaded_at", TS, nullable=True),
        sa.Column("purged_at", TS, nullable=True),
        sa.CheckConstraint(
            "status IN ('sealed', 'uploaded', 'rejected', 'purged')", name="ck_record_status"
        ),
        sa.CheckConstraint("(status = 'purged') = (packet IS NULL)", name="ck_record_payload"),
        sa.PrimaryKeyConstraint("seq", name="pk_record"),
        sa.UniqueConstraint("uuid", name="uq_record_uuid"),
    )
    op.create_index("ix_record_status_size", "record", ["status", "size"])
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_event"),
        sa.UniqueConstraint("hash", name="uq_audit_event_hash"),
    )
    op.create_table(
        "setting",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_setting"),
    )


def downgrade() -> None:
    for table in ("setting", "audit_event", "record", "operator", "assignment", "station"):
        op.drop_table(table)
