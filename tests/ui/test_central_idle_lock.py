"""Issue 12: the idle lock follows the station's setting, and the central office's value wins."""

from __future__ import annotations

from app.store.central import store_policy
from app.store.settings import set_setting
from app.ui.main_window import DEFAULT_IDLE_LOCK_MS
from tests.ui.conftest import Kit
from tests.ui.test_screens import open_window


def test_idle_lock_takes_the_setting_and_the_central_policy(qtbot, offline_kit: Kit) -> None:
    window = open_window(qtbot, offline_kit)
    assert window.idle_timer.interval() == DEFAULT_IDLE_LOCK_MS
    window.close()
    set_setting(offline_kit.services.store, "idle_lock_minutes", "9", actor="test")
    window = open_window(qtbot, offline_kit)
    assert window.idle_timer.interval() == 9 * 60 * 1000
    window.close()
    store_policy(offline_kit.services.store, {"idle_lock_minutes": "2"})
    window = open_window(qtbot, offline_kit)
    assert window.idle_timer.interval() == 2 * 60 * 1000
    # A test's own value is not overridden.
    window.close()
    window = open_window(qtbot, offline_kit, idle_lock_ms=300)
    assert window.idle_timer.interval() == 300
