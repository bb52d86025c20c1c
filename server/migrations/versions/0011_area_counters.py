"""Counters rolled up the wilayah tree, per kit, and the targets resolved per wilayah (issue 13,
the office page at scale): ``area_counts``, ``area_days``, ``station_counts``,
``area_targets`` (server/processing/tables.py). Filled here from what the database already
holds (``daily_counts``, ``packets``, ``targets``); the processor and the targets import keep
them from then on.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None

_FIGURES = ("received", "processed", "duplicate", "rerecord", "rejected")
# Code lengths of a province, kabupaten, kecamatan and desa ("36", "36.03", "36.03.32", ...).
_WIDTHS = (2, 5, 8, 13)


def _figures() -> list[sa.Column[int]]:
    return [sa.Column(name, sa.Integer(), nullable=False) for name in _FIGURES]


def upgrade() -> None:
    op.create_table(
        "area_counts",
        sa.Column("kode", sa.String(13), primary_key=True),
        *_figures(),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "area_days",
        sa.Column("kode", sa.String(13), primary_key=True),
        sa.Column("day", sa.String(10), primary_key=True),
        *_figures(),
    )
    op.create_table(
        "station_counts",
        sa.Column("station_id", sa.String(64), primary_key=True),
        *_figures(),
        sa.Column("last_received_at", sa.Float(), nullable=True),
    )
    op.create_table(
        "area_targets",
        sa.Column("kode", sa.String(13), primary_key=True),
        sa.Column("wajib_ktp", sa.Integer(), nullable=True),
        sa.Column("target", sa.Integer(), nullable=True),
    )
    sums = ", ".join(f"SUM({f})" for f in _FIGURES)
    names = ", ".join(_FIGURES)
    for width in _WIDTHS:
        op.execute(
            f"INSERT INTO area_days (kode, day, {names}) "
            f"SELECT substr(desa, 1, {width}), day, {sums} FROM daily_counts "
            f"WHERE length(desa) >= {width} GROUP BY substr(desa, 1, {width}), day"
        )
    op.execute(
        f"INSERT INTO area_counts (kode, {names}, updated_at) "
        f"SELECT kode, {sums}, 0 FROM area_days GROUP BY kode"
    )
    op.execute(
        f"INSERT INTO station_counts (station_id, {names}, last_received_at) "
        f"SELECT d.station_id, {', '.join(f'SUM(d.{f})' for f in _FIGURES)}, "
        "(SELECT MAX(r.received_at) FROM records r WHERE r.station_id = d.station_id) "
        "FROM daily_counts d GROUP BY d.station_id"
    )
    from server.targets import resolve_targets

    bind = op.get_bind()
    given = {
        str(k): (int(w), None if t is None else int(t))
        for k, w, t in bind.execute(sa.text("SELECT kode, wajib_ktp, target FROM targets"))
    }
    rows = [
        {"kode": k, "wajib_ktp": w, "target": t} for k, (w, t) in resolve_targets(given).items()
    ]
    if rows:
        bind.execute(
            sa.text(
                "INSERT INTO area_targets (kode, wajib_ktp, target) VALUES (:kode, :wajib_ktp, "
                ":target)"
            ),
            rows,
        )


def downgrade() -> None:
    for table in ("area_targets", "station_counts", "area_days", "area_counts"):
        op.drop_table(table)
