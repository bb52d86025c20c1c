"""``ektp-station demo`` runs its local server with a back-office processor: a record made on
the demo station becomes "processed" on the server within seconds of its upload."""

from __future__ import annotations

import json
import time
from pathlib import Path

from app.ui.demo import DEMO_USER, DemoRun
from tests.support.cli import run_server, run_station
from tests.support.office import person
from tests.support.station import face_jpeg, signature_png


def test_a_demo_record_is_processed(tmp_path: Path) -> None:
    run = DemoRun.start(tmp_path, log=False)
    try:
        station = ["--home", str(run.root / "station")]
        bio, photo, sig = tmp_path / "bio.json", tmp_path / "face.jpg", tmp_path / "ttd.png"
        bio.write_text(json.dumps(person(1)))
        photo.write_bytes(face_jpeg())
        sig.write_bytes(signature_png())
        res = run_station(
            *station, "enroll", "--operator", DEMO_USER[0], "--biodata", str(bio),
            "--photo", str(photo), "--signature", str(sig), input=DEMO_USER[1] + "\n",
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        uuid = res.stdout.strip().splitlines()[-1]
        assert run_station(*station, "sync", "--once").returncode == 0
        deadline = time.monotonic() + 20
        fates: list[tuple[str, str]] = []
        while time.monotonic() < deadline and not fates:
            out = run_server("--home", str(run.root / "server"), "records", "--json")
            fates = [(r["uuid"], r["fate"]) for r in json.loads(out.stdout)["records"]]
            time.sleep(0.2)
        assert fates == [(uuid, "processed")]
    finally:
        run.stop()
