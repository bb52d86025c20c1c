"""The GUI's service adapter (app/ui/station.py) runs the same use cases as the CLI
(app/service/): provisioning forgets a refused code's fresh key as ``provision`` does, and
Beranda renders the status object ``status`` prints, unconfirmed mirror packets included."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.errors import Code, StationError
from app.store.db import open_store
from app.store.models import PendingKey
from app.ui.messages import error_text
from app.ui.screens.home import HomeScreen
from app.ui.services import Operator
from app.ui.station import StationServices, mapped_errors
from tests.store.test_reconcile import _station_with_leftovers
from tests.support.cli import run_station
from tests.support.server import ServerProcess
from tests.test_errors import DiskGone

TECH = Operator("teknisi", "technician")


def _pending_keys(home: Path) -> int:
    with open_store(home) as store, store.read() as s:
        return int(s.execute(select(func.count()).select_from(PendingKey)).scalar_one())


def test_a_refused_code_forgets_the_fresh_key_in_the_gui_as_in_the_cli(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "server") as srv:
        cli_home = tmp_path / "cli"
        r = run_station("--home", str(cli_home), "provision", "--server", srv.url, "--code", "NOPE")
        assert r.returncode == 2 and "code:" in r.stderr, r.stderr
        assert _pending_keys(cli_home) == 0
        gui_home = tmp_path / "gui"
        services = StationServices(gui_home)
        try:
            with pytest.raises(StationError) as refused:
                services.provision(TECH, srv.url, "NOPE")
            assert refused.value.code == "bad-code"
        finally:
            services.close()
        assert _pending_keys(gui_home) == 0  # bound nowhere: not kept


def test_beranda_renders_the_status_object_with_unconfirmed_mirror_packets(
    qtbot, tmp_path: Path
) -> None:
    st, _mirror, _committed, orphans = _station_with_leftovers(tmp_path)
    services = StationServices(st.home)  # opening for sealing moves the orphans aside
    try:
        status = services.home_status()
    finally:
        services.close()
    assert status.unconfirmed == len(orphans) == 2
    r = st.cli("status", "--json")
    assert r.returncode == 0, r.stderr
    printed, shown = json.loads(r.stdout), json.loads(json.dumps(status.to_json()))
    for volatile in ("disk_free_bytes", "oldest_pending_age_s", "sync"):  # ages, free bytes
        printed.pop(volatile)
        shown.pop(volatile)
    assert printed == shown
    home = HomeScreen()
    qtbot.addWidget(home)
    home.show_status(status)
    assert str(status.today) == home.today_value.text() == "2"
    assert "2 berkas di flashdisk" in home.mirror_value.text()


def test_the_screens_show_core_errors_by_type_not_by_class_name() -> None:
    """A renamed or subclassed core error used to show "unexpected" (the GUI matched class
    names); the station's funnel decides by type, for the CLI and the GUI alike."""
    with pytest.raises(StationError) as caught, mapped_errors():
        raise DiskGone("disk_full", "no space left on device")
    assert caught.value.code == Code.DISK_FULL
    assert error_text(caught.value.code) == error_text("disk-full") != error_text("unexpected")
    assert "no space left" in caught.value.detail  # the technician's tooltip


def test_every_error_code_has_a_sentence_for_the_operator() -> None:
    unexpected = error_text(Code.UNEXPECTED)
    missing = [code for code in Code if code != Code.UNEXPECTED and error_text(code) == unexpected]
    assert missing == []
