"""Card check at the kelurahan (issue 19), on loopback against a real server (SQLite).

``POST /api/v1/card/check`` for a card linked to a processed record: the centre finds the
link, opens the record's sealed packet for the name and the photo (a 3:4 portrait), audits the
lookup and signs the answer. Beside it, in the same run, a plain signed ``GET
/api/v1/station`` of the same stations (the lightest signed request). Target: p95 < 300 ms.

The centre allows 30 checks a minute per station (server/cards.py), so the checks are spread
over several card-check stations, each under its limit.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from pathlib import Path

from bench.figures import Figure, percentile

PER_STATION = 25  # under the centre's 30 a minute


def run(quick: bool) -> list[Figure]:
    from app import protocol
    from app.cards import CARD_CHECK_PATH
    from tests.support.cli import run_server
    from tests.support.office import person, seal_record
    from tests.support.server import ServerProcess
    from tests.support.server_fixtures import TestStation, add_station

    n_stations = 2 if quick else 8
    n_cards = 20
    tmp = Path(tempfile.mkdtemp(prefix="bench-card-"))
    srv = ServerProcess(tmp / "server").start()
    try:
        kit = TestStation.enroll(srv, code=add_station(srv))
        uids = [f"04{i:012X}" for i in range(1, n_cards + 1)]
        for i, uid in enumerate(uids):
            if kit.put(seal_record(kit, person(100 + i), card_uid=uid)).status_code != 201:
                raise RuntimeError("the recording kit's upload failed")
        done = run_server("--home", str(srv.home), "process", "--once", "--json")
        if done.returncode != 0:
            raise RuntimeError(done.stderr)
        desks = []
        for i in range(n_stations):
            res = run_server(
                "--home", str(srv.home), "station", "add", "--verifier",
                "--name", f"Desk {i}", "--kecamatan", "36.03.32", "--json",
            )  # fmt: skip
            desks.append(TestStation.enroll(srv, code=str(json.loads(res.stdout)["code"])))

        checks: list[float] = []
        gets: list[float] = []
        found = 0
        for n in range(PER_STATION):
            for d, desk in enumerate(desks):
                body = json.dumps({"uid": uids[(n + d) % n_cards], "operator": "ani"}).encode()
                t0 = time.perf_counter()
                r = desk.signed("POST", CARD_CHECK_PATH, body)
                answer = r.json()
                checks.append(time.perf_counter() - t0)
                if r.status_code != 200 or not r.headers.get(protocol.H_SERVER_SIGNATURE):
                    raise RuntimeError(f"check failed: {r.status_code} {r.text[:200]}")
                found += bool(answer["found"] and answer["photo_jpeg_b64"])
                t0 = time.perf_counter()
                g = desk.signed("GET", protocol.API_PREFIX + "/station")
                g.json()
                gets.append(time.perf_counter() - t0)
                if g.status_code != 200:
                    raise RuntimeError(f"baseline GET failed: {g.status_code}")
        what = f"card check, {len(checks)} checks from {n_stations} stations"
        figures = []
        for q in (95, 50):
            value = percentile(checks, q)
            figures.append(
                Figure(
                    "card",
                    f"{what} p{q}",
                    "ms",
                    value * 1000,
                    percentile(gets, q) * 1000,
                    f"plain signed GET /station p{q}",
                    "< 300 ms" if q == 95 else "",
                    (value < 0.3 and found == len(checks)) if q == 95 else None,
                )
            )
        return figures
    finally:
        srv.stop()
        shutil.rmtree(tmp, ignore_errors=True)
