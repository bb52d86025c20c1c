"""Operator lockout: failed sign-ins in a row, and when the account was locked.

Card PINs are four to eight digits: without a limit a person holding a card tries them all.
After ``LOCK_AFTER`` failures in a row (card or password) the account is locked until a
supervisor or technician unlocks it (app.store.operators).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operator") as batch:
        batch.add_column(
            sa.Column("failed_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("locked_at", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operator") as batch:
        batch.drop_column("locked_at")
        batch.drop_column("failed_attempts")
