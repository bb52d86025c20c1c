"""A record sealed while a "warn" mirror was full gets its copy once there is room again,
and ``status`` names the records without one until then (issue 17)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.fs import fill, small_tmpfs
from tests.support.residents import BUDI_LAKI, RATNA_PEREMPUAN
from tests.support.station import StationHome, face_jpeg, make_station


def _enroll(st: StationHome, tmp: Path, biodata: dict) -> str:
    bio = tmp / "bio.json"
    bio.write_text(json.dumps(biodata))
    photo = tmp / "face.jpg"
    photo.write_bytes(face_jpeg())
    r = st.cli(
        "enroll", "--operator", st.operator, "--biodata", str(bio), "--photo", str(photo),
        input=st.password + "\n",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().splitlines()[-1]


def test_a_record_sealed_while_the_mirror_was_full_is_copied_later(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    with small_tmpfs(tmp_path / "usb", "1m") as usb:
        for key, value in (("mirror_dir", str(usb)), ("mirror_policy", "warn")):
            assert st.cli("settings", "set", key, value).returncode == 0
        filler = fill(usb)
        first = _enroll(st, tmp_path, BUDI_LAKI)  # sealed; the mirror copy failed (full)
        assert not (usb / f"{first}.ektp").exists()
        doc = json.loads(st.cli("status", "--json").stdout)
        assert doc["mirror"]["records_without_copy"] == [first]
        assert any(first in w and "no copy in the mirror" in w for w in doc["warnings"])

        filler.unlink()  # room again: the next enroll copies the first record too
        second = _enroll(st, tmp_path, RATNA_PEREMPUAN)
        assert (usb / f"{first}.ektp").is_file() and (usb / f"{second}.ektp").is_file()
        doc = json.loads(st.cli("status", "--json").stdout)
        assert doc["mirror"]["records_without_copy"] == []
        assert not any("no copy in the mirror" in w for w in doc["warnings"])
        with st.open() as store, store.read() as session:
            from sqlalchemy import select

            from app.store.models import AuditEvent

            details = [
                json.loads(d)
                for d in session.execute(
                    select(AuditEvent.detail).where(AuditEvent.kind == "mirror.caught_up")
                ).scalars()
            ]
        assert details == [{"uuids": [first], "count": 1}]
