"""The CLI under real faults: full disk, locked database, broken audit chain, bad settings."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.support.fs import fill, small_tmpfs
from tests.support.residents import BUDI_LAKI
from tests.support.station import StationHome, face_jpeg, let_retry, make_station


def _inputs(tmp: Path) -> list[str]:
    bio = tmp / "bio.json"
    bio.write_text(json.dumps(BUDI_LAKI))
    photo = tmp / "face.jpg"
    photo.write_bytes(face_jpeg())
    return ["enroll", "--operator", "siti", "--biodata", str(bio), "--photo", str(photo)]


def _one_line(stderr: str, text: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and text in lines[0], stderr
    assert "Traceback" not in stderr


def _count(st: StationHome) -> int:
    con = sqlite3.connect(st.home / "station.db")
    n = con.execute("SELECT count(*) FROM record").fetchone()[0]
    con.close()
    return int(n)


def test_disk_full_then_space_back(tmp_path: Path) -> None:
    args = _inputs(tmp_path)
    with small_tmpfs(tmp_path / "disk", "3m") as disk:
        st = make_station(disk)
        filler = fill(disk)
        ok = 0
        for _ in range(10):  # bounded: the WAL may still have room for a record or two
            r = st.cli(*args, input=st.password + "\n")
            if r.returncode != 0:
                break
            ok += 1
        assert r.returncode == 1, r.stderr
        _one_line(r.stderr, "disk is full")
        assert r.stdout == ""
        filler.unlink()
        assert _count(st) == ok
        r = st.cli(*args, input=st.password + "\n")
        assert r.returncode == 0, r.stderr
        assert _count(st) == ok + 1
        r = st.cli("doctor", "--json")
        checks = {c["name"]: c["status"] for c in json.loads(r.stdout)["checks"]}
        assert checks["database"] == "ok" and checks["audit"] == "ok"


def test_locked_database(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    args = _inputs(tmp_path)
    holder = sqlite3.connect(st.home / "station.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO setting (key, value) VALUES ('x', 'y')")
    try:
        r = st.cli(*args, input=st.password + "\n")  # waits busy_timeout (5 s), then gives up
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert r.returncode == 1
    _one_line(r.stderr, "locked")
    assert _count(st) == 0


def test_mirror_settings_via_cli(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    args = _inputs(tmp_path)
    r = st.cli("settings", "set", "mirror_policy", "sometimes")
    assert r.returncode == 2
    _one_line(r.stderr, "mirror_policy")
    r = st.cli("settings", "set", "mirror_dir", str(tmp_path / "usb"))
    assert r.returncode == 0, r.stderr
    r = st.cli(*args, input=st.password + "\n")  # the USB stick is not plugged in
    assert r.returncode == 1
    _one_line(r.stderr, "mirror")
    assert _count(st) == 0
    r = st.cli("status", "--json")
    assert any("missing" in w for w in json.loads(r.stdout)["warnings"])
    (tmp_path / "usb").mkdir()
    r = st.cli(*args, input=st.password + "\n")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "usb" / f"{r.stdout.strip()}.ektp").exists()


def test_doctor_finds_a_broken_audit_chain(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    con = sqlite3.connect(st.home / "station.db")
    con.execute("UPDATE audit_event SET actor = 'mallory' WHERE id = 1")
    con.commit()
    con.close()
    r = st.cli("doctor", "--json")
    assert r.returncode == 1
    doc = json.loads(r.stdout)
    assert doc["ok"] is False
    audit = next(c for c in doc["checks"] if c["name"] == "audit")
    assert audit["status"] == "fail" and "event 1" in audit["message"]


def test_moving_the_kit_needs_a_technician_and_a_supervisor(tmp_path: Path) -> None:
    st = make_station(tmp_path, operator="andi", role="technician", password="andi-password")
    from app.store.operators import add_operator

    with st.open() as store:
        add_operator(store, "rina", "supervisor", "rina-password")
    base = ["assign", "--kecamatan", "36.03.07", "--technician", "andi", "--supervisor"]
    # Passwords missing from stdin: named as missing, not as wrong.
    for given, field in (("andi-password\n", "supervisor"), ("", "technician")):
        r = st.cli(*base, "rina", "--reason", "borrowed", input=given)
        assert r.returncode == 2
        _one_line(r.stderr, f"{field}: no password on stdin")
        assert "wrong" not in r.stderr
    r = st.cli(*base, "rina", "--reason", "borrowed", input="andi-password\nwrong\n")
    assert r.returncode == 2
    _one_line(r.stderr, "supervisor")
    with st.open() as store:
        let_retry(store, "rina")  # as if the delay after a failed sign-in had passed
    r = st.cli(*base, "andi", "--reason", "borrowed", input="andi-password\nandi-password\n")
    assert r.returncode == 2
    _one_line(r.stderr, "another person")
    r = st.cli(
        *base, "rina", "--reason", "borrowed by Kronjo", input="andi-password\nrina-password\n"
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(st.cli("status", "--json").stdout)["kecamatan"] == "36.03.07"
    con = sqlite3.connect(st.home / "station.db")
    (detail,) = con.execute(
        "SELECT actor || ' ' || detail FROM audit_event WHERE kind = 'station.assigned'"
    ).fetchone()
    con.close()
    assert "andi (approved by rina)" in detail and "36.03.32" in detail


def test_doctor_reports_an_audit_detail_edited_into_non_json(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    con = sqlite3.connect(st.home / "station.db")
    con.execute("UPDATE audit_event SET detail = 'edited by hand' WHERE id = 1")
    con.commit()
    con.close()
    r = st.cli("doctor", "--json")
    assert r.returncode == 1, r.stderr
    doc = json.loads(r.stdout)
    audit = next(c for c in doc["checks"] if c["name"] == "audit")
    assert audit["status"] == "fail" and "event 1" in audit["message"]
    assert {"database", "disk", "mirror"} <= {c["name"] for c in doc["checks"]}
