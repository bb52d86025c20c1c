""" "Mengirim N dari M": M is what the worker is going to send, not the rejected records that
wait for a technician (they count as pending for `status` and `sync --once`, and the queue
screen shows them as "Ditolak")."""

from __future__ import annotations

import threading

from app.store.outbox import Outbox
from app.ui.main_window import MainWindow
from app.ui.screens.home import sync_text
from app.ui.services import SyncLightState
from tests.support.cli import run_station
from tests.sync.helpers import seal_n
from tests.ui.conftest import Kit, server_packets, show_active

SEALED = 4


def test_sending_total_leaves_out_rejected_records(qtbot, online_kit: Kit) -> None:
    store = online_kit.services.store
    (refused, _), *_ = seal_n(store, 1).items()
    Outbox(store).mark_rejected(refused, "HTTP 422: kode_wilayah: unknown code")
    sent = seal_n(store, SEALED, start=1)

    window = MainWindow(online_kit.services)
    qtbot.addWidget(window)
    states: list[SyncLightState] = []
    lock = threading.Lock()

    def seen(state: SyncLightState) -> None:
        with lock:
            states.append(state)

    # Connected before the event loop runs: the station loads (and the worker starts) after.
    window.sync_bridge.state.connect(seen)
    show_active(qtbot, window)
    qtbot.waitUntil(
        lambda: set(sent) <= {p["uuid"] for p in server_packets(online_kit.server)},
        timeout=30000,
    )
    qtbot.waitUntil(
        lambda: bool(states) and states[-1].state == "online" and states[-1].sent == 0,
        timeout=30000,
    )
    with lock:
        sending = [s for s in states if s.state == "sending"]
        last = states[-1]
    assert sending, states
    texts = [sync_text(s) for s in sending]
    assert all(s.total == SEALED for s in sending), texts
    assert all(text.endswith(f" dari {SEALED}") for text in texts), texts
    # Online with a rejected record waiting: not "all sent".
    assert sync_text(last) == "Daring: 1 rekaman menunggu dikirim"
    assert refused not in {p["uuid"] for p in server_packets(online_kit.server)}

    # `status` and `sync --once` still count the rejected record as pending.
    assert Outbox(store).pending().count == 1
    home = str(online_kit.home)
    res = run_station("--home", home, "sync", "--once")
    assert res.returncode == 1, res.stderr
