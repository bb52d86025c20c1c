"""Masuk: username + password, or operator card + PIN."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.i18n import tr
from app.ui.messages import error_text
from app.ui.services import CardEvent, Operator, Services
from app.ui.tasks import TaskManager


class SignInScreen(QWidget):
    signed_in = Signal(object)  # Operator

    def __init__(self, services: Services, tasks: TaskManager, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("signin")
        self.services = services
        self.tasks = tasks
        self.card_uid: str | None = None
        self._via_card = False  # the try under way is the card's (PIN), not the password's
        self.locked_for: Operator | None = None
        self.locked_idle = False  # locked by the idle timer (not Ctrl+L / Kunci)
        self.no_accounts = False

        self.title = QLabel()
        self.title.setObjectName("title")
        self.subtitle = QLabel()
        self.subtitle.setWordWrap(True)
        self.username = QLineEdit()
        self.username.setObjectName("username")
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.submit = QPushButton()
        self.submit.setObjectName("submit")
        self.submit.setDefault(True)
        self.username_label = QLabel()
        self.username_label.setBuddy(self.username)
        self.password_label = QLabel()
        self.password_label.setBuddy(self.password)

        self.card_status = QLabel()
        self.card_status.setObjectName("card_status")
        self.card_status.setWordWrap(True)
        self.pin = QLineEdit()
        self.pin.setObjectName("pin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(12)
        self.pin_label = QLabel()
        self.pin_label.setBuddy(self.pin)
        self.card_submit = QPushButton()
        self.card_submit.setObjectName("card_submit")

        self.error = QLabel()
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.hint = QLabel()
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        box = QFrame()
        box.setObjectName("card")
        box.setMinimumWidth(420)
        box.setMaximumWidth(520)
        form = QFormLayout()
        form.addRow(self.username_label, self.username)
        form.addRow(self.password_label, self.password)
        form.addRow("", self.submit)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        form2 = QFormLayout()
        form2.addRow(self.pin_label, self.pin)
        form2.addRow("", self.card_submit)
        inner = QVBoxLayout(box)
        inner.addWidget(self.title)
        inner.addWidget(self.subtitle)
        inner.addLayout(form)
        inner.addWidget(line)
        inner.addWidget(self.card_status)
        inner.addLayout(form2)
        inner.addWidget(self.error)
        inner.addWidget(self.hint)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)

        self.setTabOrder(self.username, self.password)
        self.setTabOrder(self.password, self.submit)
        self.setTabOrder(self.submit, self.pin)
        self.setTabOrder(self.pin, self.card_submit)

        self.submit.clicked.connect(self._submit_password)
        self.password.returnPressed.connect(self._submit_password)
        self.username.returnPressed.connect(self.password.setFocus)
        self.card_submit.clicked.connect(self._submit_card)
        self.pin.returnPressed.connect(self._submit_card)
        self._error_code: str | None = None
        self.retranslate()
        self._update_card()

    # --- state -----------------------------------------------------------------------------
    def reset(self, locked_for: Operator | None = None, idle: bool = False) -> None:
        """Show the empty form; ``locked_for`` = this operator's session is locked (``idle``:
        by the idle timer, else by Ctrl+L / Kunci)."""
        self.locked_for = locked_for
        self.locked_idle = idle
        self.password.clear()
        self.pin.clear()
        self._set_error(None)
        if locked_for is not None:
            self.username.setText(locked_for.username)
            self.password.setFocus()
        else:
            self.username.clear()
            self.username.setFocus()
        self.retranslate()

    def show_accounts(self, count: int) -> None:
        self.no_accounts = count == 0
        self.retranslate()

    def on_card(self, event: CardEvent) -> None:
        self.card_uid = event.uid if event.present and event.uid else None
        self._update_card()
        if self.card_uid and self.isVisible():
            self.pin.setFocus()

    def _update_card(self) -> None:
        enabled = self.card_uid is not None
        self.pin.setEnabled(enabled)
        self.card_submit.setEnabled(enabled)
        if enabled:
            self.card_status.setText(
                tr("Kartu operator terbaca: %1").replace("%1", self.card_uid or "")
            )
        else:
            self.card_status.setText(
                tr("Atau tempelkan kartu operator pada pembaca, lalu ketik PIN.")
            )

    def _set_error(self, code: str | None, detail: str = "") -> None:
        self._error_code = code
        self._error_detail = detail
        self.error.setText(error_text(code, detail) if code else "")
        self.error.setVisible(code is not None)

    # --- actions ---------------------------------------------------------------------------
    def _busy(self, busy: bool) -> None:
        for w in (self.submit, self.card_submit, self.username, self.password, self.pin):
            w.setEnabled(not busy)
        if not busy:
            self._update_card()

    def _submit_password(self) -> None:
        username = self.username.text().strip()
        password = self.password.text()
        if not username:
            self._set_error("username-empty")
            self.username.setFocus()
            return
        if not password:
            self._set_error("password-empty")
            self.password.setFocus()
            return
        self._busy(True)
        self.tasks.run_db(
            lambda: self.services.sign_in_password(username, password),
            self._done,
            self._failed,
        )

    def _submit_card(self) -> None:
        uid = self.card_uid
        pin = self.pin.text()
        if uid is None:
            return
        if not pin:
            self._set_error("pin-empty")
            self.pin.setFocus()
            return
        self._busy(True)
        self._via_card = True
        self.tasks.run_db(lambda: self.services.sign_in_card(uid, pin), self._done, self._failed)

    def _done(self, operator: Operator) -> None:
        self._busy(False)
        if self.locked_for is not None and operator.username != self.locked_for.username:
            # Another operator takes over: the locked session's draft is dropped by the window.
            pass
        self.password.clear()
        self.pin.clear()
        self._set_error(None)
        self.signed_in.emit(operator)

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        code = getattr(exc, "code", None) or "sign-in-failed"
        self._set_error(code, getattr(exc, "detail", ""))
        self.password.clear()
        self.pin.clear()
        # Back to the field just used (it lost the focus while disabled for the try).
        via_card, self._via_card = self._via_card, False
        (self.pin if self.card_uid and via_card else self.password).setFocus()

    # --- language --------------------------------------------------------------------------
    def retranslate(self) -> None:
        self.title.setText(tr("Masuk"))
        if self.locked_for is not None and self.locked_idle:
            self.subtitle.setText(
                tr("Layar dikunci karena tidak ada aktivitas. Masuk lagi untuk melanjutkan.")
            )
        elif self.locked_for is not None:
            self.subtitle.setText(tr("Layar dikunci. Masuk lagi untuk melanjutkan."))
        else:
            self.subtitle.setText(tr("Stasiun perekaman KTP-el. Masuk dengan akun operator."))
        self.username_label.setText(tr("&Nama pengguna"))
        self.password_label.setText(tr("&Kata sandi"))
        self.submit.setText(tr("&Masuk"))
        self.pin_label.setText(tr("P&IN"))
        self.card_submit.setText(tr("Masuk dengan &kartu"))
        hint = self.services.demo_hint
        if hint:
            self.hint.setText(
                tr("Mode demo: masuk sebagai %1 dengan kata sandi %2")
                .replace("%1", hint[0])
                .replace("%2", hint[1])
            )
        elif self.no_accounts:
            self.hint.setText(
                tr(
                    "Belum ada akun di stasiun ini. Teknisi membuatnya dengan: "
                    "ektp-station operator add --username NAMA --role technician"
                )
            )
        self.hint.setVisible(bool(hint) or self.no_accounts)
        self._update_card()
        if self._error_code:
            self._set_error(self._error_code, self._error_detail)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
