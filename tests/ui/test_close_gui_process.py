"""The real GUI process closed (SIGTERM) while its upload is stalled on a dead network.

What the operator needs: the process ends within seconds (not when the request times out), so
the station can be started again at once; and nothing is lost: the record whose upload was
cut off is still pending and goes out on the next sync (the server is idempotent).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

from app.single_instance import acquire
from app.store.db import open_store
from app.store.models import Record
from app.store.outbox import Outbox
from tests.support.cli import ROOT, env_with_source, run_station
from tests.support.faultproxy import FaultProxy
from tests.sync.helpers import provisioned_home, seal_n
from tests.ui.conftest import server_packets

# The request stall outlasts the engine's read timeout (30 s): only an abort ends it sooner.
STALL_S = 120.0
EXIT_BUDGET_S = 10.0


def _wait_for(predicate, timeout: float, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the GUI exited early: {log.read_text()[-2000:]}")
        time.sleep(0.05)
    raise AssertionError(f"timed out; GUI log: {log.read_text()[-2000:]}")


def test_sigterm_during_stalled_upload_exits_at_once_and_loses_nothing(
    tmp_path: Path, server
) -> None:
    proxy = FaultProxy(server.port, stall_s=STALL_S).start()
    proc: subprocess.Popen[bytes] | None = None
    try:
        home = provisioned_home(tmp_path / "station", server, url=proxy.url)
        with open_store(home) as store:
            (uuid, sha256), *_ = seal_n(store, 1).items()
        # The worker's first pass: the health probe, the assignment pull and the kit's reports
        # pass; the PUT stalls.
        proxy.forced_on = "PUT /api/v1/packets/"
        proxy.forced = ["stall"]
        log = tmp_path / "gui.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "app", "--home", str(home)],
                cwd=ROOT,
                env=env_with_source({"QT_QPA_PLATFORM": "offscreen"}),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        _wait_for(lambda: any(f == "stall" for f, _ in proxy.requests), 60, proc, log)
        stalled = [line for fault, line in proxy.requests if fault == "stall"]
        assert stalled == [f"PUT /api/v1/packets/{uuid} HTTP/1.1"], proxy.requests
        time.sleep(0.3)  # the body is sent; the worker now waits on the reply

        t0 = time.monotonic()
        os.kill(proc.pid, signal.SIGTERM)
        try:
            code = proc.wait(EXIT_BUDGET_S)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"the GUI was still running {EXIT_BUDGET_S} s after SIGTERM "
                f"(waiting on the stalled upload); log: {log.read_text()[-2000:]}"
            ) from None
        took = time.monotonic() - t0
        assert code == 0, log.read_text()[-2000:]
        assert took < EXIT_BUDGET_S
        assert "Traceback" not in log.read_text()

        # The next start can take the single-instance lock at once.
        with acquire() as lock:
            assert lock.held and not lock.already_running

        # Nothing lost: the record is still sealed, not marked (no failure, no backoff: the
        # upload was cut off by the close, not by the network), and not at the server.
        with open_store(home) as store:
            assert Outbox(store).pending().count == 1
            with store.read() as s:
                record = s.execute(select(Record).where(Record.uuid == uuid)).scalar_one()
                assert (record.status, record.last_error) == ("sealed", None)
        assert uuid not in {p["uuid"] for p in server_packets(server)}

        # The network is back: the next sync sends it.
        res = run_station("--home", str(home), "sync", "--once", timeout=120)
        assert res.returncode == 0, res.stderr
        at_server = {p["uuid"]: p["sha256"] for p in server_packets(server)}
        assert at_server.get(uuid) == sha256
    finally:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(10)
        proxy.stop()
