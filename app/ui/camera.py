"""One camera loop for a screen: opened on the device worker, stopped there, never twice.

The photo step and Teknisi's camera test both hold a camera through a ``CameraController``.
A camera is one user at a time: a second open fails on a camera already held ("no camera")
and a loop nobody stops keeps it. So a start while the camera is still opening or running
does nothing, and a loop that opens after the screen stopped wanting it is stopped at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QSize, Signal
from PySide6.QtGui import QImage

from app.ui.bridge import CameraBridge
from app.ui.services import Services, Stoppable
from app.ui.tasks import TaskManager


class CameraController(QObject):
    """``frame`` (image, quality, raw frame) for every frame the screen may paint; call
    ``painted()`` once it did. ``started`` once the loop runs, ``failed(code)`` when it could
    not open (``no-camera``) or ended by itself (``camera-failed``: unplugged, driver error)."""

    frame = Signal(QImage, object, object)
    started = Signal()
    failed = Signal(str)

    def __init__(self, services: Services, tasks: TaskManager, parent: QObject | None = None):
        super().__init__(parent)
        self.services = services
        self.tasks = tasks
        self.loop: Stoppable | None = None
        self.opening = False  # asked for the camera; its answer has not come yet
        self.bridge = CameraBridge(self)
        self.bridge.frame.connect(self.frame)
        self.bridge.error.connect(self._ended)

    @property
    def busy(self) -> bool:
        """Running or opening: a start now would do nothing."""
        return self.loop is not None or self.opening

    def start(self, choice: str, wanted: Callable[[], bool]) -> bool:
        """Open ``choice`` on the device worker; ``wanted()`` is asked when it has opened (the
        operator may have left meanwhile). False if a camera is already running or opening."""
        if self.busy:
            return False
        self.opening = True

        def open_camera() -> Stoppable:
            return self.services.start_camera(choice, self.bridge.on_frame, self.bridge.on_error)

        def opened(loop: Stoppable) -> None:
            self.opening = False
            if not wanted() or self.loop is not None:
                self.tasks.run_device(loop.stop)  # nobody wants it any more
                return
            self.loop = loop
            self.started.emit()

        def open_failed(exc: BaseException) -> None:
            self.opening = False
            self.failed.emit(getattr(exc, "code", "no-camera"))

        self.tasks.run_device(open_camera, opened, open_failed)
        return True

    def stop(self) -> None:
        """Stop the loop (joined on the device worker, not on the UI thread)."""
        loop, self.loop = self.loop, None
        if loop is not None:
            self.tasks.run_device(loop.stop)
        self.bridge.painted()

    def painted(self) -> None:
        """The screen took the last frame; the next one may come."""
        self.bridge.painted()

    def set_target(self, size: QSize) -> None:
        """Frames are scaled to the preview's size on the camera thread."""
        self.bridge.target = size

    def _ended(self, code: Any) -> None:
        self.loop = None  # the loop ended by itself
        self.failed.emit(str(code))
