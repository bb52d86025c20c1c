"""Perekaman baru: five keyboard-first steps, then the seal and the receipt.

Tab moves between fields, Enter goes on (Ctrl+Enter too), Alt+K goes back, Alt+1..5 jump to
a step already reached. The draft lives only in these widgets (memory) and is dropped on
cancel, on sealing and when another operator signs in.
"""

from __future__ import annotations

import html
import re
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QPixmap,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.domain.biodata import FIELDS
from app.ui.bridge import CameraBridge
from app.ui.dates import to_display, to_iso
from app.ui.i18n import tr
from app.ui.messages import error_detail, error_text, issue_text, quality_text
from app.ui.receipt import qr_data_uri, receipt_html, receipt_pdf
from app.ui.services import (
    CardEvent,
    Checked,
    FrameQuality,
    Operator,
    PhotoResult,
    Region,
    Sealed,
    Services,
    Stoppable,
)
from app.ui.signature_pad import SignaturePad
from app.ui.tasks import TaskManager
from app.ui.widgets import ChoiceBox, Preview, RegionPicker, SingleClicks, confirm

TEXT_FIELDS = ("nik", "nama", "tempat_lahir", "tanggal_lahir", "alamat", "rt", "rw", "no_kk")
CHOICE_FIELDS = (
    "jenis_kelamin",
    "golongan_darah",
    "agama",
    "status_perkawinan",
    "pekerjaan",
    "kewarganegaraan",
)
# The card's field order, from the domain (one list, not two).
FIELD_ORDER = FIELDS
AUTO_CAPTURE_GOOD_FRAMES = 5
# A running camera that has sent no frame for this long is said to have stopped (a driver
# can hang inside a read and report nothing); the message goes with its next frame.
FROZEN_AFTER_S = 5.0
NOTE_COLOURS = {"error": "#c5221f", "warning": "#b06000"}
NUMBER_FIELDS = ("nik", "no_kk")
NUMBER_SEPARATORS = re.compile(r"[\s.\-/]")


def field_label(name: str) -> str:
    return {
        "nik": tr("N&IK"),
        "nama": tr("&Nama"),
        "tempat_lahir": tr("&Tempat lahir"),
        "tanggal_lahir": tr("Tanggal la&hir (HH-BB-TTTT)"),
        "jenis_kelamin": tr("&Jenis kelamin"),
        "golongan_darah": tr("&Golongan darah"),
        "alamat": tr("Alam&at"),
        "rt": tr("&RT"),
        "rw": tr("R&W"),
        "kode_wilayah": tr("Kel&urahan/desa"),
        "agama": tr("Aga&ma"),
        "status_perkawinan": tr("&Status perkawinan"),
        "pekerjaan": tr("&Pekerjaan"),
        "kewarganegaraan": tr("K&ewarganegaraan"),
        "no_kk": tr("N&o. KK"),
    }[name]


class BiodataStep(QWidget):
    """The card's fields with inline validation as the operator types."""

    def __init__(
        self, services: Services, tasks: TaskManager | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.kabupaten: str | None = None
        self.edits: dict[str, QLineEdit] = {}
        self.combos: dict[str, ChoiceBox] = {}
        self.labels: dict[str, QLabel] = {}
        self.notes: dict[str, QLabel] = {}
        self.touched: set[str] = set()
        self.show_all = False
        self.checked: Checked | None = None
        self.nik_hint = QLabel()
        self.nik_hint.setObjectName("nik_hint")
        self.nik_hint.setWordWrap(True)
        self.region = RegionPicker(
            self._search_regions, run_async=tasks.run_net if tasks is not None else None
        )
        self.region.chosen.connect(lambda _r: self._changed("kode_wilayah"))

        choices = services.choices()
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name in FIELD_ORDER:
            widget: QWidget
            if name in TEXT_FIELDS:
                edit = QLineEdit()
                edit.setObjectName(name)
                if name in NUMBER_FIELDS:  # before _changed: it reads the cleaned text
                    edit.textEdited.connect(lambda _t, e=edit: self._digits_only(e))
                edit.textEdited.connect(lambda _t, n=name: self._changed(n))
                edit.editingFinished.connect(lambda n=name: self._left(n))
                self.edits[name] = edit
                widget = edit
            elif name == "kode_wilayah":
                widget = self.region
            else:
                combo = ChoiceBox()
                combo.setObjectName(name)
                combo.addItem("")
                combo.addItems(choices.get(name, []))
                combo.currentIndexChanged.connect(lambda _i, n=name: self._changed(n))
                self.combos[name] = combo
                widget = combo
            label = QLabel()
            label.setBuddy(widget if name != "kode_wilayah" else self.region.edit)
            self.labels[name] = label
            note = QLabel()
            note.setObjectName(f"note_{name}")
            note.setWordWrap(True)
            note.hide()
            self.notes[name] = note
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(widget)
            column.addWidget(note)
            if name == "nik":
                column.addWidget(self.nik_hint)
            form.addRow(label, column)
        # NIK and No. KK: room for the separators of a pasted number ("3603 3212 0890 0007"),
        # taken out as typed, then cut at 16 (a maxLength of 16 cut the digits instead).
        self.edits["nik"].setMaxLength(40)
        self.edits["no_kk"].setMaxLength(40)
        self.edits["rt"].setMaxLength(3)
        self.edits["rw"].setMaxLength(3)
        self.edits["tanggal_lahir"].setPlaceholderText("12-08-1990")
        self.edits["nama"].textEdited.connect(lambda _t: self._upper(self.edits["nama"]))

        inner = QWidget()
        inner.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self.validate)
        self.retranslate()

    @staticmethod
    def _digits_only(edit: QLineEdit) -> None:
        text = edit.text()
        clean = NUMBER_SEPARATORS.sub("", text)[:16]
        if clean != text:
            pos = edit.cursorPosition()
            removed = len(NUMBER_SEPARATORS.findall(text[:pos]))
            edit.setText(clean)
            edit.setCursorPosition(min(pos - removed, len(clean)))

    @staticmethod
    def _upper(edit: QLineEdit) -> None:
        text = edit.text()
        if text != text.upper():
            pos = edit.cursorPosition()
            edit.setText(text.upper())
            edit.setCursorPosition(pos)

    def first_widget(self) -> QWidget:
        return self.edits["nik"]

    def _search_regions(self, query: str) -> list[Region]:
        return self.services.search_regions(query, self.kabupaten)

    def values(self) -> dict[str, str]:
        data = {name: edit.text().strip() for name, edit in self.edits.items()}
        data["tanggal_lahir"] = to_iso(data["tanggal_lahir"])  # typed HH-BB-TTTT, sealed ISO
        data.update({name: combo.currentText() for name, combo in self.combos.items()})
        data["kode_wilayah"] = self.region.region.code if self.region.region else ""
        if not data.get("no_kk"):
            data.pop("no_kk", None)
        return data

    def set_values(self, data: dict[str, Any]) -> None:
        """Fill the form (used when resuming and by tests); marks the fields touched."""
        for name, value in data.items():
            if name == "tanggal_lahir":
                self.edits[name].setText(to_display(str(value)))
            elif name in self.edits:
                self.edits[name].setText(str(value))
            elif name in self.combos:
                self.combos[name].setCurrentText(str(value))
            elif name == "kode_wilayah":
                self.region.pick(self._region(str(value)))
            self.touched.add(name)
        self.validate()

    def _region(self, code: str) -> Region | None:
        name = self.services.region_name(code)
        if not name:
            return None
        return Region(code=code, name=name.split(",")[0], level="desa", path=name)

    def clear(self) -> None:
        # Quietly: clearing must not fire a validation per field.
        widgets: list[QWidget] = [*self.edits.values(), *self.combos.values(), self.region]
        blocked = [w.blockSignals(True) for w in widgets]
        try:
            for edit in self.edits.values():
                edit.clear()
            for combo in self.combos.values():
                combo.setCurrentIndex(0)
                combo.reset_typing()  # the next resident's first letter starts afresh
            self.region.pick(None)
        finally:
            for w, was in zip(widgets, blocked, strict=True):
                w.blockSignals(was)
        self._timer.stop()
        self.touched.clear()
        self.show_all = False
        self.checked = None
        self.nik_hint.setText("")
        for note in self.notes.values():
            note.hide()

    def _changed(self, name: str) -> None:
        if name in self.combos or name == "kode_wilayah":
            self.touched.add(name)
        if name == "nik":
            self._suggest()
        self._timer.start()

    def _left(self, name: str) -> None:
        if self.edits[name].text():
            self.touched.add(name)
        self._timer.start()

    def _suggest(self) -> None:
        nik = self.edits["nik"].text().strip()
        if len(nik) != 16 or not nik.isdigit():
            self.nik_hint.setText("")
            return
        try:
            hints = self.services.suggest_from_nik(nik)
        except Exception:  # a NIK that cannot be decoded: validation says why
            hints = {}
        if not hints:
            self.nik_hint.setText("")
            return
        birth = hints.get("tanggal_lahir")
        sex = hints.get("jenis_kelamin")
        if birth and not self.edits["tanggal_lahir"].text():
            self.edits["tanggal_lahir"].setText(to_display(birth))
            self.touched.add("tanggal_lahir")
        if sex and not self.combos["jenis_kelamin"].currentText():
            self.combos["jenis_kelamin"].setCurrentText(sex)
        parts = []
        if birth:
            parts.append(tr("lahir %1").replace("%1", to_display(birth)))
        if sex:
            parts.append(sex)
        if hints.get("kecamatan"):
            parts.append(tr("Kec. %1").replace("%1", hints["kecamatan"]))
        self.nik_hint.setText(tr("Dari NIK: %1").replace("%1", ", ".join(parts)))

    def validate(self) -> Checked:
        checked = self.services.validate(self.values())
        self.checked = checked
        shown = set(FIELD_ORDER) if self.show_all else self.touched
        # Every issue of a field, errors first: a NIK can disagree with both the birth date
        # and the sex (only the last one used to show).
        by_field: dict[str, list[tuple[str, str]]] = {}
        for kind, issues in (("error", checked.errors), ("warning", checked.warnings)):
            for issue in issues:
                by_field.setdefault(issue.field, []).append(
                    (kind, issue_text(issue.field, issue.code, issue.message))
                )
        for name, note in self.notes.items():
            found = by_field.get(name)
            if not found or name not in shown:
                if note.isVisible():
                    note.hide()
                continue
            kind = found[0][0]
            text = "\n".join(("⚠ " if k == "warning" else "✖ ") + m for k, m in found)
            if note.text() != text or note.property("kind") != kind:
                # A palette, not a style sheet: re-polishing a label per keystroke is slow.
                palette = note.palette()
                palette.setColor(QPalette.ColorRole.WindowText, QColor(NOTE_COLOURS[kind]))
                note.setPalette(palette)
                note.setProperty("kind", kind)
                note.setText(text)
            if not note.isVisible():
                note.show()
        return checked

    def first_error_field(self) -> QWidget | None:
        if self.checked is None:
            return None
        for name in FIELD_ORDER:
            if any(i.field == name for i in self.checked.errors):
                if name in self.edits:
                    return self.edits[name]
                if name in self.combos:
                    return self.combos[name]
                return self.region.edit
        return None

    def retranslate(self) -> None:
        for name, label in self.labels.items():
            label.setText(field_label(name))
        self.region.edit.setPlaceholderText(tr("ketik nama kelurahan/desa, lalu ↓ dan Enter"))
        self._suggest()


class PhotoStep(QWidget):
    """Live preview with the face box and the quality reasons; capture, retake, auto-capture."""

    accepted = Signal()

    def __init__(self, services: Services, tasks: TaskManager, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.tasks = tasks
        self.camera_choice = ""
        self.loop: Stoppable | None = None
        self._opening = False  # start() asked for the camera; its answer has not come yet
        self.bridge = CameraBridge(self)
        self.bridge.frame.connect(self._on_frame)
        self.bridge.error.connect(self._on_error)
        self.photo: PhotoResult | None = None
        self.last_frame: Any = None
        self.good_frames = 0
        self.capturing = False
        self._draft = 0  # bumped by clear(): a capture's answer for an older draft is dropped
        self.frames_seen = 0
        self._error: str | None = None
        self._refused: tuple[tuple[str, str], ...] = ()
        self._last_frame_at = 0.0  # monotonic; 0 = no frame since the camera started
        self.frozen = False  # the camera runs but sends nothing (see FROZEN_AFTER_S)
        self._watchdog = QTimer(self)
        self._watchdog.setInterval(1000)
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
        self.preview.painted.connect(self.bridge.painted)
        self.preview.resized.connect(self._preview_resized)
        self.retranslate()

    def first_widget(self) -> QWidget:
        return self.capture_button

    # --- camera lifecycle ------------------------------------------------------------------
    def start(self) -> None:
        # Shown again while the camera is still opening: that camera will do. A second open
        # fails on a camera already held ("no camera") and orphaned the first loop, running.
        if self.loop is not None or self._opening:
            return
        self._error = None
        self._opening = True
        choice = self.camera_choice

        def open_camera() -> Stoppable:
            return self.services.start_camera(choice, self.bridge.on_frame, self.bridge.on_error)

        self.tasks.run_device(open_camera, self._started, self._start_failed)

    def _start_failed(self, exc: BaseException) -> None:
        self._opening = False
        self._on_error(getattr(exc, "code", "no-camera"))

    def _started(self, loop: Stoppable) -> None:
        self._opening = False
        if not self._want_running or self.loop is not None:
            loop.stop()  # the operator left the step while the camera was opening
            return
        self.loop = loop
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
        loop, self.loop = self.loop, None
        if loop is not None:
            self.tasks.run_device(loop.stop)  # joins the camera thread: not on the UI thread
        self.bridge.painted()

    def _preview_resized(self, size: QSize) -> None:
        self.bridge.target = size

    def _on_frame(self, image: QImage, quality: FrameQuality | None, frame: Any) -> None:
        self.frames_seen += 1
        self.last_frame = frame
        self._last_frame_at = time.monotonic()
        if self.frozen:  # sending again: the next line of reasons replaces the message
            self.frozen = False
            self.reasons.setText("")
        if self.photo is not None:
            self.bridge.painted()
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
        self.loop = None
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
        draft = self._draft

        def captured(result: PhotoResult) -> None:
            if draft == self._draft:
                self._captured(result)

        def failed(exc: BaseException) -> None:
            if draft == self._draft:
                self._capture_failed(exc)

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

    def clear(self) -> None:
        # A photo still being taken belongs to the draft being dropped: its answer is ignored.
        self._draft += 1
        self.capturing = False
        self.retake()
        self.last_frame = None
        self.preview.show_frame(None, None)

    def retranslate(self) -> None:
        self.capture_button.setText(tr("&Ambil foto"))
        self.retake_button.setText(tr("&Ulangi foto"))
        self.auto.setText(tr("Ambil &otomatis"))
        self.still.setText(tr("belum ada foto") if self.photo is None else "")
        self.preview.placeholder = (
            error_text(self._error) if self._error else tr("Menyalakan kamera…")
        )
        self.preview.update()


class SignatureStep(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pad = SignaturePad()
        self.pad.setObjectName("signature")
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.clear_button = QPushButton()
        self.clear_button.setObjectName("clear_signature")
        self.undo_button = QPushButton()
        self.redo_button = QPushButton()
        for b in (self.clear_button, self.undo_button, self.redo_button):
            b.setAutoDefault(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.clear_button)
        buttons.addWidget(self.undo_button)
        buttons.addWidget(self.redo_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addWidget(self.pad, 1)
        layout.addLayout(buttons)
        self.clear_button.clicked.connect(self.pad.clear)
        self.undo_button.clicked.connect(self.pad.undo)
        self.redo_button.clicked.connect(self.pad.redo)
        self.retranslate()

    def first_widget(self) -> QWidget:
        return self.pad

    def retranslate(self) -> None:
        self.info.setText(
            tr(
                "Pemohon menandatangani di bantalan tanda tangan (pena atau mouse). Ctrl+Z mengurungkan coretan terakhir."
            )
        )
        self.clear_button.setText(tr("&Hapus"))
        self.undo_button.setText(tr("Urung&kan coretan"))
        self.redo_button.setText(tr("Kembalikan &coretan"))


class CardStep(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.uid: str | None = None
        self.atr: str | None = None
        self.reader_present: bool | None = None
        self.read_error: str | None = None
        self.on_reader: CardEvent | None = None
        # The card on the reader when the operator signed in (their own): never linked.
        self.sign_in_card: str | None = None
        self.info = QLabel()
        self.info.setWordWrap(True)
        self.status = QLabel()
        self.status.setObjectName("card_uid")
        self.forget_button = QPushButton()
        self.forget_button.setObjectName("forget_card")
        self.forget_button.setAutoDefault(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.info)
        layout.addWidget(self.status)
        layout.addWidget(self.forget_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        self.forget_button.clicked.connect(self.clear)
        self.retranslate()

    def first_widget(self) -> QWidget:
        return self.forget_button

    def on_card(self, event: CardEvent) -> None:
        """Every reader event; a card is linked only while this step is on screen (an
        operator's own card at sign-in must not end up in a resident's record)."""
        if event.error:
            self.reader_present = event.error != "no-reader"
            self.read_error = event.error if event.present else None
        else:
            self.reader_present = True
            self.read_error = None
        self.on_reader = event if event.present and event.uid else None
        if self.on_reader is not None and self.isVisible() and self._linkable(event):
            self.uid, self.atr = event.uid, event.atr
        self.retranslate()

    def showEvent(self, event: QShowEvent) -> None:
        # A card already lying on the reader when the step opens is the one to link.
        if self.uid is None and self.on_reader is not None and self._linkable(self.on_reader):
            self.uid, self.atr = self.on_reader.uid, self.on_reader.atr
            self.retranslate()
        super().showEvent(event)

    def _linkable(self, event: CardEvent) -> bool:
        return event.uid != self.sign_in_card

    def clear(self) -> None:
        self.uid = self.atr = None
        self.retranslate()

    def retranslate(self) -> None:
        self.info.setText(
            tr(
                "Opsional: tempelkan kartu KTP-el yang akan dikaitkan pada pembaca kartu. Tekan Enter untuk lanjut dengan atau tanpa kartu."
            )
        )
        if self.uid:
            self.status.setText(tr("UID kartu: %1").replace("%1", self.uid))
        elif self.read_error:
            self.status.setText(error_text(self.read_error))
        elif self.reader_present is False:
            self.status.setText(error_text("no-reader"))
        else:
            self.status.setText(tr("Belum ada kartu."))
        self.forget_button.setText(tr("Lupakan &kartu"))
        self.forget_button.setEnabled(self.uid is not None)


class ReviewStep(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QTextBrowser()
        self.summary.setObjectName("summary")
        self.photo = QLabel()
        self.photo.setFixedSize(150, 200)
        self.signature = QLabel()
        self.signature.setFixedSize(220, 90)
        self.signature.setStyleSheet("background: white; border: 1px solid #9aa0a6")
        self.error = QLabel()
        self.error.setObjectName("seal_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c5221f")
        side = QVBoxLayout()
        side.addWidget(self.photo)
        side.addWidget(self.signature)
        side.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.error)

    def first_widget(self) -> QWidget:
        return self.summary

    def clear(self) -> None:
        """Forget the resident shown here (biodata, photo, signature)."""
        self.summary.clear()
        self.photo.clear()
        self.signature.clear()
        self.error.setText("")

    def show_draft(
        self,
        values: dict[str, str],
        region: str,
        photo: PhotoResult | None,
        signature: QImage,
        card_uid: str | None,
        warnings: tuple[tuple[str, str], ...] = (),  # (field, text)
    ) -> None:
        rows = []
        for name in FIELD_ORDER:
            value = values.get(name, "")
            if name == "kode_wilayah":
                value = f"{region} ({value})" if region else value
            elif name == "tanggal_lahir":
                value = to_display(value)
            rows.append(
                f"<tr><td>{html.escape(field_label(name).replace('&', ''))}</td>"
                f"<td><b>{html.escape(value)}</b></td></tr>"
            )
        rows.append(
            f"<tr><td>{tr('Kartu')}</td><td><b>{card_uid or tr('tidak dikaitkan')}</b></td></tr>"
        )
        # Every warning, named by its field: the last look before the record is sealed.
        notes = ""
        if warnings:
            items = "".join(
                f"<li>{html.escape(field_label(f).replace('&', ''))}: {html.escape(t)}</li>"
                for f, t in warnings
            )
            notes = (
                f"<p style='color:{NOTE_COLOURS['warning']}'><b>"
                f"{html.escape(tr('Perhatian sebelum disimpan:'))}</b></p><ul>{items}</ul>"
            )
        self.summary.setHtml(
            f"<h3>{tr('Periksa sekali lagi sebelum disimpan permanen')}</h3>{notes}"
            f"<table cellpadding='3'>{''.join(rows)}</table>"
        )
        if photo is not None and photo.jpeg:
            self.photo.setPixmap(
                QPixmap.fromImage(QImage.fromData(photo.jpeg)).scaled(
                    self.photo.size(), Qt.AspectRatioMode.KeepAspectRatio
                )
            )
        else:
            self.photo.clear()  # retaken since: the old photo is not the one to be sealed
        self.signature.setPixmap(
            QPixmap.fromImage(signature).scaled(
                self.signature.size(), Qt.AspectRatioMode.KeepAspectRatio
            )
        )
        self.error.setText("")


class ReceiptStep(QWidget):
    new_recording = Signal()
    go_home = Signal()

    def __init__(self, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.html = ""
        self.sealed: Sealed | None = None
        # Set by the main window from the station: where its data lies, and whether a
        # supervisor allowed receipt PDFs there.
        self.station_home: Path | None = None
        self.pdf_on_station = False
        self.view = QTextBrowser()
        self.view.setObjectName("receipt")
        self.status = QLabel()
        self.status.setObjectName("receipt_status")
        self.print_button = QPushButton()
        self.print_button.setObjectName("print")
        self.pdf_button = QPushButton()
        self.pdf_button.setObjectName("save_pdf")
        self.new_button = QPushButton()
        self.new_button.setObjectName("again")
        self.home_button = QPushButton()
        for b in (self.print_button, self.pdf_button, self.new_button, self.home_button):
            b.setAutoDefault(True)
        buttons = QHBoxLayout()
        for b in (self.new_button, self.pdf_button, self.print_button, self.home_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.print_button.clicked.connect(self.print_receipt)
        self.pdf_button.clicked.connect(self.ask_pdf)
        self.new_button.clicked.connect(self.new_recording)
        self.home_button.clicked.connect(self.go_home)
        self.retranslate()

    def first_widget(self) -> QWidget:
        # The receipt itself, not a button: an Enter typed after "Simpan" must not leave it.
        return self.view

    def clear(self) -> None:
        """The receipt names the resident: gone when the operator goes on or signs out."""
        self.html = ""
        self.sealed = None
        self.view.clear()
        self.status.setText("")

    def show_receipt(self, html_text: str, sealed: Sealed) -> None:
        self.html = html_text
        self.sealed = sealed
        self.view.setHtml(html_text)
        self.status.setText(
            tr("Rekaman tersimpan permanen dan masuk antrian pengiriman.")
            + " "
            + tr("Tekan F3 untuk perekaman berikutnya.")
        )

    def save_pdf(self, path: Path) -> None:
        """Render in memory on the UI thread (no I/O), write the file in the background.
        Refused on the station's own disk (the PDF names the resident) unless a supervisor
        allowed it (setting receipt_pdf_on_station)."""
        from app.media import on_station_disk

        if (
            self.station_home is not None
            and not self.pdf_on_station
            and on_station_disk(path, self.station_home)
        ):
            self.status.setText(error_text("pdf-on-station"))
            self.status.setToolTip(str(path))
            return
        data = receipt_pdf(self.html)

        def write() -> Path:
            path.write_bytes(data)
            return path

        self.tasks.run_db(
            write,
            lambda p: self.status.setText(tr("PDF disimpan: %1").replace("%1", str(p))),
            self._pdf_failed,
        )

    def _pdf_failed(self, exc: BaseException) -> None:
        self.status.setText(error_text("pdf-failed"))
        self.status.setToolTip(error_detail(str(exc)))

    def ask_pdf(self) -> None:
        from app.media import removable_dirs

        number = self.sealed.number if self.sealed else "bukti"
        # Starts on a stick when one is plugged in.
        sticks = removable_dirs()
        start = sticks[0] / f"bukti-{number}.pdf" if sticks else Path(f"bukti-{number}.pdf")
        path, _ = QFileDialog.getSaveFileName(
            self,
            # The receipt names the resident: it belongs on the resident's paper or a stick,
            # never on this PC, which must hold no personal data in clear after sealing.
            tr(
                "Simpan bukti sebagai PDF ke flashdisk (berisi nama penduduk: jangan di komputer ini)"
            ),
            str(start),
            "PDF (*.pdf)",
        )
        if path:
            self.save_pdf(Path(path))

    def print_receipt(self) -> None:
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        from app.ui.receipt import print_receipt

        printer = QPrinter()
        dialog = QPrintDialog(printer, self)
        if dialog.exec():
            print_receipt(self.html, printer)

    def retranslate(self) -> None:
        self.print_button.setText(tr("&Cetak…"))
        self.pdf_button.setText(tr("Simpan &PDF…"))
        self.new_button.setText(tr("Perekaman &baru"))
        self.home_button.setText(tr("Ke be&randa"))


class RecordingScreen(QWidget):
    """The five steps plus the receipt page; ``sealed`` fires after a successful seal."""

    sealed = Signal(object)  # Sealed
    go_home = Signal()

    BIODATA, PHOTO, SIGNATURE, CARD, REVIEW, RECEIPT = range(6)

    def __init__(self, services: Services, tasks: TaskManager, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("recording")
        self.services = services
        self.tasks = tasks
        self.operator: Operator | None = None
        self.station_name = ""
        self.reached = 0
        self.sealing = False
        self._draft = 0  # bumped by start_new(): a seal's answer for an older draft is not shown
        self._confirm: QMessageBox | None = None  # the open "discard?" question
        # The last receipt of the session (html, sealed), for "Cetak ulang bukti": memory
        # only, forgotten at sign-out.
        self.last_receipt: tuple[str, Sealed] | None = None
        self.biodata = BiodataStep(services, tasks)
        self.photo = PhotoStep(services, tasks)
        self.signature = SignatureStep()
        self.card = CardStep()
        self.review = ReviewStep()
        self.receipt = ReceiptStep(tasks)
        self.stack = QStackedWidget()
        for w in (self.biodata, self.photo, self.signature, self.card, self.review, self.receipt):
            self.stack.addWidget(w)
        self.title = QLabel()
        self.title.setObjectName("title")
        self.steps = QLabel()
        self.steps.setObjectName("steps")
        self.message = QLabel()
        self.message.setObjectName("step_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c5221f")
        self.back_button = QPushButton()
        self.back_button.setObjectName("back")
        self.next_button = QPushButton()
        self.next_button.setObjectName("next")
        self.cancel_button = QPushButton()
        self.cancel_button.setObjectName("cancel")
        for b in (self.back_button, self.next_button, self.cancel_button):
            b.setAutoDefault(True)
        nav = QHBoxLayout()
        nav.addWidget(self.cancel_button)
        nav.addStretch(1)
        nav.addWidget(self.back_button)
        nav.addWidget(self.next_button)
        header = QGridLayout()
        header.addWidget(self.title, 0, 0)
        header.addWidget(self.steps, 1, 0)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.message)
        layout.addLayout(nav)

        # After the last field, Tab reaches "Lanjut" first; "Batal" comes last.
        QWidget.setTabOrder(self.stack, self.next_button)
        QWidget.setTabOrder(self.next_button, self.back_button)
        QWidget.setTabOrder(self.back_button, self.cancel_button)
        # A double click on a step button is one click: the second used to land on the next
        # step's button in the same place ("Ambil & lanjut": a photo nobody looked at).
        self._single_clicks = SingleClicks(self)
        for b in (self.back_button, self.next_button):
            b.installEventFilter(self._single_clicks)
        self.back_button.clicked.connect(self.back)
        self.next_button.clicked.connect(self.next)
        self.cancel_button.clicked.connect(self.cancel)
        self.photo.accepted.connect(lambda: self.next_button.setFocus())
        # A step's refusal goes with its cause: the signature drawn, the photo taken.
        self.signature.pad.changed.connect(
            lambda: (
                self._clear_message(tr("Tanda tangan masih kosong."))
                if not self.signature.pad.is_empty()
                else None
            )
        )
        self.photo.accepted.connect(lambda: self._clear_message(tr("Ambil foto dulu.")))
        # "Ambil & lanjut" becomes "Lanjut" once the photo is taken, and back on Ulangi foto.
        self.photo.accepted.connect(self._update_nav)
        self.photo.retake_button.clicked.connect(self._update_nav)
        self.receipt.new_recording.connect(self.start_new)
        self.receipt.go_home.connect(self.go_home)
        for i in range(5):
            shortcut = QShortcut(QKeySequence(f"Alt+{i + 1}"), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda i=i: self.go_to(i))
        for seq in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(seq), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.next)
        capture = QShortcut(QKeySequence(Qt.Key.Key_Space), self.photo)
        capture.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        capture.activated.connect(self.photo.capture)
        self.retranslate()

    # --- navigation ------------------------------------------------------------------------
    def step(self) -> int:
        return self.stack.currentIndex()

    def start_new(self) -> None:
        self.biodata.clear()
        self.photo.clear()
        self.signature.pad.clear()
        self.signature.pad._redo = []
        self.card.clear()
        self.review.clear()
        self.receipt.clear()
        self._draft += 1
        self.reached = 0
        self.sealing = False
        self._show(self.BIODATA)

    def forget_receipt(self) -> None:
        """Sign-out or another operator: the last receipt names a resident, it goes."""
        self.last_receipt = None
        self.receipt.clear()

    def loses_draft(self) -> bool:
        """A draft with data that leaving now would drop (one being sealed is not lost)."""
        return self.has_draft() and not self.sealing

    def has_draft(self) -> bool:
        return self.step() != self.RECEIPT and (
            bool(self.biodata.touched)
            or self.photo.photo is not None
            or not self.signature.pad.is_empty()
        )

    def _show(self, index: int) -> None:
        previous = self.step()
        self.stack.setCurrentIndex(index)
        self.reached = max(self.reached, index)
        self.message.setText("")
        if index == self.PHOTO:
            self.photo.start()
        elif previous == self.PHOTO:
            self.photo.stop()
        if index == self.REVIEW:
            self._fill_review()
        self._update_nav()
        widget = self.stack.currentWidget()
        first = getattr(widget, "first_widget", None)
        target = first() if first is not None else None
        if target is None or not target.isEnabled():
            target = self.next_button
        target.setFocus()

    def go_to(self, index: int) -> None:
        if self.sealing or self.step() == self.RECEIPT:
            return
        if index <= self.reached:
            self._show(index)

    def back(self) -> None:
        if self.step() > 0 and self.step() != self.RECEIPT and not self.sealing:
            self._show(self.step() - 1)

    def next(self) -> None:
        step = self.step()
        if self.sealing:
            return
        if step == self.BIODATA:
            self.biodata.show_all = True
            checked = self.biodata.validate()
            if not checked.ok:
                self.message.setText(error_text("invalid-biodata"))
                target = self.biodata.first_error_field()
                if target is not None:
                    target.setFocus()
                return
        elif step == self.PHOTO:
            if self.photo.photo is None:
                if self.photo.last_frame is not None and not self.photo.capturing:
                    self.photo.capture()  # Enter on the photo step = take the photo
                else:
                    self.message.setText(tr("Ambil foto dulu."))
                return
        elif step == self.SIGNATURE:
            if self.signature.pad.is_empty():
                self.message.setText(tr("Tanda tangan masih kosong."))
                return
        elif step == self.REVIEW:
            self.seal()
            return
        elif step == self.RECEIPT:
            return  # the receipt stays until the operator leaves it on purpose (F3, buttons)
        self._show(step + 1)

    def _clear_message(self, text: str) -> None:
        if self.message.text() == text:
            self.message.setText("")

    def cancel(self) -> None:
        if self.step() == self.RECEIPT:
            self.go_home.emit()
            return
        if self.sealing:
            # Too late: the record is being written and will be sent.
            self.message.setText(
                tr("Sedang menyimpan permanen: rekaman ini tidak dapat dibatalkan lagi.")
            )
            return
        if not self.loses_draft():
            self.discard()
            return
        if self._confirm is not None:
            return  # already asked
        self._confirm = confirm(
            self,
            self.discard_question(),
            tr("&Buang"),
            tr("&Jangan buang"),
            self.discard,
        )
        self._confirm.finished.connect(self._confirm_closed)

    def _confirm_closed(self, _result: int) -> None:
        self._confirm = None

    def resident_name(self) -> str:
        return self.biodata.edits["nama"].text().strip()

    def discard_question(self) -> str:
        name = self.resident_name()
        if name:
            return tr("Buang rekaman %1?").replace("%1", name)
        return tr("Buang rekaman yang sedang dibuat?")

    def discard(self) -> None:
        """Drop the draft and go to Beranda (after the operator said so)."""
        if self.sealing:
            return
        self.photo.stop()
        self.start_new()
        self.go_home.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.next()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.cancel()
            return
        super().keyPressEvent(event)

    # --- review and seal -------------------------------------------------------------------
    def _fill_review(self) -> None:
        values = self.biodata.values()
        region = self.biodata.region.region
        self.review.show_draft(
            values,
            region.path if region else "",
            self.photo.photo,
            self.signature.pad.to_image(),
            self.card.uid,
            tuple(
                (i.field, issue_text(i.field, i.code, i.message))
                for i in self.biodata.validate().warnings
            ),
        )

    def seal(self) -> None:
        # The review can be reached again (Alt+5) after a photo was retaken or the signature
        # cleared: send the operator to what is missing rather than seal without it.
        if self.photo.photo is None:
            self._show(self.PHOTO)
            self.message.setText(tr("Ambil foto dulu."))
            return
        if self.signature.pad.is_empty():
            self._show(self.SIGNATURE)
            self.message.setText(tr("Tanda tangan masih kosong."))
            return
        checked = self.biodata.validate()
        if self.operator is None or not checked.ok:
            self.message.setText(error_text("invalid-biodata"))
            return
        self.sealing = True
        self._update_nav()
        operator = self.operator
        biodata = checked.biodata if checked.biodata is not None else self.biodata.values()
        photo = self.photo.photo
        signature = self.signature.pad.to_png()
        uid, atr = self.card.uid, self.card.atr
        draft = self._draft

        def work() -> tuple[Sealed, str]:
            result = self.services.enroll(operator, biodata, photo, signature, uid, atr)
            # The receipt's QR code here, on the worker: on the UI thread it was the longest
            # stall of a recording (~30 ms of CPU, and segno's import).
            return result, qr_data_uri(result.uuid)

        def sealed(done: tuple[Sealed, str]) -> None:
            result, qr = done
            if draft == self._draft:
                self._sealed(result, qr)
            else:  # the session ended meanwhile (sign-out): sealed and queued, not shown
                self.sealed.emit(result)

        def failed(exc: BaseException) -> None:
            if draft == self._draft:
                self._seal_failed(exc)

        self.tasks.run_db(work, sealed, failed)

    def _sealed(self, sealed: Sealed, qr: str | None = None) -> None:
        self.sealing = False
        html_text = receipt_html(
            sealed, self.operator.username if self.operator else "", self.station_name, qr
        )
        # The draft leaves memory now: only the receipt's few fields stay.
        self.biodata.clear()
        self.photo.clear()
        self.signature.pad.clear()
        self.signature.pad._redo = []
        self.card.clear()
        self.review.clear()
        self.receipt.show_receipt(html_text, sealed)
        self.last_receipt = (html_text, sealed)
        self.reached = self.RECEIPT
        self._show(self.RECEIPT)
        self.sealed.emit(sealed)

    def _seal_failed(self, exc: BaseException) -> None:
        self.sealing = False
        self._update_nav()
        self.review.error.setText(
            error_text(getattr(exc, "code", "unexpected"), getattr(exc, "detail", ""))
        )
        self.next_button.setFocus()

    # --- language --------------------------------------------------------------------------
    def step_titles(self) -> list[str]:
        return [
            tr("1 Biodata"),
            tr("2 Foto"),
            tr("3 Tanda tangan"),
            tr("4 Kartu"),
            tr("5 Tinjau & simpan"),
        ]

    def retranslate(self) -> None:
        self._update_nav()
        for step in (self.biodata, self.photo, self.signature, self.card, self.receipt):
            step.retranslate()

    def _update_nav(self) -> None:
        """Title, step list and buttons for the current step (cheap: called on every move)."""
        self.title.setText(tr("Perekaman baru"))
        titles = self.step_titles()
        current = self.step()
        parts = []
        for i, title in enumerate(titles):
            text = title.replace("&", "&amp;")
            parts.append(f"<b><u>{text}</u></b>" if i == current else text)
        if current == self.RECEIPT:
            parts = [f"<b>{tr('Bukti perekaman')}</b>"]
        self.steps.setText("  ›  ".join(parts))
        self.back_button.setText(tr("&Kembali"))
        self.cancel_button.setText(tr("&Batal") if current != self.RECEIPT else tr("&Tutup"))
        if current == self.REVIEW:
            self.next_button.setText(
                tr("&Simpan permanen") if not self.sealing else tr("Menyimpan…")
            )
        elif current == self.RECEIPT:
            self.next_button.setText(tr("Perekaman baru"))
        elif current == self.PHOTO and self.photo.photo is None:
            self.next_button.setText(tr("Ambil && &lanjut"))
        else:
            self.next_button.setText(tr("&Lanjut"))
        self.back_button.setEnabled(0 < current < self.RECEIPT and not self.sealing)
        self.back_button.setVisible(current != self.RECEIPT)
        self.next_button.setEnabled(not self.sealing)
        self.next_button.setVisible(current != self.RECEIPT)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
