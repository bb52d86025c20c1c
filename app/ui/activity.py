"""Input activity for the idle lock."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer


class ActivityFilter(QObject):
    """Any key or mouse input restarts the idle-lock timer."""

    def __init__(self, timer: QTimer) -> None:
        super().__init__()
        self.timer = timer

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (
            event.type()
            in (
                QEvent.Type.KeyPress,
                QEvent.Type.MouseButtonPress,
                QEvent.Type.MouseMove,
                QEvent.Type.Wheel,
                QEvent.Type.TabletPress,
            )
            and self.timer.isActive()
        ):
            self.timer.start()
        return False
