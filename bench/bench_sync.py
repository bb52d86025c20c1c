"""Station sync on loopback: exposure window and backlog drain, beside plain-requests baselines.

- Exposure window: seal one record (~40 KB photo) through the real store, wake the running
  SyncWorker, and take seal-to-receipt from the station's own figures (``sync-state.json``);
  p50 and p99. Baseline: one bare signed ``requests`` PUT of a packet of the same size (no
  store, no worker) to the same server.
- Backlog drain: 1,000 queued records of ~60 KB drained by ``StationSync.once()`` (store
  reads, signed PUTs, receipt checks, store writes), beside a plain ``requests`` PUT loop of
  another station's 1,000 packets of the same size to the same server.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import requests

from bench.figures import Figure, latency_figures


def _plain_put_loop(url: str, station_id: str, key, datas: list[tuple[str, bytes]]) -> float:  # type: ignore[no-untyped-def]
    from app import protocol

    s = requests.Session()
    t0 = time.perf_counter()
    for uuid, data in datas:
        path = protocol.packet_path(uuid)
        headers = protocol.sign_request("PUT", path, data, station_id, key)
        r = s.put(url + path, data=data, headers=headers, timeout=30)
        if r.status_code != 201:
            raise RuntimeError(f"baseline PUT failed: {r.status_code} {r.text[:100]}")
    return time.perf_counter() - t0


def run(quick: bool) -> list[Figure]:
    from app.store.db import open_store
    from app.store.outbox import Outbox
    from app.store.station import get_identity
    from app.sync.station import StationSync
    from tests.support.server import ServerProcess
    from tests.sync.helpers import provisioned_home, seal_n

    n_exposure = 50 if quick else 200
    n_backlog = 200 if quick else 1000
    tmp = Path(tempfile.mkdtemp(prefix="bench-sync-"))
    srv = ServerProcess(tmp / "server").start()
    figures: list[Figure] = []
    try:
        # --- exposure window ----------------------------------------------------------------
        home = provisioned_home(tmp / "st-exposure", srv, name="Exposure")
        with open_store(home) as store:
            sync = StationSync(store)
            worker = sync.worker(interval_s=3600, maintenance_interval_s=3600)
            worker.start()
            try:
                for i in range(n_exposure):
                    seal_n(store, 1, size=40_000, start=i)
                    worker.wake()
                    deadline = time.monotonic() + 10
                    while Outbox(store).pending().count and time.monotonic() < deadline:
                        time.sleep(0.001)
            finally:
                worker.stop()
            samples = sync.state.load().exposure_s[-n_exposure:]
            identity = get_identity(store)
        assert identity is not None and len(samples) == n_exposure
        # baseline: bare PUTs of same-size packets from a second station
        home_b = provisioned_home(tmp / "st-exposure-b", srv, name="Exposure baseline")
        with open_store(home_b) as store_b:
            sent = seal_n(store_b, n_exposure, size=40_000)
            items = Outbox(store_b).due(sync.engine.now_dt(), n_exposure)
            ident_b = get_identity(store_b)
        assert ident_b is not None and len(items) == len(sent)
        base: list[float] = []
        for it in items:
            base.append(
                _plain_put_loop(
                    srv.url, ident_b.station_id, ident_b.signing_key, [(it.uuid, it.data)]
                )
            )
        # the target is on p50
        figures += latency_figures(
            "sync",
            "exposure window (seal-to-receipt, ~40 KB)",
            samples,
            base,
            "bare PUT",
            {50: ("< 100 ms", 0.1)},
        )

        # --- backlog drain ----------------------------------------------------------------
        home_d = provisioned_home(tmp / "st-drain", srv, name="Drain")
        home_p = provisioned_home(tmp / "st-plain", srv, name="Plain")
        with open_store(home_d) as store_d, open_store(home_p) as store_p:
            seal_n(store_d, n_backlog, size=60_000)
            seal_n(store_p, n_backlog, size=60_000)
            plain_items = Outbox(store_p).due(sync.engine.now_dt(), n_backlog)
            ident_p = get_identity(store_p)
            assert ident_p is not None
            size_kb = plain_items[0].size / 1024
            t0 = time.perf_counter()
            result = StationSync(store_d).once()
            drain_s = time.perf_counter() - t0
            if result.remaining or result.uploaded != n_backlog:
                raise RuntimeError(f"drain incomplete: {result}")
            plain_s = _plain_put_loop(
                srv.url,
                ident_p.station_id,
                ident_p.signing_key,
                [(i.uuid, i.data) for i in plain_items],
            )
        figures.append(
            Figure(
                "sync",
                f"backlog drain, {n_backlog} x {size_kb:.0f} KB",
                "records/s",
                n_backlog / drain_s,
                n_backlog / plain_s,
                "plain requests PUT loop",
                ">= 100 records/s",
                n_backlog / drain_s >= 100,
            )
        )
        return figures
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
