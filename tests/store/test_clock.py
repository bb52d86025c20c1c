"""Clock plausibility at the seal (issue 17): a clock before the build date or the last
seal refuses the seal (nothing written); one far ahead of the last seal warns."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from app.store.clock import BUILD_DATE, JUMP, ClockImplausible, check_seal_time
from app.store.timeutil import store_time, utcnow
from tests.support.residents import BUDI_LAKI, RATNA_PEREMPUAN
from tests.support.station import StationHome, face_jpeg


def test_a_clock_before_the_build_date_is_refused() -> None:
    # A flat CMOS battery: the PC wakes up in 2000.
    with pytest.raises(ClockImplausible, match="before this program was built"):
        check_seal_time(datetime(2000, 1, 1, tzinfo=UTC), None)
    assert check_seal_time(BUILD_DATE + timedelta(days=1), None) is None


def _enroll(st: StationHome, tmp: Path, bio: dict):  # type: ignore[no-untyped-def]
    path = tmp / "bio.json"
    path.write_text(json.dumps(bio))
    photo = tmp / "face.jpg"
    photo.write_bytes(face_jpeg())
    return st.cli(
        "enroll", "--operator", st.operator, "--biodata", str(path), "--photo", str(photo),
        input=st.password + "\n",
    )  # fmt: skip


def _set_last_seal(st: StationHome, when: datetime) -> None:
    con = sqlite3.connect(st.home / "station.db")
    # Exported too: an old unsent record would refuse the seal as falling behind.
    con.execute(
        "UPDATE record SET sealed_at = ?, exported_at = ? "
        "WHERE seq = (SELECT max(seq) FROM record)",
        (store_time(when), store_time(when)),
    )
    con.commit()
    con.close()


def _counts(st: StationHome) -> tuple[int, int]:
    con = sqlite3.connect(st.home / "station.db")
    n = con.execute("SELECT count(*) FROM record").fetchone()[0]
    a = con.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    con.close()
    return n, a


def test_a_clock_before_the_last_seal_refuses_and_a_jump_warns(
    station: StationHome, tmp_path: Path
) -> None:
    r = _enroll(station, tmp_path, BUDI_LAKI)
    assert r.returncode == 0, r.stderr
    # The last seal was a day "later" than now: the clock has gone back (battery, BIOS).
    _set_last_seal(station, utcnow() + timedelta(days=1))
    before = _counts(station)
    r = _enroll(station, tmp_path, RATNA_PEREMPUAN)
    assert r.returncode == 1
    assert r.stderr.strip().startswith("error: clock:") or "clock:" in r.stderr
    assert "before this station's last seal" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert _counts(station) == before
    # The last seal long ago: sealed, with a warning (and audited).
    _set_last_seal(station, utcnow() - JUMP - timedelta(days=5))
    r = _enroll(station, tmp_path, RATNA_PEREMPUAN)
    assert r.returncode == 0, r.stderr
    assert "warning: clock:" in r.stderr and "days past this station's last seal" in r.stderr
    con = sqlite3.connect(station.home / "station.db")
    kinds = [k for (k,) in con.execute("SELECT kind FROM audit_event")]
    con.close()
    assert kinds.count("clock.jumped") == 1
