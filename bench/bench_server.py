"""Server ingest on PostgreSQL from several concurrent stations, beside raw INSERT throughput.

Both sides run in the same run on the same throwaway PostgreSQL cluster with the same bytes:
- value: signed ``PUT /api/v1/packets/{uuid}`` of ~100 KB sealed packets from 8 concurrent
  stations (each its own keep-alive session) to ``ektp-server serve --db postgresql://...``;
- baseline: one ``INSERT`` + ``COMMIT`` per packet of the same bytes into a plain table, from
  the same number of threads over psycopg 3 (no HTTP, no signature checks).
"""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
import uuid as uuidlib
from pathlib import Path

from bench.figures import Figure, percentile

STATIONS = 8
PACKET_BYTES = 100 * 1024


def _ingest(
    stations: list,
    packets: dict,
) -> tuple[float, list[float]]:  # type: ignore[type-arg]
    latencies: list[float] = []
    lock = threading.Lock()
    errors: list[str] = []

    def run(st) -> None:  # type: ignore[no-untyped-def]
        mine: list[float] = []
        for p in packets[st.station_id]:
            t0 = time.perf_counter()
            r = st.put(p)
            mine.append(time.perf_counter() - t0)
            if r.status_code != 201:
                errors.append(f"{r.status_code} {r.text[:100]}")
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(st,)) for st in stations]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{len(errors)} uploads failed, first: {errors[0]}")
    return elapsed, latencies


def _raw_insert(url: str, blobs: list[list[bytes]]) -> tuple[float, list[float]]:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE raw_packets (uuid text PRIMARY KEY, data bytea NOT NULL)")
    latencies: list[float] = []
    lock = threading.Lock()

    def run(items: list[bytes]) -> None:
        mine = []
        with psycopg.connect(dsn) as conn:
            for data in items:
                t0 = time.perf_counter()
                with conn.transaction():
                    conn.execute(
                        "INSERT INTO raw_packets (uuid, data) VALUES (%s, %s)",
                        (str(uuidlib.uuid4()), data),
                    )
                mine.append(time.perf_counter() - t0)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(b,)) for b in blobs]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - t0, latencies


def run(quick: bool) -> list[Figure]:
    from tests.support.server import PostgresCluster, ServerProcess, find_pg_bindir
    from tests.support.server_fixtures import TestStation

    bindir = find_pg_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    per_station = 25 if quick else 100
    tmp = Path(tempfile.mkdtemp(prefix="bench-server-"))
    cluster = PostgresCluster(bindir).start()
    srv = None
    try:
        url = cluster.create_database("bench")
        srv = ServerProcess(tmp / "server", url, extra=["--workers", "2"]).start()
        stations = [TestStation.enroll(srv, name=f"Kit {i}") for i in range(STATIONS)]
        packets = {
            st.station_id: [st.seal(photo_bytes=PACKET_BYTES) for _ in range(per_station)]
            for st in stations
        }
        # warm-up: one packet each (connections, imports), not counted
        for st in stations:
            st.put(st.seal(photo_bytes=1000))
        elapsed, lat = _ingest(stations, packets)
        total = STATIONS * per_station
        size_kb = len(next(iter(packets.values()))[0].data) / 1024
        rate = total / elapsed

        raw_url = cluster.create_database("raw")
        raw_elapsed, raw_lat = _raw_insert(
            raw_url, [[p.data for p in packets[st.station_id]] for st in stations]
        )
        raw_rate = total / raw_elapsed
        return [
            Figure(
                "server",
                f"PostgreSQL ingest, {STATIONS} stations, {size_kb:.0f} KB packets",
                "records/s",
                rate,
                raw_rate,
                "raw INSERT+COMMIT",
                ">= 300/s and >= 50% of raw",
                rate >= 300 and rate >= 0.5 * raw_rate,
            ),
            Figure(
                "server",
                "PostgreSQL ingest p99 latency",
                "ms",
                percentile(lat, 99) * 1000,
                percentile(raw_lat, 99) * 1000,
                "raw INSERT p99",
            ),
            Figure(
                "server",
                "PostgreSQL ingest p50 latency",
                "ms",
                percentile(lat, 50) * 1000,
                percentile(raw_lat, 50) * 1000,
                "raw INSERT p50",
            ),
        ]
    finally:
        if srv is not None:
            srv.stop()
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)
