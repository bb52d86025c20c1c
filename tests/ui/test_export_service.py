"""The queue screen's export (StationServices.export) is the CLI's export, with progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from app.enrollment import EnrollmentRequest, enroll
from app.errors import StationError
from app.store.mirror import packet_name
from app.store.models import AuditEvent
from app.ui.services import Operator
from app.ui.station import StationServices
from tests.support.residents import BUDI_LAKI, RATNA_PEREMPUAN
from tests.support.station import face_jpeg, make_station


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_ui_export_matches_the_cli_and_refuses_to_overwrite(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    with st.open() as store:
        uuids = [
            enroll(store, EnrollmentRequest(st.operator, bio, face_jpeg())).uuid
            for bio in (BUDI_LAKI, RATNA_PEREMPUAN)
        ]
    r = st.cli(
        "export", "--to", str(tmp_path / "cli"), "--by", st.operator, input=st.password + "\n"
    )
    assert r.returncode == 0, r.stderr

    services = StationServices(st.home)
    try:
        steps: list[tuple[int, int]] = []
        me = Operator(st.operator, "operator")
        count = services.export(me, tmp_path / "ui", lambda d, t: steps.append((d, t)))
        assert count == 2 and steps == [(0, 2), (1, 2), (2, 2)]
        assert _files(tmp_path / "ui") == _files(tmp_path / "cli")
        # The audit names the person who took the copies away (it said "ui").
        with st.open() as store, store.read() as session:
            actors = session.execute(
                select(AuditEvent.actor).where(AuditEvent.kind == "records.exported")
            ).scalars()
            assert list(actors) == [st.operator, st.operator]  # the CLI names them too

        # A same-named file with other bytes is never overwritten, by either.
        victim = tmp_path / "ui" / packet_name(uuids[0])
        victim.write_bytes(b"not ours")
        with pytest.raises(StationError) as err:
            services.export(me, tmp_path / "ui", lambda d, t: None)
        assert err.value.code == "export-conflict"  # "choose another folder", in words
        assert victim.read_bytes() == b"not ours"
    finally:
        services.close()
