"""Retention stored above its limit is brought to the limit, once.

``retention_days`` above 36,500 days (a hundred years: "keep") puts the purge's cut-off
before year 1, which Python's dates cannot hold; ``settings set`` refuses it since the
limit came in, but a value stored before (locally or as the centre's policy) stayed and was
clamped on every read. This step stores the limit in its place, so the settings are read as
stored (the steps of the station's other files: app/store/upgrades.py).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

MAX_RETENTION_DAYS = 36500  # app.store.settings; a migration keeps its own copy


def upgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT key, value FROM setting WHERE key IN ('retention_days',"
            " 'central.retention_days')"
        )
    ).all()
    for key, value in rows:
        try:
            days = int(value)
        except ValueError:
            continue  # not a number: checked where it is read, as before
        if days > MAX_RETENTION_DAYS:
            conn.execute(
                sa.text("UPDATE setting SET value = :v WHERE key = :k"),
                {"v": str(MAX_RETENTION_DAYS), "k": key},
            )


def downgrade() -> None:
    pass  # the limit is a valid value under every earlier revision
