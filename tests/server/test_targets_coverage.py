"""Targets import (any level, sums upwards unless a level is given itself, bad rows refused
whole, re-imports replaced and audited), coverage read from the counters, the day's recap and
the fates list's filters. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.office import office, office_json, person, seal_record
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation


def _csv(tmp_path: Path, text: str, name: str = "targets.csv") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_targets_sum_upwards_unless_a_level_is_given(tmp_path: Path, db_url: str | None) -> None:
    home = tmp_path / "central"
    rows = (
        "kode_wilayah,wajib_ktp,target\n"
        "3603322001,1000,\n"  # digits only: desa Gunung Kaler
        "36.03.32.2002,2000,1900\n"
        "36.03.07,5000,4500\n"  # Kronjo given at kecamatan level
        "36.03.07.2001,700,\n"  # its desa row does not change the kecamatan's own figure
        "33.72,350000,350000\n"  # Kota Surakarta: the programme target
    )
    res = office(home, db_url, "targets", "import", _csv(tmp_path, rows), "--by", "kasi-pdip")
    assert res.returncode == 0, res.stderr
    assert "5 target row(s) imported by kasi-pdip" in res.stdout

    kec = office_json(home, db_url, "coverage", "--json", "--wilayah", "36.03.32")
    assert kec["wilayah"]["wajib_ktp"] == 3000  # the sum of its two desa
    assert kec["wilayah"]["target"] == 1900  # only one desa has a programme target
    desa = {a["kode"]: a for a in kec["areas"]}
    assert desa["36.03.32.2001"]["wajib_ktp"] == 1000
    assert desa["36.03.32.2003"]["wajib_ktp"] is None and desa["36.03.32.2003"]["persen"] is None
    kab = office_json(home, db_url, "coverage", "--json", "--wilayah", "3603", "--depth", "2")
    assert kab["wilayah"]["wajib_ktp"] == 8000  # 3,000 summed + Kronjo's own 5,000
    kronjo = next(a for a in kab["areas"] if a["kode"] == "36.03.07")
    assert kronjo["wajib_ktp"] == 5000 and kronjo["sisa"] == 5000
    assert next(a for a in kronjo["areas"] if a["kode"] == "36.03.07.2001")["wajib_ktp"] == 700
    solo = office_json(home, db_url, "coverage", "--json", "--wilayah", "33.72")
    assert solo["wilayah"]["nama"].upper().endswith("SURAKARTA")
    assert (solo["wilayah"]["wajib_ktp"], solo["wilayah"]["target"]) == (350000, 350000)

    # Re-importing replaces every row, and the history says who did it and when.
    res = office(home, db_url, "targets", "import", _csv(tmp_path, "kode_wilayah,wajib_ktp\n36.03.32,34262\n", "b.csv"), "--by", "kabid")  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert (
        office_json(home, db_url, "coverage", "--json", "--wilayah", "33.72")["wilayah"][
            "wajib_ktp"
        ]
        is None
    )
    history = office_json(home, db_url, "targets", "history", "--json")["imports"]
    assert [(h["imported_by"], h["rows"], h["replaced_rows"]) for h in history] == [
        ("kasi-pdip", 5, 0),
        ("kabid", 1, 5),
    ]
    assert all(h["imported_at"].endswith("Z") and len(h["sha256"]) == 64 for h in history)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("kode_wilayah,wajib_ktp\n36.03.32,34262\n99.99.99,10\n", "row 3: kode_wilayah: '99.99.99' is not a known wilayah"),
        ("kode_wilayah,wajib_ktp\n36.03.32,banyak\n", "row 2: wajib_ktp: 'banyak' is not a whole number"),
        ("kode_wilayah,wajib_ktp\n36.03.32,-5\n", "row 2: wajib_ktp: '-5' is not a whole number"),
        ("kode_wilayah,wajib_ktp,target\n36.03.32,10,x\n", "row 2: target: 'x'"),
        ("kode_wilayah,wajib_ktp\n36.03.32,10\n3603 32,5\n", "row 3: kode_wilayah"),
        ("kode_wilayah,wajib_ktp\n36.03.32,10\n360332,5\n", "row 3: kode_wilayah: 36.03.32 is given twice"),
        ("kode,jumlah\n36.03.32,10\n", "row 1: the header must name kode_wilayah and wajib_ktp"),
        ("kode_wilayah,wajib_ktp\n36.03.32,\n", "row 2: wajib_ktp: missing"),
        ("kode_wilayah,wajib_ktp\n36.03.32,10,7\n", "row 2: more fields than the header has"),
    ],
)  # fmt: skip
def test_a_bad_targets_file_imports_nothing(tmp_path: Path, text: str, message: str) -> None:
    home = tmp_path / "central"
    good = _csv(tmp_path, "kode_wilayah,wajib_ktp\n36.03.32,34262\n", "good.csv")
    assert office(home, None, "targets", "import", good).returncode == 0
    res = office(home, None, "targets", "import", _csv(tmp_path, text))
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and message in res.stderr, res.stderr
    cov = office_json(home, None, "coverage", "--json", "--wilayah", "36.03.32")
    assert cov["wilayah"]["wajib_ktp"] == 34262  # the earlier import stands
    assert len(office_json(home, None, "targets", "history", "--json")["imports"]) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["coverage", "--wilayah", "99.99"], "--wilayah: '99.99' is not a known wilayah"),
        (["coverage", "--wilayah", "Gunung Kaler"], "is not a wilayah code like 36.03.32"),
        (["recap", "--date", "07-12-2026"], "--date: expected YYYY-MM-DD"),
        (["recap", "--date", "2026-12-07", "--kecamatan", "36.03"], "--kecamatan: '36.03' is not a kecamatan code"),
        (["records", "--since", "kemarin"], "--since: expected a time"),
        (["records", "--status", "lost"], "--status"),
        (["targets", "import", "/nonexistent/t.csv"], "FILE: no such file"),
    ],
)  # fmt: skip
def test_bad_office_input_is_one_line_and_writes_nothing(
    tmp_path: Path, args: list[str], message: str
) -> None:
    home = tmp_path / "central"
    res = office(home, None, *args)
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and message in res.stderr, res.stderr
    assert not home.exists()


def test_recap_and_records_filters(server: ServerProcess, tmp_path: Path) -> None:
    kit = TestStation.enroll(server, name="Kit GK 1")
    other = TestStation.enroll(server, name="Kit GK 2")
    for serial in (1, 2):
        assert kit.put(seal_record(kit, person(serial))).status_code == 201
    assert kit.put(seal_record(kit, person(1))).status_code == 201
    assert other.put(seal_record(other, person(3), operator="joko")).status_code == 201
    assert other.put(seal_record(other, person(4), photo=b"x")).status_code == 201
    assert office(server.home, server.db_url, "process", "--once").returncode == 0
    recs = office_json(server.home, server.db_url, "records", "--json")["records"]
    day = _day(server)

    doc = office_json(server.home, server.db_url, "recap", "--date", day, "--json")
    assert doc["total"] == {
        "received": 5, "processed": 3, "duplicate": 1, "rerecord": 1, "rejected": 0
    }  # fmt: skip
    assert {s["kode"]: s["received"] for s in doc["stations"]} == {
        kit.station_id: 3,
        other.station_id: 2,
    }
    assert {o["kode"]: o["processed"] for o in doc["operators"]} == {"siti": 2, "joko": 1}
    assert [(k["kode"], k["received"]) for k in doc["kecamatan"]] == [("36.03.32", 5)]
    assert [d["kode"] for d in doc["desa"]] == ["36.03.32.2001"]
    csv_out = office(server.home, server.db_url, "recap", "--date", day, "--csv").stdout
    assert csv_out.splitlines()[0] == "date,per,kode,received,processed,duplicate,rerecord,rejected"
    assert f"{day},total,,5,3,1,1,0" in csv_out
    elsewhere = office_json(
        server.home, server.db_url, "recap", "--date", day, "--kecamatan", "36.03.07", "--json"
    )
    assert elsewhere["total"]["received"] == 0
    before = office_json(server.home, server.db_url, "recap", "--date", "2020-01-01", "--json")
    assert before["stations"] == [] and before["total"]["received"] == 0

    mine = office_json(
        server.home, server.db_url, "records", "--json", "--station", other.station_id
    )
    assert sorted(r["fate"] for r in mine["records"]) == ["processed", "rerecord"]
    last = max(r["processed_at"] for r in recs)
    later = office_json(server.home, server.db_url, "records", "--json", "--since", last)
    assert 1 <= later["count"] <= 5
    none = office_json(server.home, server.db_url, "records", "--json", "--since", "2999-01-01")
    assert none == {"count": 0, "records": []}
    text = office(server.home, server.db_url, "coverage", "--wilayah", "36.03.32").stdout
    assert text.splitlines()[0] == "36.03.32  Gunung Kaler: 3 recorded (no target)"
    assert (
        json.loads(office(server.home, server.db_url, "coverage", "--json").stdout)["wilayah"][
            "terekam"
        ]
        == 3
    )


def _day(server: ServerProcess) -> str:
    from tests.support.office import Tables

    t = Tables(server.home, server.db_url)
    try:
        from sqlalchemy import select

        from server.processing.tables import daily_counts

        with t.engine.connect() as conn:
            return str(conn.execute(select(daily_counts.c.day).limit(1)).scalar())
    finally:
        t.close()
