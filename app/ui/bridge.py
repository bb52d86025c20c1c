"""Hand results from device and sync threads to the UI thread through queued signals.

Callbacks given to the capture and sync loops run on *their* threads; these objects live on
the UI thread, so emitting from another thread queues the call. The camera bridge converts the
frame to a QImage on the camera thread (QImage is not a GUI-thread-only class) and drops
frames while the UI still has one to paint, so a slow UI never builds a backlog.
"""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import QObject, QSize, Qt, Signal
from PySide6.QtGui import QImage

from app.ui.services import CardEvent, SyncLightState


def frame_to_qimage(frame: Any) -> QImage:
    """A numpy BGR (h, w, 3) uint8 frame -> an owned RGB QImage."""
    h, w = frame.shape[:2]
    if frame.ndim == 2:
        image = QImage(frame.data, w, h, frame.strides[0], QImage.Format.Format_Grayscale8)
        return image.copy()
    image = QImage(frame.data, w, h, frame.strides[0], QImage.Format.Format_BGR888)
    return image.copy()  # own the pixels: the numpy buffer is reused by the camera


class CameraBridge(QObject):
    frame = Signal(QImage, object, object)  # image (scaled for the preview), quality, raw frame
    error = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._busy = threading.Event()
        self.dropped = 0
        # The preview's size: frames are scaled to it here, on the camera thread, so the UI
        # thread only copies pixels when it paints.
        self.target: QSize | None = None

    def on_frame(self, frame: Any, report: Any = None) -> None:
        """Called on the camera thread."""
        if self._busy.is_set():
            self.dropped += 1
            return
        self._busy.set()
        image = frame_to_qimage(frame)
        target = self.target
        if target is not None and target.width() > 0 and target.height() > 0:
            image = image.scaled(target, Qt.AspectRatioMode.KeepAspectRatio)
        self.frame.emit(image, report, frame.copy())

    def on_error(self, message: str) -> None:
        self.error.emit(message)

    def painted(self) -> None:
        """The UI took the last frame; the next one may come."""
        self._busy.clear()


class CardBridge(QObject):
    card = Signal(object)  # CardEvent

    def on_event(self, event: CardEvent) -> None:
        self.card.emit(event)


class SyncBridge(QObject):
    state = Signal(object)  # SyncLightState

    def on_state(self, state: SyncLightState) -> None:
        self.state.emit(state)
