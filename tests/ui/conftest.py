"""Shared helpers for the UI tests (pytest-qt, offscreen unless a test starts X)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QWidget


def show_active(qtbot, widget: QWidget) -> None:
    """Show a top-level widget and make it the active window, so focus and Tab work."""
    # Widgets of the previous test are deleted later; their deletion would deactivate ours.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow, timeout=2000)
