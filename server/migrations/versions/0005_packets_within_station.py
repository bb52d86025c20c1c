"""Packets keyed by (station_id, uuid), their review (quarantine) columns, and the station
assignment history, seeded (issue 18, items 4 to 6; written first as the hand-kept schema 4).

SQLite cannot change a primary key: the table is rebuilt (renamed, made anew, copied), and
the back office's enqueue trigger (revision 0004), which went with the old table, is made
again on the new one after the copy (the packets copied are queued already).

Seed of the history: a station's current kecamatan counts from its creation, and so does every
kecamatan its stored packets carry (what came before is not known; the packets already held
were accepted with it): queued packets sealed under an earlier assignment still go through.
Packets sealed before now under an assignment not seeded here are quarantined, not refused
(server/labels.py, meta ``assignment_history_since``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COLUMNS_BEFORE = (
    "uuid, sha256, size, data, station_id, kecamatan, sealed_at, received_at, received_from, "
    "verified, fwd_status, fwd_attempts, fwd_next_at, fwd_error, fwd_receipt"
)
_REVIEW = (
    sa.Column("review", sa.String(16), nullable=True),
    sa.Column("review_reason", sa.Text(), nullable=True),
    sa.Column("reviewed_by", sa.String(200), nullable=True),
    sa.Column("reviewed_at", sa.Float(), nullable=True),
)
# As revision 0004 made it (spelled out here: a later revision may change it there).
_SQLITE_TRIGGER = """
CREATE TRIGGER packets_enqueue AFTER INSERT ON packets WHEN NEW.fwd_status IS NULL
BEGIN
    INSERT OR IGNORE INTO process_queue (station_id, uuid, received_at, attempts)
    VALUES (NEW.station_id, NEW.uuid, NEW.received_at, 0);
END
"""


def _packets_v4(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "packets",
        metadata,
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("uuid", sa.String(64), primary_key=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
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
        *(c.copy() for c in _REVIEW),
    )


def upgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "postgresql":
        op.execute("ALTER TABLE packets DROP CONSTRAINT packets_pkey")
        op.execute("ALTER TABLE packets ADD PRIMARY KEY (station_id, uuid)")
        op.execute("DROP INDEX IF EXISTS ix_packets_station_id")
        for column in _REVIEW:
            op.add_column("packets", column.copy())
    else:
        op.execute("ALTER TABLE packets RENAME TO packets_v3")
        for name in ("ix_packets_station_id", "ix_packets_received_at", "ix_packets_fwd_status"):
            op.execute(f"DROP INDEX IF EXISTS {name}")
        _packets_v4(sa.MetaData()).create(conn)
        op.execute(
            f"INSERT INTO packets ({_COLUMNS_BEFORE}) SELECT {_COLUMNS_BEFORE} FROM packets_v3"
        )
        op.execute("DROP TABLE packets_v3")
        op.create_index("ix_packets_received_at", "packets", ["received_at"])
        op.create_index("ix_packets_fwd_status", "packets", ["fwd_status"])
        op.execute(_SQLITE_TRIGGER)
    op.create_index("ix_packets_review", "packets", ["review"])
    op.create_index("ix_packets_uuid", "packets", ["uuid"])

    assignments = op.create_table(
        "station_assignments",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("kecamatan", sa.String(32), primary_key=True),
        sa.Column("since", sa.Float(), primary_key=True),
    )
    op.execute(
        sa.text(
            "INSERT INTO server_meta (key, value) VALUES ('assignment_history_since', :v)"
        ).bindparams(v=repr(time.time()))
    )
    rows = conn.execute(sa.text("SELECT id, kecamatan, created_at FROM stations")).all()
    created = {sid: at for sid, _, at in rows}
    held = conn.execute(sa.text("SELECT DISTINCT station_id, kecamatan FROM packets")).all()
    seen: set[tuple[str, str]] = set()
    for sid, kecamatan in [(sid, k) for sid, k, _ in rows] + [tuple(r) for r in held]:
        if sid in created and (sid, kecamatan) not in seen:
            seen.add((sid, kecamatan))
            conn.execute(
                assignments.insert().values(station_id=sid, kecamatan=kecamatan, since=created[sid])
            )


def downgrade() -> None:
    raise NotImplementedError("packets keyed by (station, uuid) are not taken back")
