"""The reconnect storm: every kit in the country back online at once (issue 15).

``ektp-server serve --workers 2`` on a throwaway PostgreSQL cluster, in its own processes, as
in production. The simulator (``bench/storm.py``, one asyncio process) plays the kits: each a
station registered on the server with its own key and a backlog of sealed packets, all
reconnecting within one second and following the station's retry rules (full jitter,
Retry-After). Full run: 6,456 kits (2017) × 3 records of ~60 KB.

Baseline from the same run, before the storm: the **steady ingest rate**, 64 kits uploading
back to back (fewer requests at once than the in-flight limit: nothing is refused). The storm
should drain within 1.5 × (records ÷ that rate), with accepted-request latency p99 < 1 s, every
record stored exactly once (hashes match), and no kit seeing anything but 201/200 or 503 with
Retry-After.

The load generator shares the machine's cores with the server and PostgreSQL (stations are
separate machines), so the figures are a lower bound of the server's.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from bench.figures import Figure, percentile

KITS = 6456
RECORDS = 3
PACKET_BYTES = 60 * 1024
STEADY_KITS = 64
KECAMATAN = "36.03.32"
# Filled by run(): the JSON fields of bench/results.json's "storm".
RESULTS: dict[str, Any] = {}


def run(quick: bool) -> list[Figure]:
    from bench.storm import ProcessWatch, fill_backlogs, register_kits, run_storm, stored
    from server.core import ServerCore
    from tests.support.server import PostgresCluster, ServerProcess, find_pg_bindir

    bindir = find_pg_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    kits_n = 300 if quick else KITS
    steady_records = 4 if quick else 10
    tmp = Path(tempfile.mkdtemp(prefix="bench-storm-"))
    cluster = PostgresCluster(bindir).start()
    try:
        url = cluster.create_database("storm")
        with ServerProcess(tmp / "server", url, extra=["--workers", "2"]) as srv:
            assert srv.proc is not None
            core = ServerCore(srv.home, url)
            try:
                kits = register_kits(core, kits_n, KECAMATAN)
                steady = register_kits(core, STEADY_KITS, KECAMATAN)
                server_key = core.sealing_public_key()
            finally:
                core.close()
            fill_backlogs(steady, server_key, KECAMATAN, steady_records, PACKET_BYTES)
            fill_backlogs(kits, server_key, KECAMATAN, RECORDS, PACKET_BYTES)

            base = run_storm(steady, srv.port, spread_s=0.0)
            steady_rate = base.records_sent / base.elapsed_s

            watch = ProcessWatch(srv.proc.pid)
            watch.start_sampling()
            storm = run_storm(kits, srv.port, spread_s=1.0, seed=1)
            watch.stop()
            watch.sample()
            cpu_s = watch.used_cpu_s()
        good, rows = stored(url, kits)
    finally:
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    records = storm.records_sent
    ideal_s = records / steady_rate
    drains = sorted(storm.drains_s)
    lat = storm.latencies_s
    others = sum(n for s, n in storm.status.items() if s not in (200, 201, 503))
    RESULTS.clear()
    RESULTS.update(
        {
            "kits": kits_n,
            "records_per_kit": RECORDS,
            "packet_bytes": PACKET_BYTES,
            "records_sent": records,
            "records_stored": good,
            "rows_held": rows,
            "duplicates": storm.duplicates + (rows - good),
            "requests": storm.requests,
            "requests_per_record": storm.requests / max(good, 1),
            "answers_503": storm.status[503],
            "answers_503_without_retry_after": storm.retry_after.get("", 0),
            "retry_after_values": dict(sorted(storm.retry_after.items())),
            "answers_other": others + len(storm.unexpected),
            "network_errors": storm.network_errors,
            "network_error_kinds": dict(storm.error_kinds),
            "bad_receipts": storm.bad_receipts,
            "drain_p50_s": percentile(drains, 50),
            "drain_p99_s": percentile(drains, 99),
            "drain_max_s": drains[-1],
            "latency_p50_ms": percentile(lat, 50) * 1000,
            "latency_p99_ms": percentile(lat, 99) * 1000,
            "client_loop_lag_p50_ms": percentile(storm.loop_lag_s, 50) * 1000,
            "client_loop_lag_p99_ms": percentile(storm.loop_lag_s, 99) * 1000,
            "steady_rate_per_s": steady_rate,
            "steady_latency_p99_ms": percentile(base.latencies_s, 99) * 1000,
            "ideal_drain_s": ideal_s,
            "server_cpu_s": cpu_s,
            "server_peak_rss_mb": watch.peak_rss / 2**20,
        }
    )
    r = RESULTS
    clean = (
        r["records_stored"] == records
        and r["duplicates"] == 0
        and r["answers_other"] == 0
        and r["answers_503_without_retry_after"] == 0
        and r["bad_receipts"] == 0
    )
    b = "storm"
    return [
        Figure(b, "kits", "kits", kits_n),
        Figure(b, "records stored once", "records", good, records, "records sent", "all", clean),
        Figure(b, "requests per stored record", "req", r["requests_per_record"]),
        Figure(b, "503 answers", "answers", r["answers_503"]),
        Figure(
            b,
            "drain max",
            "s",
            r["drain_max_s"],
            ideal_s,
            "records / steady rate",
            "<= 1.5x",
            r["drain_max_s"] <= 1.5 * ideal_s,
        ),
        Figure(b, "drain p99", "s", r["drain_p99_s"], ideal_s, "records / steady rate"),
        Figure(b, "drain p50", "s", r["drain_p50_s"], ideal_s, "records / steady rate"),
        Figure(
            b,
            "accepted latency p99",
            "ms",
            r["latency_p99_ms"],
            r["steady_latency_p99_ms"],
            "steady p99",
            "< 1000",
            r["latency_p99_ms"] < 1000,
        ),
        Figure(b, "accepted latency p50", "ms", r["latency_p50_ms"]),
        Figure(b, "steady ingest rate", "records/s", steady_rate),
        Figure(b, "server CPU", "s", cpu_s),
        Figure(b, "server peak RSS", "MB", r["server_peak_rss_mb"]),
    ]
