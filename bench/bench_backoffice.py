"""Back office on PostgreSQL: processing throughput with 1 and 2 processors beside a bare loop
that opens, verifies and decodes the photo of the same packets; and ``coverage`` of a
kabupaten with 1,000,000 processed records over the real desa list, beside counting records.

Targets (issue 11): >= 200 records/s with 2 processors and >= 50 % of the bare loop; coverage
p95 < 50 ms.
"""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.figures import Figure, percentile

BENCH = "backoffice"


def _bare_loop(datas: list[bytes], station_key: object, sealing_key: object) -> float:
    """Open, verify and decode the photo of every packet, in one process: records/s."""
    from app import packet as pkt
    from app.capture.photo import decode_image

    start = time.perf_counter()
    for data in datas:
        pkt.verify(data, station_key)  # type: ignore[arg-type]
        opened = pkt.open_packet(data, sealing_key)  # type: ignore[arg-type]
        decode_image(opened.attachments["face.jpg"].data)
    return len(datas) / (time.perf_counter() - start)


def _clear(engine: object) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:  # type: ignore[attr-defined]
        for table in ("records", "residents", "daily_counts", "desa_counts", "process_queue"):
            conn.execute(text(f"DELETE FROM {table}"))


def _enqueue_all(engine: object) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(
            text(
                "INSERT INTO process_queue (station_id, uuid, received_at, attempts) "
                "SELECT station_id, uuid, received_at, 0 FROM packets"
            )
        )


def _processors(home: Path, url: str, n: int, engine: object, total: int) -> float:
    """records/s of ``n`` processor processes, from the first fate written to the last.

    The processors are started on an empty queue and given every packet at once (one
    transaction), so they all work from the start: none is still starting up meanwhile."""
    import signal

    from sqlalchemy import func, select

    from server.processing.tables import records
    from tests.support.cli import ROOT, env_with_source

    _clear(engine)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "server", "--home", str(home), "--db", url, "process"],
            env=env_with_source(),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for _ in range(n)
    ]
    try:
        time.sleep(8)  # imports and the first poll of an empty queue
        for p in procs:
            if p.poll() is not None:
                raise RuntimeError(f"process exited: {p.communicate()[1].decode()[-500:]}")
        _enqueue_all(engine)
        deadline = time.monotonic() + 600
        count = 0
        while time.monotonic() < deadline:
            with engine.connect() as conn:  # type: ignore[attr-defined]
                first, last, count = conn.execute(
                    select(
                        func.min(records.c.processed_at),
                        func.max(records.c.processed_at),
                        func.count(),
                    )
                ).one()
            if count == total:
                break
            time.sleep(0.2)
        if count != total:
            raise RuntimeError(f"{count} fates for {total} packets")
        with engine.connect() as conn:  # type: ignore[attr-defined]
            who = conn.execute(select(func.count(records.c.processor.distinct()))).scalar()
        if who != n:
            raise RuntimeError(f"{who} of {n} processors wrote fates")
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.communicate(timeout=60)
    # The first fate is written after one batch's work: count the span as total - 1 packets.
    return (total - 1) / (last - first)


def _throughput(cluster: object, tmp: Path, quick: bool) -> list[Figure]:
    from app import packet as pkt
    from server import db
    from tests.support.office import person, seal_record
    from tests.support.server import ServerProcess
    from tests.support.server_fixtures import TestStation

    total = 300 if quick else 1200
    url = cluster.create_database("office")  # type: ignore[attr-defined]
    srv = ServerProcess(tmp / "server", url).start()
    engine = db.make_engine(url)
    try:
        kit = TestStation.enroll(srv)
        # 1 in 10 residents recorded twice, as in the field.
        serials = [i % int(total * 0.9) + 1 for i in range(total)]
        datas = [seal_record(kit, person(s)).data for s in serials]
        for data in datas:
            resp = kit.put(data)
            if resp.status_code != 201:
                raise RuntimeError(f"PUT answered {resp.status_code}: {resp.text[:200]}")
        srv.stop()
        sealing = _sealing_key(tmp / "server")
        rates, bares = {}, {}
        for n in (1, 2):
            # The machine is shared: the bare loop runs just before and just after the
            # processors, and the baseline is the mean of the two.
            before = _bare_loop(datas, kit.key.public_key(), sealing)
            rates[n] = _processors(tmp / "server", url, n, engine, total)
            bares[n] = (before + _bare_loop(datas, kit.key.public_key(), sealing)) / 2
        del pkt
    finally:
        srv.stop()
        engine.dispose()
    return [
        Figure(
            BENCH,
            f"PostgreSQL processing, 1 processor, {total} packets",
            "records/s",
            rates[1],
            bares[1],
            "bare open+verify+decode loop",
        ),
        Figure(
            BENCH,
            f"PostgreSQL processing, 2 processors, {total} packets",
            "records/s",
            rates[2],
            bares[2],
            "bare open+verify+decode loop",
            ">= 200/s and >= 50% of the bare loop",
            rates[2] >= 200 and rates[2] >= 0.5 * bares[2],
        ),
    ]


def _sealing_key(home: Path) -> object:
    from server.keys import load_or_create_sealing_key

    return load_or_create_sealing_key(home)


def _desa_codes() -> list[str]:
    from app.domain import regions

    out: list[str] = []

    def walk(code: str | None) -> None:
        for child in regions.children(code):
            if child.level == 4:
                out.append(child.code)
            else:
                walk(child.code)

    walk(None)
    return out


def _coverage(cluster: object, tmp: Path, quick: bool) -> list[Figure]:
    from sqlalchemy import text

    from server import coverage, db
    from server.schema import upgrade

    n_records = 100_000 if quick else 1_000_000
    url = cluster.create_database("coverage")  # type: ignore[attr-defined]
    engine = db.make_engine(url)
    try:
        upgrade(engine)
        desa = _desa_codes()
        with engine.begin() as conn:
            conn.execute(text("CREATE TEMP TABLE d (i int PRIMARY KEY, kode text)"))
            conn.execute(
                text("INSERT INTO d (i, kode) VALUES (:i, :k)"),
                [{"i": i, "k": k} for i, k in enumerate(desa)],
            )
            # n_records processed records spread over every desa, one resident each.
            conn.execute(
                text(
                    "INSERT INTO records (station_id, uuid, nik, kode_wilayah, kecamatan,"
                    " operator, sealed_at, received_at, processed_at, day, fate, processor)"
                    " SELECT 'bench-kit', md5(g::text), lpad(g::text, 16, '0'), d.kode,"
                    " substr(d.kode, 1, 8), 'op', '2026-12-07T01:00:00Z', 1.0, 2.0,"
                    " '2026-12-07', 'processed', 'bench'"
                    " FROM generate_series(1, :n) g JOIN d ON d.i = g % :m"
                ),
                {"n": n_records, "m": len(desa)},
            )
            conn.execute(
                text(
                    "INSERT INTO desa_counts (desa, kecamatan, kabupaten, provinsi, terekam,"
                    " updated_at) SELECT kode_wilayah, substr(kode_wilayah, 1, 8),"
                    " substr(kode_wilayah, 1, 5), substr(kode_wilayah, 1, 2), count(*), 2.0"
                    " FROM records GROUP BY kode_wilayah"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO targets (kode, level, wajib_ktp)"
                    " SELECT kode, 4, 20 + i % 17 FROM d"
                )
            )
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
            conn.commit()
        kabupaten = sorted({k[:5] for k in desa})
        rng = random.Random(11)
        picks = [rng.choice(kabupaten) for _ in range(40 if quick else 200)]
        coverage.coverage(engine, picks[0])  # warm-up: region table, connections
        samples, naive = [], []
        for kab in picks:
            t0 = time.perf_counter()
            doc = coverage.coverage(engine, kab)
            samples.append(time.perf_counter() - t0)
            assert doc["wilayah"]["terekam"] > 0
        for kab in picks[:40]:  # counting records the way the counters avoid
            t0 = time.perf_counter()
            with engine.connect() as conn:
                conn.execute(
                    text(
                        "SELECT substr(kode_wilayah, 1, 8), count(DISTINCT nik) FROM records"
                        " WHERE fate = 'processed' AND kode_wilayah LIKE :p GROUP BY 1"
                    ),
                    {"p": kab + ".%"},
                ).all()
            naive.append(time.perf_counter() - t0)
    finally:
        engine.dispose()
    p95 = percentile(samples, 95)
    return [
        Figure(
            BENCH,
            f"coverage of a kabupaten, {n_records:,} records, {len(desa):,} desa, p95",
            "ms",
            p95 * 1000,
            percentile(naive, 95) * 1000,
            "counting records, p95",
            "< 50 ms",
            p95 < 0.050,
        ),
        Figure(
            BENCH,
            "coverage of a kabupaten, p50",
            "ms",
            percentile(samples, 50) * 1000,
            percentile(naive, 50) * 1000,
            "counting records, p50",
        ),
    ]


def run(quick: bool) -> list[Figure]:
    from tests.support.server import PostgresCluster, find_pg_bindir

    bindir = find_pg_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    tmp = Path(tempfile.mkdtemp(prefix="bench-backoffice-"))
    cluster = PostgresCluster(bindir).start()
    try:
        return [*_throughput(cluster, tmp, quick), *_coverage(cluster, tmp, quick)]
    finally:
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)
