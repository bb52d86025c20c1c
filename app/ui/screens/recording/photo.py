"""Step 2, Foto: live preview with the face box and the quality reasons; capture, retake,
auto-capture."""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.ui.camera import CameraController
from app.ui.i18n import tr
from app.ui.messages import error_text, quality_text
from app.ui.screens.recording.draft import Draft
from app.ui.services import FrameQuality, PhotoResult, Services, Stoppable
from app.ui.tasks import TaskManager
from app.ui.widgets import Preview

AUTO_CAPTURE_GOOD_FRAMES = 5
# A running camera that has sent no frame for this long is said to have stopped (a driver
# can hang inside a read and report nothing); the message goes with its next frame.
FROZEN_AFTER_S = 5.0


class PhotoStep(QWidget):
    """Live preview with the face box and the quality reasons; capture, retake, auto-capture."""

    accepted = Signal()

    def __init__(
        self, services: Services, tasks: TaskManager, draft: Draft, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.services = services
        self.tasks = tasks
        self.draft = draft
        self.camera_choice = ""
        self.camera = CameraController(services, tasks, self)
        self.camera.frame.connect(self._on_frame)
        self.camera.failed.connect(self._on_error)
        self.camera.started.connect(self._started)
        self.photo: PhotoResult | None = None
        self.last_frame: Any = None
        self.good_frames = 0
        self.capturing = False
        self.frames_seen = 0
        self._error: str | None = None
        self._refused: tuple[tuple[str, str], ...] = ()
        self._last_frame_at = 0.0  # monotonic; 0 = no frame since the camera started
        self.frozen = False  # the camera runs but sends nothing (see FROZEN_AFTER_S)
        self._watchdog = QTimer(self)
        self._watchdog.setInterval(1000)
        self._watchdog.timeout.connect(self._check_frames)
        self._watchdog.timeout.connect(self._check_frames)
        self.preview = Preview()
        self.preview.setObjectName("preview")
        self.reasons = QLabel()
        self.reasons.setObjectName("reasons")
        self.reasons.setWordWrap(True)
        self.capture_button = QPushButton()
        self.capture_button.setObjectName("capture")
        self.capture_button.setAutoDefault(True)
        self.retake_button = QPushButton()
        self.retake_button.setObjectName("retake")
        self.retake_button.setAutoDefault(True)
        self.auto = QCheckBox()
        self.auto.setObjectName("auto_capture")
        self.still = QLabel()
        self.still.setObjectName("still")
        self.still.setFixedSize(150, 200)
        self.still.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.still.setStyleSheet("border: 1px solid #9aa0a6")
        side = QVBoxLayout()
        side.addWidget(self.still)
        side.addWidget(self.capture_button)
        side.addWidget(self.retake_button)
        side.addWidget(self.auto)
        side.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.preview, 1)
        top.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.reasons)
        self.capture_button.clicked.connect(self.capture)
        self.retake_button.clicked.connect(self.retake)
        self.preview.painted.connect(self.camera.painted)
        self.preview.resized.connect(self._preview_resized)
        self.retranslate()

    def first_widget(self) -> QWidget:
        return self.capture_button

    @property
    def loop(self) -> Stoppable | None:
        return self.camera.loop

    # --- camera lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        # Shown again while the camera is still opening: that camera will do.
        if not self.camera.busy:
            self._error = None
            self.camera.start(self.camera_choice, lambda: self._want_running)

    def _started(self) -> None:
        self._last_frame_at = time.monotonic()
        self._watchdog.start()

    def _check_frames(self) -> None:
        if self.loop is None or not self.isVisible() or self.photo is not None:
            return
        if time.monotonic() - self._last_frame_at > FROZEN_AFTER_S and not self.frozen:
            self.frozen = True
            self.reasons.setText(error_text("camera-failed"))

    @property
    def _want_running(self) -> bool:
        parent = self.parentWidget()
        return isinstance(parent, QStackedWidget) and parent.currentWidget() is self

    def stop(self) -> None:
        self._watchdog.stop()
        self.frozen = False
        self.camera.stop()

    def _preview_resized(self, size: QSize) -> None:
        self.camera.set_target(size)

    def _on_frame(self, image: QImage, quality: FrameQuality | None, frame: Any) -> None:
        self.frames_seen += 1
        self.last_frame = frame
        self._last_frame_at = time.monotonic()
        if self.frozen:  # sending again: the next line of reasons replaces the message
            self.frozen = False
            self.reasons.setText("")
        if self.photo is not None:
            self.camera.painted()
            return
        self.preview.show_frame(image, quality, frame.shape[1])
        self._show_reasons(quality)
        if quality is not None and quality.good:
            self.good_frames += 1
        else:
            self.good_frames = 0
        if self.auto.isChecked() and self.good_frames >= AUTO_CAPTURE_GOOD_FRAMES:
            self.capture()

    def _show_reasons(self, quality: FrameQuality | None) -> None:
        if self._error:
            self.reasons.setText(error_text(self._error))
            return
        if self._refused:
            self.reasons.setText(
                tr("Foto ditolak: %1").replace(
                    "%1", " ".join(quality_text(c, m) for c, m in self._refused)
                )
            )
            return
        if quality is None:
            self.reasons.setText("")
        elif quality.good:
            self.reasons.setText(tr("Wajah baik. Tekan Enter atau Spasi untuk mengambil foto."))
        else:
            self.reasons.setText(" ".join(quality_text(c, m) for c, m in quality.reasons))

    def _on_error(self, code: str) -> None:
        self._error = code if code in ("no-camera", "camera-failed") else "camera-failed"
        self._watchdog.stop()
        self.frozen = False
        self.preview.placeholder = error_text(self._error)
        self.preview.show_frame(None, None)
        self._show_reasons(None)

    # --- capture ---------------------------------------------------------------------------
    def capture(self) -> None:
        if self.capturing or self.last_frame is None or self.photo is not None:
            return
        self.capturing = True
        self.good_frames = 0
        frame = self.last_frame
        token = self.draft.token()

        def captured(result: PhotoResult) -> None:
            if self.draft.is_current(token):  # not a photo of a resident since forgotten
                self._captured(result)

        def failed(exc: BaseException) -> None:
            if self.draft.is_current(token):
                self._capture_failed(exc)

        self.tasks.run_net(lambda: self.services.accept_frame(frame), captured, failed)

        self.tasks.run_net(lambda: self.services.accept_frame(frame), captured, failed)

    def _captured(self, result: PhotoResult) -> None:
        self.capturing = False
        if not result.ok or result.jpeg is None:
            self._refused = result.reasons
            self._show_reasons(None)
            return
        self._refused = ()
        self.photo = result
        image = QImage.fromData(result.jpeg)
        self.still.setPixmap(
            QPixmap.fromImage(image).scaled(self.still.size(), Qt.AspectRatioMode.KeepAspectRatio)
        )
        self.reasons.setText(tr("Foto diterima. Tekan Enter untuk lanjut, atau Ulangi foto."))
        self.accepted.emit()

    def _capture_failed(self, exc: BaseException) -> None:
        self.capturing = False
        self._error = getattr(exc, "code", "camera-failed")
        self._show_reasons(None)

    def retake(self) -> None:
        self.photo = None
        self._refused = ()
        self.good_frames = 0
        self.still.clear()
        self.still.setText(tr("belum ada foto"))
        self.reasons.setText("")
        self.capture_button.setFocus()

    def forget(self) -> None:
        """A draft part: the photo goes; one still being checked is dropped (the draft's
        token is stale by then)."""
        self.capturing = False
        self.retake()
        self.last_frame = None
        self.preview.show_frame(None, None)

    def holds_resident(self) -> bool:
        return self.photo is not None

    def retranslate(self) -> None:
        self.capture_button.setText(tr("&Ambil foto"))
        self.retake_button.setText(tr("&Ulangi foto"))
        self.auto.setText(tr("Ambil &otomatis"))
        self.still.setText(tr("belum ada foto") if self.photo is None else "")
        self.preview.placeholder = (
            error_text(self._error) if self._error else tr("Menyalakan kamera…")
        )
        self.preview.update()
