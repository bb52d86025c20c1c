"""The queue screen's export runs on its own worker: a seal (and a sign-in) queued while a
slow export runs finishes before the export does."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from PySide6.QtCore import Qt

from app.ui.screens.queue import QueueScreen
from app.ui.services import Operator
from app.ui.station import StationServices
from app.ui.tasks import TaskManager
from tests.support.station import make_station
from tests.sync.helpers import seal_n


def test_seal_during_a_slow_export_finishes_first(qtbot, tmp_path: Path) -> None:
    st = make_station(tmp_path)
    services = StationServices(st.home)
    tasks = TaskManager()
    try:
        seal_n(services.store, 6)
        screen = QueueScreen(services, tasks)
        screen.operator = Operator(st.operator, "operator")
        qtbot.addWidget(screen)
        started = threading.Event()
        answered = threading.Event()  # the sign-in (queued after the seal) has run
        order: list[str] = []

        def slow_step(done: int, total: int) -> None:  # on the export thread
            started.set()
            if done == 1:
                # A slow USB stick: still on the first packet until the queued seal and
                # sign-in have run (not a fixed time a loaded machine may need more than,
                # for argon2 and a seal). Were they queued behind the export, they would
                # not run: the export goes on after 20 s and finishes first.
                answered.wait(20)
            time.sleep(0.3)

        def sign_in() -> object:
            op = services.sign_in_password(st.operator, st.password)
            answered.set()
            return op

        screen._progress_bridge.step.connect(slow_step, Qt.ConnectionType.DirectConnection)
        screen.export_to(tmp_path / "usb")
        assert started.wait(20)
        t0 = time.monotonic()
        tasks.run_db(lambda: seal_n(services.store, 1, start=100), lambda _: order.append("seal"))
        tasks.run_db(sign_in, lambda op: order.append(f"signin:{op.username}"))
        qtbot.waitUntil(lambda: "diekspor" in screen.status.text(), timeout=30000)
        order.append("export")
        assert order == ["seal", f"signin:{st.operator}", "export"], order
        # both answered while the export was still going: it even took the new record
        assert screen.status.text() == "7 paket diekspor."
        assert time.monotonic() - t0 > 0.5
        assert len(list((tmp_path / "usb").glob("*.ektp"))) == 7
    finally:
        tasks.shutdown()
        services.close()


def test_closing_stops_a_slow_export_after_the_current_packet(qtbot, tmp_path: Path) -> None:
    import json

    from app.store.outbox import Outbox

    st = make_station(tmp_path)
    services = StationServices(st.home)
    tasks = TaskManager()
    try:
        seal_n(services.store, 20)
        screen = QueueScreen(services, tasks)
        screen.operator = Operator(st.operator, "operator")
        qtbot.addWidget(screen)
        steps: list[int] = []

        def slow_step(done: int, total: int) -> None:
            steps.append(done)
            time.sleep(0.5)

        screen._progress_bridge.step.connect(slow_step, Qt.ConnectionType.DirectConnection)
        screen.export_to(tmp_path / "usb")
        qtbot.waitUntil(lambda: len(steps) >= 3, timeout=20000)
        t0 = time.monotonic()
        tasks.shutdown()  # the window closes
        # The current packet (0.5 s) and no more: not the ~8 s the rest of the export would
        # take. Room for a loaded machine.
        assert time.monotonic() - t0 < 4.0
        copied = sorted(p.stem for p in (tmp_path / "usb").glob("*.ektp"))
        assert 0 < len(copied) < 20
        listed = json.loads((tmp_path / "usb" / "manifest.json").read_text())["packets"]
        assert sorted(p["uuid"] for p in listed) == copied
        # exactly the copied ones left the falling-behind count
        assert Outbox(services.store).unsent_unexported().count == 20 - len(copied)
    finally:
        tasks.shutdown()
        services.close()
