"""The back office's tables: the work queue, the central index, the NIK holders, the counters
and the targets. Created by revision 0004 (server/migrations/versions)."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from server.db import metadata

# One row per received packet still to process. Filled by a trigger on ``packets`` (revision
# 0004) in the transaction that stores the packet, whichever path stored it (PUT, the
# PostgreSQL fast path, import); not on a relay, whose packets are forwarded, not processed.
# A row leaves the queue in the transaction that writes the packet's fate and its counts.
queue = Table(
    "process_queue",
    metadata,
    Column("station_id", String(64), primary_key=True),
    Column("uuid", String(64), primary_key=True),
    Column("received_at", Float, nullable=False),
    # The processor holding it, until when (a processor killed mid-batch loses it then).
    Column("lease_owner", String(128), nullable=True),
    Column("lease_until", Float, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Index("ix_process_queue_received_at", "received_at"),
)

# The central index: what the office needs and no more (no name, address nor photo; those
# stay in the sealed packet). One row per processed packet, whatever its fate.
records = Table(
    "records",
    metadata,
    Column("station_id", String(64), primary_key=True),
    Column("uuid", String(64), primary_key=True),
    Column("nik", String(16), nullable=True, index=True),
    Column("kode_wilayah", String(13), nullable=True),  # the resident's desa/kelurahan
    Column("kecamatan", String(32), nullable=False),  # the kit's assignment at capture
    Column("operator", String(64), nullable=True),
    Column("sealed_at", String(40), nullable=False),
    Column("received_at", Float, nullable=False),
    Column("processed_at", Float, nullable=False, index=True),
    Column("day", String(10), nullable=False),  # received day, WIB (counters.DAY_TZ)
    Column("fate", String(16), nullable=False, index=True),
    Column("reason", String(64), nullable=True),
    Column("detail", Text, nullable=True),  # every failed check: field and code, no values
    Column("duplicate_of_station", String(64), nullable=True),
    Column("duplicate_of", String(64), nullable=True),
    Column("rerecord_of", String(64), nullable=True),  # from the manifest, as sealed
    Column("superseded_by", String(64), nullable=True),  # a later re-recording replaced it
    Column("processor", String(128), nullable=False),
)

# Who holds each NIK: the processed record. The primary key is the de-duplication: two
# processors racing on one NIK insert here, and the second waits, then finds it taken.
residents = Table(
    "residents",
    metadata,
    Column("nik", String(16), primary_key=True),
    Column("station_id", String(64), nullable=False),
    Column("uuid", String(64), nullable=False),
    Column("kode_wilayah", String(13), nullable=False),
    Column("processed_at", Float, nullable=False),
)

# The day's figures per kit, operator and desa (recap). Unknown desa or operator (a packet
# that could not be opened) is ''.
daily_counts = Table(
    "daily_counts",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("kecamatan", String(32), primary_key=True),
    Column("desa", String(13), primary_key=True),
    Column("station_id", String(64), primary_key=True),
    Column("operator", String(64), primary_key=True),
    Column("received", Integer, nullable=False, default=0),
    Column("processed", Integer, nullable=False, default=0),
    Column("duplicate", Integer, nullable=False, default=0),
    Column("rerecord", Integer, nullable=False, default=0),
    Column("rejected", Integer, nullable=False, default=0),
)

# Residents recorded per desa (distinct NIKs with a processed record), with the desa's
# parents so a wilayah's figure is one indexed equality, never a count of records.
desa_counts = Table(
    "desa_counts",
    metadata,
    Column("desa", String(13), primary_key=True),
    Column("kecamatan", String(8), nullable=False, index=True),
    Column("kabupaten", String(5), nullable=False, index=True),
    Column("provinsi", String(2), nullable=False, index=True),
    Column("terekam", Integer, nullable=False, default=0),
    Column("updated_at", Float, nullable=False),
)

# Wajib KTP and programme targets, at any level (dotted code). Replaced by each import.
targets = Table(
    "targets",
    metadata,
    Column("kode", String(13), primary_key=True),
    Column("level", Integer, nullable=False),
    Column("wajib_ktp", Integer, nullable=False),
    Column("target", Integer, nullable=True),
)

# Who imported which targets file when (append-only).
target_imports = Table(
    "target_imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("imported_at", Float, nullable=False),
    Column("imported_by", String(200), nullable=False),
    Column("file", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows", Integer, nullable=False),
    Column("replaced_rows", Integer, nullable=False),
)

# --- the counters rolled up the wilayah tree (revision 0011) ---------------------------------
# Kept by the processor in the transaction that writes the fates (counters.Tally), so a page
# reads a wilayah's figures and its areas' from a few rows, whatever its size. ``kode`` is a
# province (2 characters), kabupaten (5), kecamatan (8) or desa (13), by the resident's desa;
# the country is the sum of its provinces (no row every processor would update). A packet
# whose desa is unknown (one that could not be opened) is in no area.
_AREA_FIGURES = ("received", "processed", "duplicate", "rerecord", "rejected")

# Since the beginning: ``processed`` is the area's terekam (distinct NIKs processed).
area_counts = Table(
    "area_counts",
    metadata,
    Column("kode", String(13), primary_key=True),
    *(Column(name, Integer, nullable=False, default=0) for name in _AREA_FIGURES),
    Column("updated_at", Float, nullable=False),
)

# Per day received (WIB, as daily_counts): the chart and the downloads' date filter.
area_days = Table(
    "area_days",
    metadata,
    Column("kode", String(13), primary_key=True),
    Column("day", String(10), primary_key=True),
    *(Column(name, Integer, nullable=False, default=0) for name in _AREA_FIGURES),
)

# Per kit since the beginning, and the newest packet's arrival among those processed: the
# Kit list reads one row a kit instead of grouping every packet.
station_counts = Table(
    "station_counts",
    metadata,
    Column("station_id", String(64), primary_key=True),
    *(Column(name, Integer, nullable=False, default=0) for name in _AREA_FIGURES),
    Column("last_received_at", Float, nullable=True),
)

# The targets resolved for every wilayah they say something about (its own row, else the sum
# of the nearest given levels below; '' is the country), rewritten by each import: a page
# reads the rows it shows instead of summing every desa's target per request.
area_targets = Table(
    "area_targets",
    metadata,
    Column("kode", String(13), primary_key=True),
    Column("wajib_ktp", Integer, nullable=True),
    Column("target", Integer, nullable=True),
)
