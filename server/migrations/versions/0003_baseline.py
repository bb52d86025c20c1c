"""Baseline: the schema the hand-versioned server wrote as schema 3.

A database made before Alembic (``schema_version`` 1, 2 or 3) is brought to schema 3 by the
old steps in server.db and stamped with this revision (server.schema); a new database is
created by it. The tables are spelled out as they were, not taken from the current metadata,
so later revisions stay the only way the schema changes.

Revision ID: 0003
Revises:
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "schema_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
    )
    op.execute("INSERT INTO schema_version (id, version) VALUES (1, 3)")
    op.create_table(
        "server_meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
    )
    op.create_table(
        "stations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kecamatan", sa.String(32), nullable=False),
        sa.Column("public_key", sa.String(64), nullable=True),
        sa.Column("key_id", sa.String(32), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("enrolled_at", sa.Float(), nullable=True),
        sa.Column("assigned_at", sa.Float(), nullable=False),
        sa.Column("revoked_at", sa.Float(), nullable=True),
        sa.Column("vouched_by", sa.String(64), nullable=True),
        sa.Column("upstream_registered_at", sa.Float(), nullable=True),
        sa.Column("is_relay", sa.Boolean(), nullable=False, server_default=sa.text("false")),
        sa.Column("upstream_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_stations_key_id", "stations", ["key_id"])
    op.create_table(
        "station_keys",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("public_key", sa.String(64), nullable=False),
        sa.Column("added_at", sa.Float(), nullable=False),
        sa.Column("replaced_at", sa.Float(), nullable=True),
    )
    op.create_table(
        "enrollment_codes",
        sa.Column("code_sha256", sa.String(64), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("used_at", sa.Float(), nullable=True),
        sa.Column("used_by", sa.String(64), nullable=True),
        sa.Column("used_key_id", sa.String(32), nullable=True),
    )
    op.create_index("ix_enrollment_codes_station_id", "enrollment_codes", ["station_id"])
    op.create_table(
        "packets",
        sa.Column("uuid", sa.String(64), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("kecamatan", sa.String(32), nullable=False),
        sa.Column("sealed_at", sa.String(40), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("received_from", sa.String(64), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("fwd_status", sa.String(16), nullable=True),
        sa.Column("fwd_attempts", sa.Integer(), nullable=False),
        sa.Column("fwd_next_at", sa.Float(), nullable=True),
        sa.Column("fwd_error", sa.Text(), nullable=True),
        sa.Column("fwd_receipt", sa.Text(), nullable=True),
    )
    op.create_index("ix_packets_station_id", "packets", ["station_id"])
    op.create_index("ix_packets_received_at", "packets", ["received_at"])
    op.create_index("ix_packets_fwd_status", "packets", ["fwd_status"])
    op.create_table(
        "request_nonces",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("nonce", sa.String(64), primary_key=True),
        sa.Column("seen_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_request_nonces_seen_at", "request_nonces", ["seen_at"])


def downgrade() -> None:
    for table in (
        "request_nonces",
        "packets",
        "enrollment_codes",
        "station_keys",
        "stations",
        "server_meta",
        "schema_version",
    ):
        op.drop_table(table)
