"""Cek KTP-el (issue 19): a clerk at the kelurahan desk checks a resident's e-KTP at the centre.

The resident's card on the reader (or its UID typed) is checked at once: the centre answers
whether a record is linked to the card, what became of it, where and when it was recorded, its
receipt number, the name and the photo, for the clerk to compare with the person at the desk.
The answer is shown on screen only, for that check: it is forgotten when the clerk presses
"Selesai", leaves the screen, locks or signs out, and is never written to disk
(app/service/card_check.py).

``install(window)`` puts the screen, its F6 action and the card events into the main window.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QAction, QHideEvent, QImage, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.i18n import tr
from app.ui.messages import error_detail, error_text
from app.ui.screens.queue import fate_text
from app.ui.services import CardEvent, Operator, Services
from app.ui.tasks import TaskManager

PHOTO_W, PHOTO_H = 180, 240


def check_fate_text(fate: str | None, reason: str | None) -> str:
    if fate == "not_processed":
        return tr("Direkam ulang, belum diproses pusat")
    return fate_text(fate, reason)


def card_status_text(status: str) -> str:
    return {
        "lost": tr("PERHATIAN: kartu ini dilaporkan HILANG."),
        "replaced": tr("PERHATIAN: kartu ini sudah DIGANTI dengan kartu baru."),
    }.get(status, "")


def _day(iso: str | None) -> str:
    if not iso:
        return "-"
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone().strftime("%d-%m-%Y")
    except ValueError:
        return iso


class CardCheckScreen(QWidget):
    checked = Signal(object)  # the answer shown (tests wait on it)

    def __init__(self, services: Services, tasks: TaskManager, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("card_check")
        self.services = services
        self.tasks = tasks
        self.operator: Operator | None = None
        self.action: QAction | None = None  # F6 in the main window's navigation (install)
        self.busy = False
        self._asked = 0  # the check being waited for; an answer to an earlier one is dropped
        self.title = QLabel()
        self.title.setObjectName("title")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.uid_edit = QLineEdit()
        self.uid_edit.setObjectName("card_uid")
        self.uid_edit.setMaxLength(80)
        self.check_button = QPushButton()
        self.check_button.setObjectName("check_card")
        self.done_button = QPushButton()
        self.done_button.setObjectName("card_check_done")
        entry = QHBoxLayout()
        self.uid_label = QLabel()
        entry.addWidget(self.uid_label)
        entry.addWidget(self.uid_edit, 1)
        entry.addWidget(self.check_button)
        self.status = QLabel()
        self.status.setObjectName("card_check_status")
        self.status.setWordWrap(True)
        self.verdict = QLabel()
        self.verdict.setObjectName("card_verdict")
        self.verdict.setWordWrap(True)
        self.warning = QLabel()
        self.warning.setObjectName("warning")
        self.warning.setWordWrap(True)
        self.photo = QLabel()
        self.photo.setObjectName("card_photo")
        self.photo.setFixedSize(PHOTO_W, PHOTO_H)
        self.photo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.photo.setFrameShape(QLabel.Shape.Box)
        self.values: dict[str, QLabel] = {}
        self.form_labels: dict[str, QLabel] = {}
        form = QFormLayout()
        for key in ("nama", "fate", "kecamatan", "recorded", "number", "card"):
            value = QLabel()
            value.setObjectName(f"card_{key}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label = QLabel()
            self.values[key] = value
            self.form_labels[key] = label
            form.addRow(label, value)
        result = QHBoxLayout()
        result.addWidget(self.photo, 0, Qt.AlignmentFlag.AlignTop)
        result.addLayout(form, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.done_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        layout.addLayout(entry)
        layout.addWidget(self.status)
        layout.addWidget(self.warning)
        layout.addWidget(self.verdict)
        layout.addLayout(result)
        layout.addStretch(1)
        layout.addLayout(buttons)
        self.check_button.clicked.connect(self.check_typed)
        self.uid_edit.returnPressed.connect(self.check_typed)
        self.done_button.clicked.connect(self.forget)
        self.retranslate()
        self.forget()

    # --- entering and leaving ----------------------------------------------------------------
    def entered(self, operator: Operator) -> None:
        self.operator = operator
        self.uid_edit.setFocus()

    def forget(self) -> None:
        """Everything about the last card off the screen (name, photo, number, UID)."""
        self._asked += 1  # an answer still on its way is dropped
        self.busy = False
        self.check_button.setEnabled(True)
        self.uid_edit.clear()
        self.status.setText("")
        self.verdict.setText("")
        self.warning.setText("")
        self.warning.hide()
        self.photo.clear()
        self.photo.setText(tr("Foto"))
        for value in self.values.values():
            value.setText("")
        self.done_button.setEnabled(False)

    def hideEvent(self, event: QHideEvent) -> None:
        # Leaving the screen (another screen, lock, sign-out, closing) forgets the answer.
        self.forget()
        super().hideEvent(event)

    # --- a check ------------------------------------------------------------------------------
    def on_card(self, event: CardEvent) -> None:
        """The resident's card on the reader: checked at once while this screen is open."""
        if not self.isVisible() or self.operator is None or self.busy:
            return
        if event.present and event.uid:
            self.uid_edit.setText(event.uid)
            self.check(event.uid)
        elif event.present and event.error:
            self.status.setText(error_text("reader-failed"))

    def check_typed(self) -> None:
        uid = self.uid_edit.text().strip()
        if not uid:
            self.status.setText(error_text("no-ktp-on-reader"))
            return
        self.check(uid)

    def check(self, uid: str) -> None:
        operator = self.operator
        if operator is None or self.busy:
            return
        self.forget_result()
        self.busy = True
        self.check_button.setEnabled(False)
        self.status.setText(tr("Menanyakan ke pusat…"))
        self._asked += 1
        asked = self._asked
        self.tasks.run_net(
            lambda: self.services.check_card(operator, uid),
            lambda answer: self._answered(asked, answer),
            lambda exc: self._failed(asked, exc),
        )

    def forget_result(self) -> None:
        self.verdict.setText("")
        self.warning.setText("")
        self.warning.hide()
        self.photo.clear()
        self.photo.setText(tr("Foto"))
        for value in self.values.values():
            value.setText("")

    def _answered(self, asked: int, answer: Any) -> None:
        if asked != self._asked:
            return
        self.busy = False
        self.check_button.setEnabled(True)
        self.done_button.setEnabled(True)
        self.status.setText("")
        self.show_answer(answer)
        self.checked.emit(answer)

    def _failed(self, asked: int, exc: BaseException) -> None:
        if asked != self._asked:
            return
        self.busy = False
        self.check_button.setEnabled(True)
        code = getattr(exc, "code", None) or "unexpected"
        self.status.setText(error_text(str(code), getattr(exc, "detail", "")))
        self.status.setToolTip(error_detail(str(getattr(exc, "detail", ""))))
        self.checked.emit(exc)

    def show_answer(self, answer: Any) -> None:
        marked = card_status_text(answer.card_status)
        self.warning.setText(marked)
        self.warning.setVisible(bool(marked))
        self.values["card"].setText(f"{answer.uid}")
        if not answer.found:
            self.verdict.setText(tr("Kartu ini tidak terhubung ke rekaman mana pun di pusat."))
            return
        self.verdict.setText(
            tr("Kartu ini terhubung ke rekaman berikut. Cocokkan foto dan nama dengan penduduk.")
        )
        self.values["nama"].setText(answer.nama or "-")
        self.values["fate"].setText(check_fate_text(answer.fate, answer.reason))
        self.values["kecamatan"].setText(answer.kecamatan_nama or answer.kecamatan or "-")
        self.values["recorded"].setText(_day(answer.recorded_at))
        self.values["number"].setText(answer.record_number or "-")
        if answer.photo_jpeg:
            image = QImage.fromData(answer.photo_jpeg)
            if not image.isNull():
                self.photo.setPixmap(
                    QPixmap.fromImage(image).scaled(
                        PHOTO_W,
                        PHOTO_H,
                        Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation,
                    )
                )

    # --- language -----------------------------------------------------------------------------
    def retranslate(self) -> None:
        self.title.setText(tr("Cek KTP-el"))
        if self.action is not None:
            self.action.setText(tr("Cek KTP-el (F6)"))
        self.hint.setText(
            tr(
                "Tempelkan KTP-el penduduk pada pembaca kartu, atau ketik UID kartu lalu tekan "
                "Cek. Hasilnya hanya tampil di layar dan hilang setelah Selesai."
            )
        )
        self.uid_label.setText(tr("UID kartu:"))
        self.check_button.setText(tr("&Cek"))
        self.done_button.setText(tr("&Selesai"))
        for key, text in (
            ("nama", tr("Nama")),
            ("fate", tr("Status rekaman")),
            ("kecamatan", tr("Kecamatan perekaman")),
            ("recorded", tr("Tanggal perekaman")),
            ("number", tr("Nomor bukti")),
            ("card", tr("UID kartu")),
        ):
            self.form_labels[key].setText(text + ":")

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


def install(window: Any) -> CardCheckScreen:
    """The screen in ``window`` (app/ui/main_window.py): on the stack, behind F6 in the
    navigation (before Kunci and Keluar), fed the card reader's events."""
    screen = CardCheckScreen(window.services, window.tasks)
    window.stack.addWidget(screen)

    def show() -> None:
        # Not while signed out or locked (the sign-in screen is up).
        if window.operator is None or window.stack.currentWidget() is window.signin:
            return
        window._switch(screen)
        screen.entered(window.operator)

    action = window._action("F6", show)
    action.setObjectName("act_card_check")
    separator = next((a for a in window.toolbar.actions() if a.isSeparator()), None)
    if separator is not None:
        window.toolbar.removeAction(action)
        window.toolbar.insertAction(separator, action)
    screen.action = action
    screen.retranslate()
    window.card_bridge.card.connect(screen.on_card)
    window.show_card_check = show
    return screen
