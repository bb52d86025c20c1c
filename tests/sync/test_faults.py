"""The station's sync through injected faults, crashes, revocation, clock skew, conflicts."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app import protocol
from app.store.backlog import BacklogState
from app.store.db import open_store
from app.store.outbox import Outbox
from app.store.settings import set_setting
from app.store.station import get_identity
from app.sync.station import StationSync
from app.sync.worker import ONLINE, SENDING, Progress, SyncState
from server.core import ServerCore
from tests.support.cli import ROOT, env_with_source, run_station
from tests.support.faultproxy import FAULTS, FaultProxy
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, server_cli, sqlite_only
from tests.support.wait import wait_for
from tests.sync.helpers import provisioned_home, seal_n


class PacketCount:
    """A cheap poll of the server's packet count (plain reads, no BEGIN IMMEDIATE)."""

    def __init__(self, srv: ServerProcess) -> None:
        from sqlalchemy import create_engine

        self.engine = create_engine(srv.db_url or f"sqlite:///{srv.home / 'server.db'}")

    def __call__(self) -> int:
        from sqlalchemy import text

        with self.engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM packets")).scalar() or 0)

    def close(self) -> None:
        self.engine.dispose()


def server_packets(srv: ServerProcess) -> dict[str, str]:
    core = ServerCore(srv.home, srv.db_url)
    try:
        return {p["uuid"]: p["sha256"] for p in core.list_packets()}
    finally:
        core.close()


def fast_sync(store, **kw):  # type: ignore[no-untyped-def]
    return StationSync(store, timeout=(0.4, 0.4), base_s=0.02, cap_s=0.2, **kw)


@sqlite_only  # PostgreSQL's exactly-once: tests/server/test_crash.py, the storm bench
@pytest.mark.slow
def test_thousand_records_through_random_faults(tmp_path: Path, db_url: str | None) -> None:
    n = 1000
    srv = ServerProcess(tmp_path / "server", db_url).start()
    proxy = FaultProxy(srv.port, stall_s=0.8, seed=11).start()
    try:
        home = provisioned_home(tmp_path / "station", srv, url=proxy.url)
        with open_store(home) as store:
            sent = seal_n(store, n)
            sync = fast_sync(store)
            states: list[str] = []
            progress: list[Progress] = []
            worker = sync.worker(
                on_state=lambda s: states.append(s.state),
                on_progress=progress.append,
                interval_s=0.5,
                maintenance_interval_s=3600,
                offline_cap_s=0.1,
                min_wait_s=0.01,
            )
            proxy.forced = list(FAULTS)  # each fault kind at least once, first
            proxy.fault_rate = 0.03
            count = PacketCount(srv)
            worker.start()
            try:
                wait_for(lambda: count() >= n // 3, 120, "a third delivered")
                proxy.down()  # connection refused for a while
                time.sleep(0.5)
                proxy.up()
                wait_for(lambda: count() >= 2 * n // 3, 120, "two thirds")
                proxy.fault_rate = 0.0  # faults stop: everything must drain
                wait_for(lambda: Outbox(store).pending().count == 0, 120, "nothing pending")
                # The pass reports its last figures after its marks are written: wait for them.
                wait_for(
                    lambda: bool(progress) and progress[-1].records_left == 0,
                    30,
                    "a progress report of nothing left",
                )
            finally:
                count.close()
                assert worker.stop(timeout=10), "worker did not stop"
            assert not worker.running
            held = server_packets(srv)
            assert held == sent  # exactly one copy of each, every hash matches
            counts = Outbox(store).counts()
            assert counts["uploaded"] == n and counts["sealed"] == 0 and counts["rejected"] == 0
            for fault in FAULTS:
                assert proxy.counts[fault] >= 1, proxy.counts
            assert "offline" in states and SENDING in states
            assert progress[-1].records_left == 0
    finally:
        proxy.stop()
        srv.stop()


@pytest.mark.slow
def test_station_killed_during_sync_then_resumes(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "server").start()
    try:
        home = provisioned_home(tmp_path / "station", srv)
        with open_store(home) as store:
            sent = seal_n(store, 250, size=4000)
        proc = subprocess.Popen(
            [sys.executable, "-m", "app", "--home", str(home), "sync", "--interval", "60"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env_with_source(),
            cwd=ROOT,
        )
        count = PacketCount(srv)
        try:
            # Killed as soon as uploads are under way (a cheap count, polled often: a whole
            # backlog can go in a fraction of a second).
            wait_for(lambda: count() >= 20, 60, "uploads under way", poll_s=0.01)
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            count.close()
        held = server_packets(srv)
        assert 20 <= len(held) < 250, len(held)
        with open_store(home) as store:
            uploaded = {u for u in sent if Outbox(store).get_sha256(u)} & set(held)
            # no record is marked uploaded unless the server holds it
            c = Outbox(store).counts()
            assert c["uploaded"] <= len(held)
        assert uploaded
        res = run_station("--home", str(home), "sync", "--once")
        assert res.returncode == 0, res.stderr
        assert server_packets(srv) == sent
    finally:
        srv.stop()


def test_revoked_skewed_and_conflicting(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "server").start()
    try:
        home = provisioned_home(tmp_path / "station", srv)
        with open_store(home) as store:
            seal_n(store, 3)
            # clock skew: refused with a clear message, nothing marked rejected
            skewed = StationSync(store, clock=lambda: time.time() - 3600)
            result = skewed.once()
            assert result.remaining == 3 and result.error is not None
            # -3600 s, plus the time the request took to reach the check (seconds on a
            # loaded machine): the message names the skew the server saw.
            seen = re.search(r"clock is off by -(\d+) s", result.error)
            assert seen is not None and 3600 <= int(seen.group(1)) <= 3660, result.error
            assert Outbox(store).counts()["rejected"] == 0

            # 409: the server already holds this uuid with other bytes -> rejected, not retried
            identity = get_identity(store)
            assert identity is not None
            victim = Outbox(store).due(StationSync(store).engine.now_dt(), 1)[0]
            other = TestStation(
                srv.url,
                identity.station_id,
                identity.signing_key,
                identity.server_public_key,
                identity.kecamatan,
            )
            assert other.put(other.seal(uuid=victim.uuid, nama="ORANG LAIN")).status_code == 201
            result = StationSync(store).once()
            # the rejected record is still not at the server: it waits for `requeue`
            assert (result.remaining, result.rejected_waiting) == (1, 1)
            assert result.rejected == 1 and result.uploaded == 2
            rejected = [q for q in Outbox(store).recent() if q.status == "rejected"]
            assert [q.uuid for q in rejected] == [victim.uuid]
            assert "different bytes" in (rejected[0].last_error or "")

            # revoked: refused, records stay sealed (exportable), the reason is visible
            assert server_cli(srv, "station", "revoke", identity.station_id).returncode == 0
            seal_n(store, 2, start=100)
        res = run_station("--home", str(home), "sync", "--once")
        assert res.returncode == 1 and "revoked" in res.stderr
        status = json.loads(run_station("--home", str(home), "status", "--json").stdout)
        assert status["pending"] == 3 and status["records"]["rejected"] == 1
        assert status["pending_rejected"] == 1
        assert "revoked" in status["sync"]["last_error"]
    finally:
        srv.stop()


def test_worker_wakes_on_seal_pulls_assignment_and_purges(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "server").start()
    try:
        home = provisioned_home(tmp_path / "station", srv)
        with open_store(home) as store:
            old = seal_n(store, 1)
            set_setting(store, "retention_days", "0", actor="test")
            sync = StationSync(store)
            states: list[SyncState] = []
            backlogs: list[BacklogState] = []
            seen = threading.Event()
            worker = sync.worker(
                on_state=lambda s: (states.append(s), seen.set()),
                on_backlog=backlogs.append,
                interval_s=3600,  # only wake() or the reconnect can trigger a drain now
                maintenance_interval_s=0,
            )
            worker.start()
            try:
                wait_for(lambda: Outbox(store).pending().count == 0, 20, "first drain")
                identity = get_identity(store)
                assert identity is not None
                assert (
                    server_cli(
                        srv, "station", "assign", identity.station_id, "--kecamatan", "36.03.07"
                    ).returncode
                    == 0
                )
                new = seal_n(store, 1, start=50)
                worker.wake()
                wait_for(lambda: Outbox(store).pending().count == 0, 20, "woken drain")
                wait_for(
                    lambda: (get_identity(store) or identity).kecamatan == "36.03.07",
                    20,
                    "assignment pulled",
                )
                wait_for(lambda: Outbox(store).counts()["purged"] >= 1, 20, "purge")
            finally:
                assert worker.stop(timeout=10)
            assert any(s.state == ONLINE for s in states)
            assert backlogs and backlogs[-1].level == "ok"  # the falling-behind check ran
            held = server_packets(srv)
            assert set(held) == set(old) | set(new)
            core = ServerCore(srv.home)
            try:
                kec = {p["uuid"]: p["kecamatan"] for p in core.list_packets()}
            finally:
                core.close()
            # records keep the kecamatan they were captured under
            assert all(kec[u] == "36.03.32" for u in old)
            st = sync.state.load()
            assert st.uploaded_total == 2 and len(st.exposure_s) == 2
    finally:
        srv.stop()


def test_worker_stop_is_prompt_while_server_is_down(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "server").start()
    home = provisioned_home(tmp_path / "station", srv)
    srv.stop()
    with open_store(home) as store:
        seal_n(store, 2)
        worker = StationSync(store, timeout=(0.5, 0.5)).worker(offline_cap_s=30)
        worker.start()
        wait_for(lambda: worker.state.state == "offline", 20, "the worker offline")
        t0 = time.monotonic()
        assert worker.stop(timeout=5)
        assert time.monotonic() - t0 < 5


@pytest.mark.parametrize("path", [protocol.API_PREFIX + "/station"])
def test_replayed_request_refused(tmp_path: Path, path: str) -> None:
    with ServerProcess(tmp_path / "server") as srv:
        home = provisioned_home(tmp_path / "station", srv)
        with open_store(home) as store:
            identity = get_identity(store)
            assert identity is not None
            headers = protocol.sign_request(
                "GET", path, b"", identity.station_id, identity.signing_key
            )
        import requests

        first = requests.get(srv.url + path, headers=headers, timeout=10)
        second = requests.get(srv.url + path, headers=headers, timeout=10)
        assert first.status_code == 200
        assert second.status_code == 401 and second.json()["error"] == "replay"
