"""The centre and the kit (issue 12): the last audit event the centre acknowledged (``doctor``
compares the local chain with it), and for a move made offline who approved it and whether
it has been reported upstream (and what the centre decided). The policy the centre sets
needs no table: it is kept in ``setting`` under ``central.<key>`` (app/store/central.py).

Revision ID: 0009
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("station") as batch:
        batch.add_column(sa.Column("audit_acked_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("audit_acked_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("audit_acked_at", sa.String(32), nullable=True))
    with op.batch_alter_table("assignment") as batch:
        batch.add_column(sa.Column("approved_by", sa.String(100), nullable=True))
        batch.add_column(sa.Column("reported_at", sa.String(32), nullable=True))
        batch.add_column(sa.Column("central_outcome", sa.String(500), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM setting WHERE key LIKE 'central.%'")
    with op.batch_alter_table("assignment") as batch:
        batch.drop_column("central_outcome")
        batch.drop_column("reported_at")
        batch.drop_column("approved_by")
    with op.batch_alter_table("station") as batch:
        batch.drop_column("audit_acked_at")
        batch.drop_column("audit_acked_hash")
        batch.drop_column("audit_acked_id")
