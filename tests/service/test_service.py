"""The application layer (app/service/) on a real station home, without Qt: the use cases
the CLI and the GUI share, and the errors they answer in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from app.errors import EXIT_USAGE, BadInput, Code, Refusal
from app.service.kit import move_kit
from app.service.records import export, requeue
from app.service.status import station_status
from app.store.operators import add_operator
from tests.support.station import GUNUNG_KALER, KRONJO, let_retry, make_station


def test_the_service_layer_runs_without_qt(tmp_path: Path) -> None:
    """The CLI's commands and the service layer import neither Qt nor the GUI."""
    code = (
        "import sys, app.service.status, app.service.provision, app.service.records, "
        "app.service.kit, app.cli\n"
        "app.cli.build_parser()\n"  # every command's module (a command line imports its own)
        "bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'app.ui')))\n"
        "assert not bad, bad\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def test_requeue_and_export_refuse_bad_input_naming_the_field(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    (tmp_path / "file").write_text("x")
    with st.open() as store:
        with pytest.raises(BadInput) as bad:
            requeue(store, ["not-a-uuid"], actor="tech")
        assert bad.value.field == "uuid" and bad.value.exit_code == EXIT_USAGE
        with pytest.raises(BadInput) as bad:
            export(store, tmp_path / "file", actor="tech")
        assert bad.value.field == "to" and "not a directory" in bad.value.line()
        with pytest.raises(BadInput) as bad:
            export(store, tmp_path / "no-stick" / "out", actor="tech")
        assert "is the drive plugged in" in bad.value.message
        assert not (tmp_path / "no-stick").exists()  # nothing written
        steps: list[tuple[int, int]] = []
        done = export(store, tmp_path / "out", actor="tech", progress=lambda *s: steps.append(s))
        assert done.packets == 0 and steps == [(0, 0)]


def test_moving_the_kit_refuses_the_same_kecamatan_and_self_approval(tmp_path: Path) -> None:
    st = make_station(tmp_path, operator="teknisi", role="technician", password="p" * 12)
    with st.open() as store:
        add_operator(store, "rina", "supervisor", "rina-password-1", actor="test")
        with pytest.raises(BadInput) as bad:
            move_kit(
                store,
                GUNUNG_KALER,
                mover="teknisi",
                approver="rina",
                approver_password="rina-password-1",
                reason="x",
            )
        assert bad.value.code == Code.ALREADY_THERE
        with pytest.raises(BadInput) as bad:
            move_kit(store, "99.99.99", mover="teknisi", approver="rina",
                     approver_password="x", reason="x")  # fmt: skip
        assert bad.value.code == Code.BAD_KECAMATAN and bad.value.field == "kecamatan"
        with pytest.raises(Refusal) as refused:
            move_kit(store, KRONJO, mover="rina", approver=" rina",
                     approver_password="rina-password-1", reason="x")  # fmt: skip
        assert refused.value.code == Code.APPROVER_IS_MOVER
        with pytest.raises(Refusal) as refused:
            move_kit(store, KRONJO, mover="teknisi", approver="rina",
                     approver_password="wrong-password", reason="x")  # fmt: skip
        assert refused.value.code == Code.SUPERVISOR_REQUIRED
        assert refused.value.field == "supervisor" and refused.value.exit_code == EXIT_USAGE
        let_retry(store, "rina")  # as if the delay after a failed sign-in had passed
        moved = move_kit(store, "360307", mover="teknisi", approver="rina",
                         approver_password="rina-password-1", reason="x")  # fmt: skip
        assert (moved.before, moved.after) == (GUNUNG_KALER, KRONJO)
        assert station_status(store).kecamatan == KRONJO


def test_the_status_object_is_what_status_json_prints(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    r = st.cli("status", "--json")
    assert r.returncode == 0, r.stderr
    printed = json.loads(r.stdout)
    with st.open() as store:
        status = station_status(store)
    doc = status.to_json()
    for volatile in ("disk_free_bytes", "oldest_pending_age_s", "sync"):  # ages, free bytes
        printed.pop(volatile)
        doc.pop(volatile)
    assert printed == json.loads(json.dumps(doc))
    assert status.behind is None and status.unconfirmed == 0 and status.today == 0
