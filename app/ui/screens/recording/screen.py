"""Perekaman baru: five keyboard-first steps, then the seal and the receipt.

Tab moves between fields, Enter goes on (Ctrl+Enter too), Alt+K goes back, Alt+1..5 jump to
a step already reached. The draft lives only in the steps' widgets (memory) and is forgotten
in one call (``Draft.forget``) on cancel, on sealing and when another operator signs in.
The main window talks to this screen through its public methods only.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.ui.i18n import tr
from app.ui.messages import error_text, issue_text
from app.ui.receipt import qr_data_uri, receipt_html
from app.ui.screens.recording.biodata import BiodataStep
from app.ui.screens.recording.card import CardStep
from app.ui.screens.recording.draft import Draft
from app.ui.screens.recording.photo import PhotoStep
from app.ui.screens.recording.receipt_page import ReceiptStep
from app.ui.screens.recording.review import ReviewStep
from app.ui.screens.recording.signature import SignatureStep
from app.ui.services import CardEvent, Operator, Sealed, Services, StationInfo
from app.ui.tasks import TaskManager
from app.ui.widgets import SingleClicks, confirm


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
        # Everything about the resident: forgotten in one call (start_new, the seal).
        self.draft = Draft()
        self._confirm: QMessageBox | None = None  # the open "discard?" question
        # The last receipt of the session (html, sealed), for "Cetak ulang bukti": memory
        # only, forgotten at sign-out.
        self.last_receipt: tuple[str, Sealed] | None = None
        self.biodata = BiodataStep(services, tasks)
        self.photo = PhotoStep(services, tasks, self.draft)
        self.signature = SignatureStep()
        self.card = CardStep()
        self.review = ReviewStep()
        self.draft.hold(self.biodata, self.photo, self.signature, self.card, self.review)
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
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # it may name the resident
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
        """Forget the draft and the receipt shown; the first step."""
        self.draft.forget()
        self.receipt.forget()
        self.reached = 0
        self.sealing = False
        self._show(self.BIODATA)

    def forget_receipt(self) -> None:
        """Sign-out or another operator: the last receipt names a resident, it goes."""
        self.last_receipt = None
        self.receipt.forget()

    # --- what the main window tells this screen --------------------------------------------
    def set_station(self, info: StationInfo, home: Path) -> None:
        """The station's name for the receipt, where its data lies and whether a supervisor
        allowed receipt PDFs there, its kabupaten first in the desa search."""
        self.station_name = info.name or info.station_id or ""
        self.receipt.station_home = home
        self.receipt.pdf_on_station = info.pdf_on_station
        self.biodata.kabupaten = info.kabupaten_code

    def set_camera(self, choice: str) -> None:
        """The camera chosen in Teknisi: used the next time the photo step opens."""
        self.photo.camera_choice = choice

    def on_card(self, event: CardEvent) -> None:
        self.card.on_card(event)

    def begin_session(self, operator: Operator, sign_in_card: str | None) -> None:
        """``sign_in_card``: the operator's own card, if they signed in with one (left on the
        reader, it is not the resident's)."""
        self.operator = operator
        self.card.sign_in_card = sign_in_card

    def end_session(self) -> None:
        """Sign-out: the draft, the receipt and the camera go."""
        self.start_new()
        self.forget_receipt()
        self.stop_camera()
        self.operator = None

    def stop_camera(self) -> None:
        """Leaving the screen (another screen, a lock, closing): the camera is released."""
        self.photo.stop()

    def clear_message(self) -> None:
        self.message.setText("")

    def has_receipt(self) -> bool:
        """A receipt on screen not yet left by the operator."""
        return self.receipt.sealed is not None

    def show_receipt_page(self) -> None:
        self._show(self.RECEIPT)

    def open(self) -> None:
        """F3: after a receipt a new recording; otherwise the draft where it was left, named
        (F3 does not start afresh)."""
        if self.step() == self.RECEIPT:
            self.start_new()
            return
        resuming = self.has_draft()
        self._show(self.step())
        if resuming:
            name = self.resident_name()
            self.message.setText(
                tr("Melanjutkan rekaman %1 yang belum selesai.").replace("%1", name)
                if name
                else tr("Melanjutkan rekaman yang belum selesai.")
            )

    def loses_draft(self) -> bool:
        """A draft with data that leaving now would drop (one being sealed is not lost)."""
        return self.has_draft() and not self.sealing

    def has_draft(self) -> bool:
        return self.step() != self.RECEIPT and self.draft.holds_resident()

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
        return self.biodata.resident_name()

    def discard_question(self) -> str:
        name = self.resident_name()
        if name:
            return tr("Buang rekaman %1?").replace("%1", name)
        return tr("Buang rekaman yang sedang dibuat?")

    def discard(self) -> None:
        """Drop the draft and go to Beranda (after the operator said so)."""
        if self.sealing:
            return
        self.stop_camera()
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
        token = self.draft.token()

        def work() -> tuple[Sealed, str]:
            result = self.services.enroll(operator, biodata, photo, signature, uid, atr)
            # The receipt's QR code here, on the worker: on the UI thread it was the longest
            # stall of a recording (~30 ms of CPU, and segno's import).
            return result, qr_data_uri(result.uuid)

        def sealed(done: tuple[Sealed, str]) -> None:
            result, qr = done
            if self.draft.is_current(token):
                self._sealed(result, qr)
            else:  # the session ended meanwhile (sign-out): sealed and queued, not shown
                self.sealed.emit(result)

        def failed(exc: BaseException) -> None:
            if self.draft.is_current(token):
                self._seal_failed(exc)

        self.tasks.run_db(work, sealed, failed)

    def _sealed(self, sealed: Sealed, qr: str | None = None) -> None:
        self.sealing = False
        html_text = receipt_html(
            sealed, self.operator.username if self.operator else "", self.station_name, qr
        )
        # The draft leaves memory now: only the receipt's few fields stay.
        self.draft.forget()
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
