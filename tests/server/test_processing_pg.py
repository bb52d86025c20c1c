"""Processors on a real PostgreSQL: two racing over one queue, and one killed with SIGKILL in
the middle of a batch. Every packet ends with exactly one fate and every count is written once:
the fate, the counters and the queue row change in one transaction, and only under the lease
of the processor that writes them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import packet as pkt
from server.processing.tables import records, residents
from tests.support.cli import ROOT, env_with_source
from tests.support.office import Tables, office, office_json, person, seal_record, server_args
from tests.support.server import PostgresCluster, ServerProcess
from tests.support.server_fixtures import TestStation

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_server(tmp_path: Path, pg_cluster: PostgresCluster) -> ServerProcess:
    srv = ServerProcess(tmp_path / "server", pg_cluster.create_database()).start()
    yield srv  # type: ignore[misc]
    srv.stop()


def _upload(srv: ServerProcess, residents_: list[int]) -> list[str]:
    kit = TestStation.enroll(srv)
    uuids = []
    for serial in residents_:
        packet = seal_record(kit, person(serial))
        resp = kit.put(packet)
        assert resp.status_code == 201, resp.text
        uuids.append(pkt.read_header(packet.data).uuid)
    return uuids


def _processor(srv: ServerProcess, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "server", *server_args(srv.home, srv.db_url), "process", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_with_source(),
        cwd=ROOT,
    )


def _assert_counted_once(t: Tables, uuids: list[str], distinct: int) -> Counter[str]:
    fates = t.fates()
    assert sorted(fates) == sorted(uuids)  # every packet: one fate (the key is the packet)
    assert t.queued() == 0
    by_fate = Counter(fates.values())
    assert t.received_counted() == len(uuids)
    assert t.processed_counted() == by_fate["processed"] == distinct
    assert t.terekam() == distinct
    assert t.scalar(select(func.count()).select_from(residents)) == distinct
    # ... and once in every area of the wilayah tree and for its kit (revision 0011).
    assert t.rollup_mismatches() == []
    return by_fate


def test_two_processors_race_over_one_queue(pg_server: ServerProcess) -> None:
    # 120 residents, each recorded twice (the second time later in the queue).
    serials = list(range(1, 121))
    uuids = _upload(pg_server, serials + serials)
    procs = [_processor(pg_server, "--once", "--batch", "8") for _ in range(2)]
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
    t = Tables(pg_server.home, pg_server.db_url)
    try:
        by_fate = _assert_counted_once(t, uuids, 120)
        assert by_fate == {"processed": 120, "duplicate": 120}
        # Both took part (each made its own fates), and each duplicate names a processed one.
        assert len(t.processors()) == 2
        with t.engine.connect() as conn:
            r = records.c
            orphans = conn.execute(
                select(func.count())
                .select_from(records)
                .where(r.fate == "duplicate")
                .where(~r.duplicate_of.in_(select(r.uuid).where(r.fate == "processed")))
            ).scalar()
        assert orphans == 0
    finally:
        t.close()


def test_a_processor_killed_mid_batch_leaves_nothing_counted_twice(
    pg_server: ServerProcess,
) -> None:
    serials = list(range(1, 201))
    uuids = _upload(pg_server, serials + serials[:50])
    t = Tables(pg_server.home, pg_server.db_url)
    try:
        # Kill a processor while it holds a batch it has not written (between its claim and
        # its commit); if the kill lands between two batches, another processor is started
        # and killed in turn.
        held = done = 0
        for _attempt in range(5):
            victim = _processor(pg_server, "--batch", "40", "--lease", "3")
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and victim.poll() is None:
                if t.leased() > 0 and len(t.fates()) > 0:
                    break
                time.sleep(0.005)
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait(10)
            done, held = len(t.fates()), t.leased()
            if held > 0:
                break
        assert 0 < done < len(uuids)
        assert held > 0  # it died holding a batch it had not finished
        # The lease runs out; the next processor takes the batch again.
        time.sleep(3.5)
        res = office_json(pg_server.home, pg_server.db_url, "process", "--once", "--json")
        assert res["totals"]["queued"] == 0
        by_fate = _assert_counted_once(t, uuids, 200)
        assert by_fate == {"processed": 200, "duplicate": 50}
    finally:
        t.close()


def _area(t: Tables, code: str) -> dict[str, int]:
    from server.processing.tables import area_counts

    a = area_counts.c
    with t.engine.connect() as conn:
        row = conn.execute(
            select(a.received, a.processed, a.duplicate, a.rerecord, a.rejected).where(
                a.kode == code
            )
        ).one()
    return dict(
        zip(("received", "processed", "duplicate", "rerecord", "rejected"), row, strict=True)
    )


def test_counters_roll_up_the_wilayah_tree_across_processor_runs(
    pg_server: ServerProcess, tmp_path: Path
) -> None:
    """Each fate counts once in its desa, kecamatan, kabupaten and province (area_counts,
    area_days) and for its kit (station_counts), run after run; coverage reads them and the
    targets resolved at import; a database upgraded from revision 0006 gets the same rows."""
    from alembic import command

    from server import db
    from server.schema import alembic_config, upgrade

    srv = pg_server
    targets = tmp_path / "t.csv"
    targets.write_text("kode_wilayah,wajib_ktp,target\n36.03.32,34262,30000\n36.03.07.2001,900,\n")
    assert office(srv.home, srv.db_url, "targets", "import", str(targets)).returncode == 0
    kit = TestStation.enroll(srv)
    gk, sidoko, kronjo = "36.03.32.2001", "36.03.32.2002", "36.03.07.2001"

    def send(*people: dict[str, object], signature: bool = True) -> None:
        for bio in people:
            assert kit.put(seal_record(kit, bio, with_signature=signature)).status_code == 201

    send(*(person(i, kode_wilayah=gk) for i in (1, 2, 3, 4)))
    send(*(person(i, kode_wilayah=sidoko) for i in (5, 6)), person(7, kode_wilayah=kronjo))
    send(person(3, kode_wilayah=gk))  # the same resident again: a duplicate
    send(person(8, kode_wilayah=gk), signature=False)  # a re-record
    office_json(srv.home, srv.db_url, "process", "--once", "--json")
    t = Tables(srv.home, srv.db_url)
    try:
        figures = {
            gk: (6, 4, 1, 1),
            sidoko: (2, 2, 0, 0),
            kronjo: (1, 1, 0, 0),
            "36.03.32": (8, 6, 1, 1),
            "36.03.07": (1, 1, 0, 0),
            "36.03": (9, 7, 1, 1),
            "36": (9, 7, 1, 1),
        }
        for code, (received, processed, duplicate, rerecord) in figures.items():
            assert _area(t, code) == {
                "received": received, "processed": processed, "duplicate": duplicate,
                "rerecord": rerecord, "rejected": 0,
            }, code  # fmt: skip
        assert t.rollup_mismatches() == []
        # A second run adds to the same rows.
        send(person(9, kode_wilayah=sidoko), person(1, kode_wilayah=gk))
        office_json(srv.home, srv.db_url, "process", "--once", "--json")
        assert _area(t, "36.03.32")["processed"] == 7
        assert _area(t, "36.03.32")["duplicate"] == 2
        assert _area(t, sidoko)["processed"] == 3
        assert _area(t, "36")["received"] == 11
        assert t.rollup_mismatches() == []
        # Coverage reads them: the kecamatan's own target, Kronjo's desa target summed up.
        doc = office_json(srv.home, srv.db_url, "coverage", "--json", "--wilayah", "36.03")
        areas = {a["kode"]: a for a in doc["areas"]}
        assert doc["wilayah"]["terekam"] == 8
        assert doc["wilayah"]["wajib_ktp"] == 34262 + 900
        assert (areas["36.03.32"]["terekam"], areas["36.03.32"]["sisa"]) == (7, 34255)
        assert (areas["36.03.07"]["wajib_ktp"], areas["36.03.07"]["terekam"]) == (900, 1)
        country = office_json(srv.home, srv.db_url, "coverage", "--json")
        assert country["wilayah"]["terekam"] == 8
        assert country["wilayah"]["wajib_ktp"] == 34262 + 900
        assert country["wilayah"]["target"] == 30000

        # Revision 0011 fills the same rows from what a 0006 database holds.
        assert srv.db_url is not None
        engine = db.make_engine(srv.db_url)
        try:
            cfg = alembic_config()
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.downgrade(cfg, "0006")
            upgrade(engine)
        finally:
            engine.dispose()
        assert t.rollup_mismatches() == []
        again = office_json(srv.home, srv.db_url, "coverage", "--json", "--wilayah", "36.03")
        assert again["areas"] == doc["areas"] and again["wilayah"] == doc["wilayah"]
    finally:
        t.close()
