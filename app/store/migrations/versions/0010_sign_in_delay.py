"""A growing delay between failed sign-ins: when the last one failed.

After a failed sign-in (card or password) the next try of that account is refused, without
looking at the secret, until a delay has passed: 1 s after the first failure, doubling with
each one after it (app.store.operators.retry_delay). Kept in the database, so restarting the
program does not reset it; the lock after ``LOCK_AFTER`` failures stays.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("operator") as batch:
        batch.add_column(sa.Column("failed_at", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operator") as batch:
        batch.drop_column("failed_at")
