"""Hostile input at the station's command line (issue 17): each is refused with one line
naming the field, exit 2, and nothing is written."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from app.store.operators import MAX_PASSWORD_LEN
from tests.support.residents import BUDI_LAKI
from tests.support.station import StationHome, face_jpeg, make_station


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> StationHome:
    return make_station(tmp_path_factory.mktemp("hostile"))


def _written(st: StationHome) -> tuple[int, int, int]:
    con = sqlite3.connect(st.home / "station.db")
    counts = tuple(
        con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("record", "audit_event", "operator")
    )
    con.close()
    return counts  # type: ignore[return-value]


def _refused(r, field: str) -> None:  # type: ignore[no-untyped-def]
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, r.stderr
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert f"{field}:" in lines[0], lines[0]


def _bio_text() -> str:
    return json.dumps(BUDI_LAKI)


CASES = {
    # 30,000 levels of nesting: exited 70 (RecursionError) before.
    "deep": ('{"x": ' + "[" * 30000 + "]" * 30000 + ", " + _bio_text()[1:], "biodata"),
    # A 5,001-digit number: exited 70 (Python's int digit limit) before.
    "huge number": ('{"rt": ' + "9" * 5001 + ", " + _bio_text()[1:], "rt"),
    "huge in a list": ('{"x": [1, ' + "9" * 40 + "], " + _bio_text()[1:], "x"),
    "infinite": ('{"x": 1e999, ' + _bio_text()[1:], "x"),
    # The same key twice: the last value was kept silently.
    "duplicate": ('{"nama": "SITI AMINAH", ' + _bio_text()[1:], "nama"),
    # Cyrillic А and О in a name that reads BUDI SANTOSO.
    "look-alike": (
        json.dumps({**BUDI_LAKI, "nama": "BUDI SANT\u041eS\u041e"}, ensure_ascii=False),
        "nama",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_biodata_refused_naming_the_field(
    shared: StationHome, tmp_path: Path, case: str
) -> None:
    text, field = CASES[case]
    bio = tmp_path / "bio.json"
    bio.write_text(text, encoding="utf-8")
    photo = tmp_path / "face.jpg"
    photo.write_bytes(face_jpeg())
    before = _written(shared)
    r = shared.cli(
        "enroll", "--operator", shared.operator, "--biodata", str(bio), "--photo", str(photo),
        input=shared.password + "\n",
    )  # fmt: skip
    _refused(r, field)
    assert _written(shared) == before


@pytest.mark.parametrize("length", [MAX_PASSWORD_LEN + 1, MAX_PASSWORD_LEN + 2, 5000])
def test_a_password_over_the_limit_is_refused_not_cut(shared: StationHome, length: int) -> None:
    before = _written(shared)
    r = shared.cli(
        "operator", "add", "--username", "agus", "--role", "operator", input="p" * length + "\n"
    )
    _refused(r, "password")
    assert "at most" in r.stderr
    assert _written(shared) == before
