"""Fates back to the station (issue 12; server/station_fates.py): the per-station fate
sequence, a trigger that writes ``received`` when the central server stores a packet, and a
relay's payload purge (``packets.purged_at``).

What a central server already holds gets its fates now: ``received`` for each packet, then the
back office's fate for each processed one, numbered per station in that order.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_PG_FUNCTION = """
CREATE FUNCTION ektp_fate_received() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    n INTEGER;
BEGIN
    IF NEW.fwd_status IS NULL THEN
        INSERT INTO fate_sequences (station_id, last_seq) VALUES (NEW.station_id, 1)
        ON CONFLICT (station_id) DO UPDATE SET last_seq = fate_sequences.last_seq + 1
        RETURNING last_seq INTO n;
        INSERT INTO station_fates (station_id, seq, uuid, fate, reason, at, duplicate_of)
        VALUES (NEW.station_id, n, NEW.uuid, 'received', NULL, NEW.received_at, NULL);
    END IF;
    RETURN NULL;
END
$$
"""
_PG_TRIGGER = (
    "CREATE TRIGGER packets_fate_received AFTER INSERT ON packets "
    "FOR EACH ROW EXECUTE FUNCTION ektp_fate_received()"
)
_SQLITE_TRIGGER = """
CREATE TRIGGER packets_fate_received AFTER INSERT ON packets WHEN NEW.fwd_status IS NULL
BEGIN
    INSERT INTO fate_sequences (station_id, last_seq) VALUES (NEW.station_id, 1)
    ON CONFLICT (station_id) DO UPDATE SET last_seq = last_seq + 1;
    INSERT INTO station_fates (station_id, seq, uuid, fate, reason, at, duplicate_of)
    SELECT NEW.station_id, last_seq, NEW.uuid, 'received', NULL, NEW.received_at, NULL
    FROM fate_sequences WHERE station_id = NEW.station_id;
END
"""

_BACKFILL = """
INSERT INTO station_fates (station_id, seq, uuid, fate, reason, at, duplicate_of)
SELECT station_id,
       ROW_NUMBER() OVER (PARTITION BY station_id ORDER BY kind, at, uuid),
       uuid, fate, reason, at, duplicate_of
FROM (
    SELECT station_id, uuid, 0 AS kind, 'received' AS fate, NULL AS reason,
           received_at AS at, NULL AS duplicate_of
    FROM packets WHERE fwd_status IS NULL
    UNION ALL
    SELECT station_id, uuid, 1 AS kind, fate, reason, processed_at AS at, duplicate_of
    FROM records
) AS held
"""


def _pg() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def upgrade() -> None:
    op.create_table(
        "fate_sequences",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
    )
    op.create_table(
        "station_fates",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("seq", sa.Integer(), primary_key=True),
        sa.Column("uuid", sa.String(64), nullable=False),
        sa.Column("fate", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("duplicate_of", sa.String(64), nullable=True),
    )
    # A relay's purge: the payload of a forwarded packet is dropped once the centre's
    # `received` is here and the retention has passed (server/relay_fates.py).
    # (ADD COLUMN, not a batch copy: that would drop the triggers on packets.)
    op.add_column("packets", sa.Column("purged_at", sa.Float(), nullable=True))
    op.execute(_BACKFILL)
    op.execute(
        "INSERT INTO fate_sequences (station_id, last_seq) "
        "SELECT station_id, MAX(seq) FROM station_fates GROUP BY station_id"
    )
    if _pg():
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER packets_fate_received" + (" ON packets" if _pg() else ""))
    if _pg():
        op.execute("DROP FUNCTION ektp_fate_received()")
    op.execute("ALTER TABLE packets DROP COLUMN purged_at")
    op.drop_table("station_fates")
    op.drop_table("fate_sequences")
