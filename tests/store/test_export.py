"""export_packets (app/store/export.py): the one export of the CLI and the queue screen."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from app.enrollment import EnrollmentRequest, enroll
from app.store.export import MANIFEST, ExportConflict, export_packets
from app.store.mirror import packet_name
from tests.support.residents import BUDI_LAKI, RATNA_PEREMPUAN
from tests.support.station import StationHome, face_jpeg, make_station

TODAY = date(2026, 11, 23)


def _station(tmp_path: Path, n: int) -> tuple[StationHome, list[str]]:
    st = make_station(tmp_path)
    people = [BUDI_LAKI, RATNA_PEREMPUAN]
    with st.open() as store:
        uuids = [
            enroll(
                store, EnrollmentRequest(st.operator, people[i % 2], face_jpeg()), today=TODAY
            ).uuid
            for i in range(n)
        ]
    return st, uuids


def test_progress_written_skipped_and_conflict(tmp_path: Path) -> None:
    st, uuids = _station(tmp_path, 3)
    out = tmp_path / "usb"
    steps: list[tuple[int, int]] = []
    with st.open() as store:
        result = export_packets(store, out, progress=lambda d, t: steps.append((d, t)))
        assert steps == [(0, 3), (1, 3), (2, 3), (3, 3)]
        assert (result.written, result.skipped, result.total, result.packets) == (3, 0, 3, 3)
        manifest = json.loads((out / MANIFEST).read_text())
        assert [p["uuid"] for p in manifest["packets"]] == sorted(uuids)

        steps.clear()
        again = export_packets(store, out, progress=lambda d, t: steps.append((d, t)))
        assert (again.written, again.skipped, again.packets) == (0, 3, 3)
        assert steps[-1] == (3, 3)

        victim = out / packet_name(uuids[1])
        victim.write_bytes(b"someone else's file")
        with pytest.raises(ExportConflict, match=uuids[1]):
            export_packets(store, out)
        assert victim.read_bytes() == b"someone else's file"
