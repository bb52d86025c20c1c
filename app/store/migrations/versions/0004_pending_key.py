"""The key pair a station registers while provisioning, kept until its identity is stored.

A fresh home makes its Ed25519 key pair before it redeems a one-time code. If the server's
reply is lost, or the station cannot store the identity afterwards (disk full, database
locked), a second ``provision`` with the same code must register the same key: the server
answers a repeated redemption by the same key again, and refuses any other key.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signing_key_pem", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_pending_key_single_row"),
        sa.PrimaryKeyConstraint("id", name="pk_pending_key"),
    )


def downgrade() -> None:
    op.drop_table("pending_key")
