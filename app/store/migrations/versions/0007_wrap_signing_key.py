"""The station's signing key leaves the database in clear: wrapped (app.store.keystore),
with what unwraps it outside the database (Windows DPAPI in machine scope; elsewhere the
0600 file ``<home>/station.key``). A database copied without it cannot sign.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from pathlib import Path

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_TABLES = ("station", "pending_key")


def _home() -> Path:
    database = op.get_bind().engine.url.database
    assert database is not None
    return Path(database).parent


def upgrade() -> None:
    from app.store import keystore

    conn = op.get_bind()
    for table in _TABLES:
        rows = conn.exec_driver_sql(f"SELECT id, signing_key_pem FROM {table}").fetchall()  # noqa: S608
        for row_id, value in rows:
            if not keystore.is_wrapped(value):
                conn.exec_driver_sql(
                    f"UPDATE {table} SET signing_key_pem = ? WHERE id = ?",  # noqa: S608
                    (keystore.wrap(_home(), value), row_id),
                )


def downgrade() -> None:
    from app.store import keystore

    conn = op.get_bind()
    for table in _TABLES:
        rows = conn.exec_driver_sql(f"SELECT id, signing_key_pem FROM {table}").fetchall()  # noqa: S608
        for row_id, value in rows:
            if keystore.is_wrapped(value):
                conn.exec_driver_sql(
                    f"UPDATE {table} SET signing_key_pem = ? WHERE id = ?",  # noqa: S608
                    (keystore.unwrap(_home(), value), row_id),
                )
