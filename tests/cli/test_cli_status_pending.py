"""``status --pending``: the small answer the Windows uninstaller relies on (installer.nsi)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from app.enrollment import EnrollmentRequest, enroll
from tests.support.cli import run_station
from tests.support.residents import BUDI_LAKI, RATNA_PEREMPUAN
from tests.support.station import face_jpeg, make_station


def _pending(home: Path, *extra: str):  # type: ignore[no-untyped-def]
    return run_station("--home", str(home), "status", "--pending", *extra)


def test_no_station_here_is_none_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "never"
    r = _pending(missing)
    assert (r.returncode, r.stdout, r.stderr) == (0, "none\n", "")
    assert not missing.exists()

    empty = tmp_path / "empty"  # the installer creates the data folder before any set-up
    empty.mkdir()
    (empty / "install.log").write_text("not a station")
    r = _pending(empty)
    assert (r.returncode, r.stdout, r.stderr) == (0, "none\n", "")
    assert [p.name for p in empty.iterdir()] == ["install.log"]


def test_counts_what_waits_for_the_server(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    r = _pending(st.home)
    assert (r.returncode, r.stdout, r.stderr) == (0, "0\n", "")
    with st.open() as store:
        for bio in (BUDI_LAKI, RATNA_PEREMPUAN):
            enroll(
                store, EnrollmentRequest(st.operator, bio, face_jpeg()), today=date(2026, 11, 23)
            )
    r = _pending(st.home)
    assert (r.returncode, r.stdout, r.stderr) == (0, "2\n", "")
    assert json.loads(st.cli("status", "--json").stdout)["pending"] == 2


def test_bad_input(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    r = _pending(st.home, "--json")
    assert r.returncode == 2 and r.stdout == "" and len(r.stderr.splitlines()) == 1
    home = tmp_path / "a-file"
    home.write_text("x")
    r = _pending(home)
    assert r.returncode == 2 and r.stdout == "" and "home" in r.stderr


def test_unreadable_database_is_a_fault_not_an_answer(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "station.db").write_bytes(b"this is not a database" * 100)
    r = _pending(home)
    assert r.returncode == 1 and r.stdout == "", (r.stdout, r.stderr)
    assert len(r.stderr.splitlines()) == 1 and "Traceback" not in r.stderr
