"""The queue screen's technician action: rejected records are sent again ("Kirim ulang")."""

from __future__ import annotations

from PySide6.QtCore import Qt

from app.store.outbox import Outbox
from tests.sync.helpers import seal_n
from tests.ui.conftest import OPERATOR, TECHNICIAN, Kit, server_packets
from tests.ui.test_recording_flow import focused, sign_in
from tests.ui.test_screens import open_window


def test_technician_requeues_rejected_records(qtbot, online_kit: Kit) -> None:
    store = online_kit.services.store
    a, b = seal_n(store, 2)
    for uuid in (a, b):  # refused earlier by a rule the central office has since fixed
        Outbox(store).mark_rejected(uuid, "HTTP 422: kode_wilayah: unknown code")
    window = open_window(qtbot, online_kit)

    # An operator sees them, but cannot send them again.
    sign_in(qtbot, window, *OPERATOR)
    qtbot.keyClick(focused(), Qt.Key.Key_F4)
    queue = window.queue
    qtbot.waitUntil(lambda: len(queue.model.rows) == 2, timeout=30000)
    assert queue.model.data(queue.model.index(0, 2)) == "ditolak server"
    assert "Ditolak: 2" in queue.summary.text()
    assert not queue.requeue_button.isVisible()
    window.sign_out()

    sign_in(qtbot, window, *TECHNICIAN)
    qtbot.keyClick(focused(), Qt.Key.Key_F4)
    qtbot.waitUntil(lambda: queue.requeue_button.isEnabled(), timeout=30000)
    assert queue.requeue_button.isVisible()
    assert queue.requeue_button.text() == "Kirim &ulang yang ditolak"
    # The selected row only.
    queue.table.selectRow([r.uuid for r in queue.model.rows].index(a))
    qtbot.mouseClick(queue.requeue_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "dikirim ulang" in queue.status.text(), timeout=30000)
    assert queue.status.text().startswith("1 ")
    # The sync worker was woken: the record reaches the server.
    qtbot.waitUntil(
        lambda: a in {p["uuid"] for p in server_packets(online_kit.server)}, timeout=30000
    )
    assert Outbox(store).counts()["rejected"] == 1
    # Nothing selected: every rejected record.
    queue.refresh()
    qtbot.waitUntil(lambda: queue.requeue_button.isEnabled(), timeout=30000)
    queue.table.clearSelection()
    qtbot.mouseClick(queue.requeue_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: Outbox(store).counts()["uploaded"] == 2, timeout=30000)
    with store.read() as s:
        from sqlalchemy import select

        from app.store.models import AuditEvent

        actors = [
            e.actor
            for e in s.execute(
                select(AuditEvent).where(AuditEvent.kind == "record.requeued")
            ).scalars()
        ]
    assert actors == [TECHNICIAN[0], TECHNICIAN[0]]


def test_a_failed_read_or_requeue_leaves_no_stale_message_or_dead_button(
    qtbot, offline_kit: Kit, monkeypatch
) -> None:
    # The store cannot be read for a moment (another program holds it): the queue says so,
    # and once a refresh reads again the message goes; a failed requeue leaves the button on.
    from app.errors import Code, MachineFault
    from app.ui.messages import error_text

    services = offline_kit.services
    seal_n(services.store, 1)
    (uuid,) = [r.uuid for r in services.queue_rows()]
    Outbox(services.store).mark_rejected(uuid, "HTTP 422: kode_wilayah: unknown code")
    window = open_window(qtbot, offline_kit)
    sign_in(qtbot, window, *TECHNICIAN)
    qtbot.keyClick(focused(), Qt.Key.Key_F4)
    queue = window.queue
    qtbot.waitUntil(queue.requeue_button.isEnabled, timeout=30000)

    def locked(*_args: object) -> None:
        raise MachineFault(Code.STORE_FAILED, "database is locked", subject="storage (locked)")

    real_rows, real_requeue = services.queue_rows, services.requeue
    monkeypatch.setattr(services, "queue_rows", locked)
    queue.refresh()
    qtbot.waitUntil(lambda: queue.status.text() == error_text("store-failed"), timeout=30000)
    monkeypatch.setattr(services, "queue_rows", real_rows)
    queue.refresh()
    qtbot.waitUntil(lambda: queue.status.text() == "", timeout=30000)

    monkeypatch.setattr(services, "requeue", locked)
    qtbot.mouseClick(queue.requeue_button, Qt.MouseButton.LeftButton)
    # In words for the operator; the store's English detail for the technician's tooltip.
    qtbot.waitUntil(lambda: queue.status.text() == error_text("store-failed"), timeout=30000)
    assert "database is locked" in queue.status.toolTip()
    assert queue.requeue_button.isEnabled()
    monkeypatch.setattr(services, "requeue", real_requeue)
    qtbot.mouseClick(queue.requeue_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "dikirim ulang" in queue.status.text(), timeout=30000)
    assert Outbox(services.store).counts()["rejected"] == 0
