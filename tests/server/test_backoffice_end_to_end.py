"""The back office's Done-when, on one machine: a server running with --process, the wajib-KTP
target of Kecamatan Gunung Kaler imported, a real station (the ektp-station CLI) enrolling
residents, one of them twice, and syncing; within seconds coverage counts the distinct
residents against 34,262 and the duplicate is listed with the record it duplicates."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.support.cli import run_station
from tests.support.office import office, office_json, person
from tests.support.server import ServerProcess
from tests.support.server_fixtures import add_station
from tests.support.station import face_jpeg, signature_png


def test_gunung_kaler_coverage_and_the_duplicate(tmp_path: Path, db_url: str | None) -> None:
    srv = ServerProcess(tmp_path / "server", db_url, extra=["--process"]).start()
    home = tmp_path / "station"

    def station(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return run_station("--home", str(home), *args, input=input, timeout=120)

    try:
        targets = tmp_path / "wajib_ktp.csv"
        targets.write_text("kode_wilayah,wajib_ktp\n36.03.32,34262\n")
        res = office(srv.home, db_url, "targets", "import", str(targets), "--by", "kasi-pdip")
        assert res.returncode == 0, res.stderr

        code = add_station(srv, name="Gunung Kaler 1", kecamatan="36.03.32")
        assert station("provision", "--server", srv.url, "--code", code).returncode == 0
        res = station(
            "operator", "add", "--username", "siti", "--role", "operator",
            input="rahasia-siti-123\n",
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        photo, signature = tmp_path / "face.jpg", tmp_path / "ttd.png"
        photo.write_bytes(face_jpeg())
        signature.write_bytes(signature_png())
        uuids = []
        # Three residents; the first comes back and is recorded a second time.
        for i, serial in enumerate((1, 2, 3, 1)):
            bio = tmp_path / f"bio{i}.json"
            bio.write_text(json.dumps(person(serial)))
            res = station(
                "enroll", "--operator", "siti", "--biodata", str(bio), "--photo", str(photo),
                "--signature", str(signature), input="rahasia-siti-123\n",
            )  # fmt: skip
            assert res.returncode == 0, res.stderr
            uuids.append(res.stdout.strip().splitlines()[-1])
        assert station("sync", "--once").returncode == 0
        synced = time.monotonic()

        figure = {}
        while time.monotonic() - synced < 20:
            doc = office_json(srv.home, db_url, "coverage", "--json", "--wilayah", "36.03.32")
            figure = doc["wilayah"]
            if figure["terekam"] == 3:
                break
            time.sleep(0.2)
        assert figure == {
            "kode": "36.03.32",
            "nama": "Gunung Kaler",
            "wajib_ktp": 34262,
            "target": None,
            "terekam": 3,
            "sisa": 34259,
            "persen": 0.01,
        }
        # Everything was processed (the duplicate is not counted among the recorded).
        dups = office_json(srv.home, db_url, "records", "--status", "duplicate", "--json")
        assert dups["count"] == 1
        (dup,) = dups["records"]
        assert dup["uuid"] == uuids[3] and dup["duplicate_of"] == uuids[0]
        assert dup["reason"] == "nik_held"
        everything = office_json(srv.home, db_url, "records", "--json")
        assert sorted(r["fate"] for r in everything["records"]) == ["duplicate"] + ["processed"] * 3
    finally:
        srv.stop()
