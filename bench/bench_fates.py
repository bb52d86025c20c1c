"""Fates back to the station (issue 12), on loopback against a real server (SQLite).

- Catch-up: a kit with 10,000 fates waiting (the centre's ``received`` of 10,000 records it
  sent) catches up in ONE pull cycle (``StationSync.run_pull``: signed GETs of 500-fate pages,
  answer signatures checked, each page checked and applied in one store transaction). Baseline:
  a plain signed ``requests`` GET loop of the same pages (no checks, nothing stored).
- Overhead on the backlog drain: ``StationSync.once()`` draining 1,000 x 60 KB records with
  the pull cycle at its end (1,000 ``received`` fates in two pages); the rate beside the rate
  of the same drain without the time its pull took (target: the pull adds < 5 %, i.e. ratio
  >= 0.95).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import requests

from bench.figures import Figure


def _plain_get_loop(url: str, station_id: str, key, pages: list[str]) -> float:  # type: ignore[no-untyped-def]
    from app import protocol

    s = requests.Session()
    t0 = time.perf_counter()
    for path in pages:
        headers = protocol.sign_request("GET", path, b"", station_id, key)
        r = s.get(url + path, headers=headers, timeout=30)
        if r.status_code != 200:
            raise RuntimeError(f"baseline GET failed: {r.status_code} {r.text[:100]}")
        r.json()
    return time.perf_counter() - t0


def run(quick: bool) -> list[Figure]:
    from app.fates import PAGE, fates_path
    from app.store import fates as fate_store
    from app.store.db import open_store
    from app.store.station import get_identity
    from app.sync.station import StationSync
    from tests.support.server import ServerProcess
    from tests.sync.helpers import provisioned_home, seal_n

    n_fates = 2_000 if quick else 10_000
    n_backlog = 200 if quick else 1000
    tmp = Path(tempfile.mkdtemp(prefix="bench-fates-"))
    srv = ServerProcess(tmp / "server").start()
    figures: list[Figure] = []
    try:
        # --- catch-up of n_fates in one pull cycle ---------------------------------------------
        home = provisioned_home(tmp / "st-fates", srv, name="Fates")
        with open_store(home) as store:
            seal_n(store, n_fates, size=300)
            sync = StationSync(store)
            while True:  # drain only: the fates wait at the server
                result = sync.drain(force=True)
                if result.error is not None:
                    raise RuntimeError(f"drain failed: {result.error.message}")
                if not result.uploaded:
                    break
            identity = get_identity(store)
            assert identity is not None
            t0 = time.perf_counter()
            out = sync.run_pull()
            pull_s = time.perf_counter() - t0
            pulled = out["fates"]
            if not hasattr(pulled, "applied"):
                raise RuntimeError(f"pull failed: {out}")
            caught_up = fate_store.last_seq(store) == n_fates
        pages = [fates_path(after, PAGE) for after in range(0, n_fates, PAGE)]
        plain_s = _plain_get_loop(srv.url, identity.station_id, identity.signing_key, pages)
        figures.append(
            Figure(
                "fates",
                f"catch-up of {n_fates} fates in one pull cycle ({len(pages)} pages)",
                "s",
                pull_s,
                plain_s,
                "plain signed GET loop",
                "all in one cycle",
                caught_up,
            )
        )

        # --- the pull's overhead on the backlog drain -----------------------------------------
        # The pull's own time inside the same drain: on a shared machine two separate drains
        # differ by more than 5 % from the load alone (an ABBA pair of kits gave ratios from
        # 0.56 to 1.44 under a load average of 8-14), so the two figures come from one run.
        home_d = provisioned_home(tmp / "st-drain", srv, name="Drain")
        with open_store(home_d) as store_d:
            seal_n(store_d, n_backlog, size=60_000)
            sync_d = StationSync(store_d)
            pulls: list[float] = []
            run_pull = sync_d.run_pull

            def timed_pull() -> dict[str, object]:
                t = time.perf_counter()
                try:
                    return run_pull()
                finally:
                    pulls.append(time.perf_counter() - t)

            sync_d.run_pull = timed_pull  # type: ignore[method-assign]
            t0 = time.perf_counter()
            r_d = sync_d.once()
            total_s = time.perf_counter() - t0
            if r_d.uploaded != n_backlog:
                raise RuntimeError(f"drain incomplete: {r_d}")
            if fate_store.last_seq(store_d) != n_backlog:
                raise RuntimeError("the drain's pull did not bring every received")
        pull_s = sum(pulls)
        figures.append(
            Figure(
                "fates",
                f"backlog drain with the fate pull, {n_backlog} x 59 KB "
                f"(pull {pull_s:.2f} s of {total_s:.1f} s)",
                "records/s",
                n_backlog / total_s,
                n_backlog / (total_s - pull_s),
                "the same drain without its pull",
                "pull adds < 5 % (ratio >= 0.95)",
                (total_s - pull_s) / total_s >= 0.95,
            )
        )
        return figures
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
