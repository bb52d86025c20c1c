"""``ektp-station`` as a technician or a script runs it (real subprocesses, real files)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from app import packet
from tests.support.cli import run_station
from tests.support.residents import BUDI_LAKI, RATNA_PEREMPUAN, resident
from tests.support.station import (
    StationHome,
    face_jpeg,
    make_server_key,
    make_station,
    signature_png,
)


def _one_error_line(stderr: str, field: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert field in lines[0], lines[0]


def _files(tmp: Path, biodata: dict) -> tuple[Path, Path, Path]:
    bio = tmp / "biodata.json"
    bio.write_text(json.dumps(biodata))
    photo = tmp / "face.jpg"
    photo.write_bytes(face_jpeg())
    sig = tmp / "sig.png"
    sig.write_bytes(signature_png())
    return bio, photo, sig


def _rows(st: StationHome) -> tuple[int, int]:
    con = sqlite3.connect(st.home / "station.db")
    n = con.execute("SELECT count(*) FROM record").fetchone()[0]
    a = con.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    con.close()
    return n, a


@pytest.fixture()
def cli_station(tmp_path: Path) -> StationHome:
    return make_station(tmp_path, via_cli=True)


@pytest.fixture(scope="module")
def shared_station(tmp_path_factory: pytest.TempPathFactory) -> StationHome:
    """One station for the bad-input cases: none of them may write anything."""
    return make_station(tmp_path_factory.mktemp("shared"))


def test_init_enroll_status_export(cli_station: StationHome, tmp_path: Path) -> None:
    st = cli_station
    bio, photo, sig = _files(tmp_path, BUDI_LAKI)
    r = st.cli(
        "enroll", "--operator", "siti", "--biodata", str(bio), "--photo", str(photo),
        "--signature", str(sig), "--card-uid", "04:A2:3B:7C", input=st.password + "\n",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    uuid = r.stdout.strip()
    assert len(uuid) == 36 and uuid[14] == "7"

    r = st.cli("status", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["records"] == {"sealed": 1, "uploaded": 0, "rejected": 0, "purged": 0}
    assert doc["pending"] == 1 and doc["oldest_pending_age_s"] >= 0
    assert doc["kecamatan"] == "36.03.32" and doc["station_id"].startswith("st-")
    assert doc["warnings"] == []

    out = tmp_path / "usb"
    r = st.cli("export", "--to", str(out), "--json", "--by", st.operator, input=st.password + "\n")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["written"] == 1
    data = (out / f"{uuid}.ektp").read_bytes()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["packets"][0]["uuid"] == uuid
    opened = packet.open_packet(data, st.server_key, st.identity().signing_key.public_key())
    assert opened.manifest["biodata"]["nik"] == BUDI_LAKI["nik"]
    assert opened.attachments["signature.png"].data == signature_png()

    r = st.cli(
        "export", "--to", str(out), "--json", "--by", st.operator, input=st.password + "\n"
    )  # idempotent
    assert r.returncode == 0 and json.loads(r.stdout) == {
        "to": str(out), "written": 0, "skipped": 1, "total": 1,
    }  # fmt: skip
    assert (out / f"{uuid}.ektp").read_bytes() == data

    r = st.cli("doctor", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    checks = {c["name"]: c["status"] for c in json.loads(r.stdout)["checks"]}
    assert checks["database"] == checks["audit"] == checks["schema"] == "ok"


INVALID_FIELDS = [
    ("nik", "36033212089"),
    ("nama", ""),
    ("tanggal_lahir", "1990-02-30"),
    ("jenis_kelamin", "PRIA"),
    ("golongan_darah", "Z"),
    ("rt", "1234"),
    ("rw", "x"),
    ("kode_wilayah", "99.99.99.9999"),
    ("agama", "JEDI"),
    ("status_perkawinan", "MAYBE"),
    ("pekerjaan", "ASTRONAUT"),
    ("kewarganegaraan", "XYZ"),
]


def _parallel(st: StationHome, cases: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    """Run independent CLI calls two at a time (the machine has two cores), the operator's
    password on stdin."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(lambda args: st.cli(*args, input=st.password + "\n"), cases))


def test_each_invalid_field_exits_2_naming_it(shared_station: StationHome, tmp_path: Path) -> None:
    photo = tmp_path / "face.jpg"
    photo.write_bytes(face_jpeg())
    cases = []
    for field, value in INVALID_FIELDS:
        bio = tmp_path / f"{field}.json"
        bio.write_text(json.dumps(resident(**{field: value})))
        cases.append(["enroll", "--operator", "siti", "--biodata", str(bio), "--photo", str(photo)])
    before = _rows(shared_station)
    for (field, _), r in zip(INVALID_FIELDS, _parallel(shared_station, cases), strict=True):
        assert r.returncode == 2, (field, r.stderr)
        _one_error_line(r.stderr, field)
        assert r.stdout == ""
    assert _rows(shared_station) == before


def test_bad_inputs_are_one_line_errors(shared_station: StationHome, tmp_path: Path) -> None:
    st = shared_station
    bio, photo, _ = _files(tmp_path, RATNA_PEREMPUAN)
    before = _rows(st)
    garbage = tmp_path / "garbage.jpg"
    garbage.write_bytes(b"\xff\xd8\xff" + b"\x00" * 5000)
    huge = tmp_path / "huge.jpg"
    with huge.open("wb") as f:
        f.truncate(25 * 1024 * 1024)
    not_json = tmp_path / "bio.txt"
    not_json.write_text("nik=123")
    cases = [
        (["--operator", "nobody", "--biodata", str(bio), "--photo", str(photo)], "operator"),
        (["--operator", "siti", "--biodata", str(bio), "--photo", str(garbage)], "photo"),
        (["--operator", "siti", "--biodata", str(bio), "--photo", str(huge)], "photo"),
        (["--operator", "siti", "--biodata", str(tmp_path / "nope.json"), "--photo", str(photo)], "biodata"),
        (["--operator", "siti", "--biodata", str(not_json), "--photo", str(photo)], "biodata"),
        (["--operator", "siti", "--biodata", str(bio), "--photo", str(photo), "--card-uid", "zz"], "card_uid"),
        (["--operator", "siti", "--biodata", str(bio), "--photo", str(photo), "--signature", str(photo)], "signature"),
        # A re-recording of a record this station does not hold (or not a uuid at all).
        (["--operator", "siti", "--biodata", str(bio), "--photo", str(photo), "--rerecord-of", "x"], "rerecord_of"),
        (["--operator", "siti", "--biodata", str(bio), "--photo", str(photo), "--rerecord-of", "01a24f27-d0e9-7688-b169-28910edd6cfc"], "rerecord_of"),
    ]  # fmt: skip
    results = _parallel(st, [["enroll", *args] for args, _ in cases])
    for (args, field), r in zip(cases, results, strict=True):
        assert r.returncode == 2, (args, r.stderr)
        _one_error_line(r.stderr, field)
    assert _rows(st) == before


def test_init_errors(tmp_path: Path) -> None:
    _, key = make_server_key(tmp_path / "srv")
    home = tmp_path / "home"
    cases = [
        (["--server-key", str(tmp_path / "missing.pem"), "--kecamatan", "36.03.32"], "server-key"),
        (["--server-key", str(tmp_path / "srv"), "--kecamatan", "36.03.32"], "server-key"),
        (["--server-key", str(key), "--kecamatan", "36.03.32.2001"], "kecamatan"),
        (["--server-key", str(key), "--kecamatan", "36.03.99"], "kecamatan"),
        (["--server-key", str(key), "--kecamatan", "kronjo"], "kecamatan"),
    ]
    notkey = tmp_path / "not-a-key.pem"
    notkey.write_text("hello")
    cases.append((["--server-key", str(notkey), "--kecamatan", "36.03.32"], "server-key"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda c: run_station("--home", str(home), "init", *c[0]), cases))
    for (args, field), r in zip(cases, results, strict=True):
        assert r.returncode == 2, (args, r.stderr)
        _one_error_line(r.stderr, field)
    assert not home.exists()  # nothing written
    r = run_station("--home", str(home), "init", "--server-key", str(key), "--kecamatan", "3603.07")
    assert r.returncode == 2  # malformed code
    r = run_station("--home", str(home), "init", "--server-key", str(key), "--kecamatan", "360307")
    assert r.returncode == 0, r.stderr
    r = run_station(
        "--home", str(home), "init", "--server-key", str(key), "--kecamatan", "36.03.32"
    )
    assert r.returncode == 2
    _one_error_line(r.stderr, "already initialized")


def test_operator_add_password_rules(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    for pw, field in [("", "password"), ("short", "password")]:
        r = st.cli("operator", "add", "--username", "agus", "--role", "operator", input=pw + "\n")
        assert r.returncode == 2
        _one_error_line(r.stderr, field)
    r = st.cli("operator", "add", "--username", "agus", "--role", "wizard", input="long-password\n")
    assert r.returncode == 2
    _one_error_line(r.stderr, "role")
    r = st.cli(
        "operator", "add", "--username", "agus", "--role", "supervisor", input="long-password\n"
    )
    assert r.returncode == 0, r.stderr
    r = st.cli("operator", "list", "--json")
    users = {o["username"]: o["role"] for o in json.loads(r.stdout)["operators"]}
    assert users == {"siti": "operator", "agus": "supervisor"}


def test_home_from_environment(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    r = run_station("status", "--json", env={"EKTP_STATION_HOME": str(st.home)})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["kecamatan"] == "36.03.32"


def test_not_initialized_status_is_a_clear_error(tmp_path: Path) -> None:
    r = run_station("--home", str(tmp_path / "none"), "status", "--json")
    assert r.returncode == 2
    _one_error_line(r.stderr, "not initialized")
    assert not (tmp_path / "none").exists()
