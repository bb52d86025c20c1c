"""Teknisi's devices: the camera choice with a live test, the card readers with a live test."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QSize, Signal
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.camera import CameraController
from app.ui.i18n import tr
from app.ui.messages import error_text, quality_text
from app.ui.services import CardEvent, FrameQuality, Services, Stoppable
from app.ui.tasks import TaskManager
from app.ui.widgets import Preview


class DevicesSection(QWidget):
    """``camera_chosen(key)`` when the technician picks the camera for recordings."""

    camera_chosen = Signal(str)

    def __init__(self, services: Services, tasks: TaskManager, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.tasks = tasks
        # The camera test: a second click while it opens (a double-click) opens nothing more.
        self.test_camera = CameraController(services, tasks, self)
        self.test_camera.frame.connect(self._on_frame)
        self.test_camera.started.connect(self._test_started)
        self.test_camera.failed.connect(self._camera_error)
        self.test_frames = 0
        self.camera_box = QGroupBox()
        self.camera = QComboBox()
        self.camera.setObjectName("camera_choice")
        self.camera_label = QLabel()
        self.camera_label.setBuddy(self.camera)
        self.camera_test = QPushButton()
        self.camera_test.setObjectName("camera_test")
        self.camera_use = QPushButton()
        self.camera_use.setObjectName("camera_use")
        self.preview = Preview()
        self.preview.setObjectName("camera_preview")
        self.preview.setMinimumSize(240, 180)
        self.preview.painted.connect(self.test_camera.painted)
        self.preview.resized.connect(self._preview_resized)
        self.camera_status = QLabel()
        self.camera_status.setObjectName("camera_status")
        self.camera_status.setWordWrap(True)
        # The source's name on a line of its own: beside the buttons it was cut at 1024 px.
        self.camera.currentTextChanged.connect(self.camera.setToolTip)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.camera_test)
        row.addWidget(self.camera_use)
        f = QFormLayout(self.camera_box)
        f.addRow(self.camera_label, self.camera)
        f.addRow(row)
        f.addRow(self.preview)
        f.addRow(self.camera_status)
        # reader
        self.reader_box = QGroupBox()
        self.readers = QLabel()
        self.readers.setObjectName("readers")
        self.readers.setWordWrap(True)
        self.last_card = QLabel()
        self.last_card.setObjectName("last_card")
        self.reader_refresh = QPushButton()
        self.reader_refresh.setObjectName("reader_refresh")
        f = QFormLayout(self.reader_box)
        f.addRow(self.readers)
        f.addRow(self.last_card)
        f.addRow(self.reader_refresh)
        for b in (self.camera_test, self.camera_use, self.reader_refresh):
            b.setAutoDefault(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.camera_box)
        layout.addWidget(self.reader_box)
        self.camera_test.clicked.connect(self.toggle_camera_test)
        self.camera_use.clicked.connect(
            lambda: self.camera_chosen.emit(self.camera.currentData() or "")
        )
        self.reader_refresh.clicked.connect(self.refresh)
        self.retranslate()

    def refresh(self) -> None:
        """Look for cameras and readers again (off the UI thread)."""

        def probe() -> tuple[list[tuple[str, str]], list[str]]:
            return self.services.camera_choices(), self.services.reader_choices()

        self.tasks.run_net(probe, self._show_devices)

    def _show_devices(self, found: tuple[list[tuple[str, str]], list[str]]) -> None:
        cameras, readers = found
        current = self.camera.currentData()
        self.camera.clear()
        for key, label in cameras:
            self.camera.addItem(label, key)
        if current:
            self.camera.setCurrentIndex(max(0, self.camera.findData(current)))
        if not cameras:
            self.camera_status.setText(error_text("no-camera"))
        elif self.camera_status.text() == error_text("no-camera"):
            self.camera_status.setText("")  # plugged in since: the message is no longer true
        self.readers.setText(
            tr("Pembaca kartu: %1").replace("%1", ", ".join(readers))
            if readers
            else error_text("no-reader")
        )

    def on_card(self, event: CardEvent) -> None:
        if event.present and event.uid:
            self.last_card.setText(
                tr("Kartu terbaca di %1: UID %2 ATR %3")
                .replace("%1", event.reader)
                .replace("%2", event.uid)
                .replace("%3", event.atr or "-")
            )
        elif event.error:
            self.last_card.setText("")  # the reader line above says it
        else:
            self.last_card.setText(tr("Kartu dilepas dari %1").replace("%1", event.reader))

    # --- camera test -----------------------------------------------------------------------
    @property
    def test_loop(self) -> Stoppable | None:
        return self.test_camera.loop

    def toggle_camera_test(self) -> None:
        if self.test_camera.loop is not None:
            self.stop_camera_test()
            return
        if self.test_camera.busy:
            return
        self.test_frames = 0
        self.camera_status.setText(tr("Menyalakan kamera…"))
        self.test_camera.start(self.camera.currentData() or "", self.isVisible)

    def _test_started(self) -> None:
        self.camera_test.setText(tr("&Hentikan uji"))

    def _camera_error(self, code: str) -> None:
        """Could not open, or ended by itself (camera unplugged, driver error)."""
        self.camera_status.setText(error_text(code))
        self.camera_test.setText(tr("&Uji kamera"))

    def stop_camera_test(self) -> None:
        self.test_camera.stop()
        self.camera_test.setText(tr("&Uji kamera"))

    def _preview_resized(self, size: QSize) -> None:
        self.test_camera.set_target(size)

    def _on_frame(self, image: QImage, quality: FrameQuality | None, frame: Any) -> None:
        self.test_frames += 1
        self.preview.show_frame(image, quality, frame.shape[1])
        text = (
            tr("Kamera berjalan: %1×%2, bingkai %3")
            .replace("%1", str(frame.shape[1]))
            .replace("%2", str(frame.shape[0]))
            .replace("%3", str(self.test_frames))
        )
        if quality is not None and quality.reasons:
            text += " — " + " ".join(quality_text(c, m) for c, m in quality.reasons)
        self.camera_status.setText(text)

    def forget_messages(self) -> None:
        self.camera_status.setText("")
        self.camera_status.setToolTip("")

    def retranslate(self) -> None:
        self.camera_box.setTitle(tr("Kamera"))
        self.camera_label.setText(tr("Su&mber kamera"))
        self.camera_test.setText(tr("&Hentikan uji") if self.test_loop else tr("&Uji kamera"))
        self.camera_use.setText(tr("&Gunakan"))
        self.reader_box.setTitle(tr("Pembaca kartu"))
        self.reader_refresh.setText(tr("&Periksa perangkat"))
        if not self.last_card.text():
            self.last_card.setText(tr("Tempelkan kartu untuk menguji pembaca."))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
