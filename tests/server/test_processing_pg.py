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
from tests.support.office import Tables, office_json, person, seal_record, server_args
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
