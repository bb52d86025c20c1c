"""The back office: work queue (filled by a trigger on packets), central index, NIK holders,
counters per day and desa, targets and their import audit.

Packets already held are queued (a central server's, not a relay's). ``schema_version`` is set
to 1000 so a server from before Alembic refuses this database ("newer") instead of running on
a schema it does not know.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LEGACY_LOCKOUT = 1000

_PG_FUNCTION = """
CREATE FUNCTION ektp_enqueue_packet() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.fwd_status IS NULL THEN
        INSERT INTO process_queue (station_id, uuid, received_at, attempts)
        VALUES (NEW.station_id, NEW.uuid, NEW.received_at, 0)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$
"""
_PG_TRIGGER = (
    "CREATE TRIGGER packets_enqueue AFTER INSERT ON packets "
    "FOR EACH ROW EXECUTE FUNCTION ektp_enqueue_packet()"
)
_SQLITE_TRIGGER = """
CREATE TRIGGER packets_enqueue AFTER INSERT ON packets WHEN NEW.fwd_status IS NULL
BEGIN
    INSERT OR IGNORE INTO process_queue (station_id, uuid, received_at, attempts)
    VALUES (NEW.station_id, NEW.uuid, NEW.received_at, 0);
END
"""


def upgrade() -> None:
    op.create_table(
        "process_queue",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("uuid", sa.String(64), primary_key=True),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("lease_owner", sa.String(128), nullable=True),
        sa.Column("lease_until", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
    )
    op.create_index("ix_process_queue_received_at", "process_queue", ["received_at"])
    op.create_table(
        "records",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("uuid", sa.String(64), primary_key=True),
        sa.Column("nik", sa.String(16), nullable=True),
        sa.Column("kode_wilayah", sa.String(13), nullable=True),
        sa.Column("kecamatan", sa.String(32), nullable=False),
        sa.Column("operator", sa.String(64), nullable=True),
        sa.Column("sealed_at", sa.String(40), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("processed_at", sa.Float(), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("fate", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("duplicate_of_station", sa.String(64), nullable=True),
        sa.Column("duplicate_of", sa.String(64), nullable=True),
        sa.Column("rerecord_of", sa.String(64), nullable=True),
        sa.Column("superseded_by", sa.String(64), nullable=True),
        sa.Column("processor", sa.String(128), nullable=False),
    )
    op.create_index("ix_records_nik", "records", ["nik"])
    op.create_index("ix_records_processed_at", "records", ["processed_at"])
    op.create_index("ix_records_fate", "records", ["fate"])
    op.create_table(
        "residents",
        sa.Column("nik", sa.String(16), primary_key=True),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("uuid", sa.String(64), nullable=False),
        sa.Column("kode_wilayah", sa.String(13), nullable=False),
        sa.Column("processed_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "daily_counts",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("kecamatan", sa.String(32), primary_key=True),
        sa.Column("desa", sa.String(13), primary_key=True),
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("operator", sa.String(64), primary_key=True),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in ("received", "processed", "duplicate", "rerecord", "rejected")
        ),
    )
    op.create_table(
        "desa_counts",
        sa.Column("desa", sa.String(13), primary_key=True),
        sa.Column("kecamatan", sa.String(8), nullable=False),
        sa.Column("kabupaten", sa.String(5), nullable=False),
        sa.Column("provinsi", sa.String(2), nullable=False),
        sa.Column("terekam", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
    )
    for level in ("kecamatan", "kabupaten", "provinsi"):
        op.create_index(f"ix_desa_counts_{level}", "desa_counts", [level])
    op.create_table(
        "targets",
        sa.Column("kode", sa.String(13), primary_key=True),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("wajib_ktp", sa.Integer(), nullable=False),
        sa.Column("target", sa.Integer(), nullable=True),
    )
    op.create_table(
        "target_imports",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("imported_at", sa.Float(), nullable=False),
        sa.Column("imported_by", sa.String(200), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("replaced_rows", sa.Integer(), nullable=False),
    )
    if op.get_bind().dialect.name == "postgresql":
        # coverage reads a wilayah's targets by code prefix (LIKE '36.03.%'): an index in
        # byte order serves it whatever the database's collation.
        op.execute("CREATE INDEX ix_targets_kode_prefix ON targets (kode varchar_pattern_ops)")
        op.execute(_PG_FUNCTION)
        op.execute(_PG_TRIGGER)
    else:
        op.execute(_SQLITE_TRIGGER)
    # What a central server already holds waits for its first processor.
    op.execute(
        "INSERT INTO process_queue (station_id, uuid, received_at, attempts) "
        "SELECT station_id, uuid, received_at, 0 FROM packets WHERE fwd_status IS NULL"
    )
    op.execute(f"UPDATE schema_version SET version = {LEGACY_LOCKOUT}")


def downgrade() -> None:
    op.execute("UPDATE schema_version SET version = 3")
    op.execute("DROP TRIGGER packets_enqueue" + (" ON packets" if _pg() else ""))
    if _pg():
        op.execute("DROP FUNCTION ektp_enqueue_packet()")
    for table in (
        "target_imports",
        "targets",
        "desa_counts",
        "daily_counts",
        "residents",
        "records",
        "process_queue",
    ):
        op.drop_table(table)


def _pg() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")
