"""Teknisi's staff cards: "Kaitkan kartu" (the card on the reader becomes an account's, with a
PIN typed twice), "Lepas kartu", "Buka kunci akun" after five failed sign-ins; audited under
the technician by the store."""

from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from app.ui.i18n import tr
from app.ui.messages import error_text
from app.ui.services import CardEvent, Operator, Services
from app.ui.tasks import TaskManager


class StaffCardsSection(QGroupBox):
    def __init__(self, services: Services, tasks: TaskManager, parent: QWidget | None = None):
        super().__init__(parent)
        self.services = services
        self.tasks = tasks
        self.operator: Operator | None = None
        self.card_user = QComboBox()
        self.card_user.setObjectName("card_user")
        self.card_pin = QLineEdit()
        self.card_pin.setObjectName("card_pin")
        self.card_pin2 = QLineEdit()
        self.card_pin2.setObjectName("card_pin2")
        for pin in (self.card_pin, self.card_pin2):
            pin.setEchoMode(QLineEdit.EchoMode.Password)
            pin.setMaxLength(8)
        self.card_bind = QPushButton()
        self.card_bind.setObjectName("card_bind")
        self.card_unbind = QPushButton()
        self.card_unbind.setObjectName("card_unbind")
        self.card_unlock = QPushButton()
        self.card_unlock.setObjectName("account_unlock")
        self.card_status = QLabel()
        self.card_status.setObjectName("card_status")
        self.card_status.setWordWrap(True)
        self.card_user_label, self.card_pin_label, self.card_pin2_label = (
            QLabel(),
            QLabel(),
            QLabel(),
        )
        self.card_user_label.setBuddy(self.card_user)
        self.card_pin_label.setBuddy(self.card_pin)
        self.card_pin2_label.setBuddy(self.card_pin2)
        self.reader_card_uid: str | None = None  # the card on the reader now
        f = QFormLayout(self)
        f.addRow(self.card_user_label, self.card_user)
        f.addRow(self.card_pin_label, self.card_pin)
        f.addRow(self.card_pin2_label, self.card_pin2)
        card_buttons = QHBoxLayout()
        card_buttons.addWidget(self.card_bind)
        card_buttons.addWidget(self.card_unbind)
        card_buttons.addWidget(self.card_unlock)
        f.addRow("", card_buttons)
        f.addRow(self.card_status)
        for b in (self.card_bind, self.card_unbind, self.card_unlock):
            b.setAutoDefault(True)
        self.card_bind.clicked.connect(self.bind_card)
        self.card_pin2.returnPressed.connect(self.bind_card)
        self.card_unbind.clicked.connect(self.unbind_card)
        self.card_unlock.clicked.connect(self.unlock_account)
        self.retranslate()

    def on_card(self, event: CardEvent) -> None:
        self.reader_card_uid = event.uid if event.present and event.uid else None

    def forget_pins(self) -> None:
        self.card_pin.clear()
        self.card_pin2.clear()

    def forget_messages(self) -> None:
        self.card_status.setText("")
        self.card_status.setToolTip("")

    def refresh_accounts(self) -> None:
        operator = self.operator
        if operator is None:
            return
        self.tasks.run_db(
            lambda: self.services.operator_names(operator),
            self._show_accounts,
            lambda e: self.card_status.setText(error_text(getattr(e, "code", "unexpected"))),
        )

    def _show_accounts(self, accounts: list[tuple[str, str, bool, bool]]) -> None:
        current = self.card_user.currentData()
        self.card_user.clear()
        for username, role, has_card, locked in accounts:
            label = f"{username} ({role})" + (" — " + tr("sudah berkartu") if has_card else "")
            label += (" — " + tr("terkunci")) if locked else ""
            self.card_user.addItem(label, username)
        if current:
            self.card_user.setCurrentIndex(max(0, self.card_user.findData(current)))

    def bind_card(self) -> None:
        """The card on the reader now becomes the chosen account's, with the PIN typed twice
        (checked here first, then by the store)."""
        operator, username = self.operator, self.card_user.currentData()
        pin, again = self.card_pin.text(), self.card_pin2.text()
        uid = self.reader_card_uid
        if operator is None or not username:
            return
        if uid is None:
            self.card_status.setText(error_text("no-card-on-reader"))
            return
        if pin != again:
            self.card_pin.clear()
            self.card_pin2.clear()
            self.card_status.setText(error_text("pin-mismatch"))
            self.card_pin.setFocus()
            return
        self.card_bind.setEnabled(False)
        self.tasks.run_db(
            lambda: self.services.bind_operator_card(operator, username, uid, pin),
            lambda _r: self._card_done(
                tr("Kartu %1 dikaitkan ke %2").replace("%1", uid).replace("%2", username)
            ),
            self._card_failed,
        )

    def unbind_card(self) -> None:
        operator, username = self.operator, self.card_user.currentData()
        if operator is None or not username:
            return
        self.card_unbind.setEnabled(False)
        self.tasks.run_db(
            lambda: self.services.unbind_operator_card(operator, username),
            lambda had: self._card_done(
                tr("Kartu %1 dilepas").replace("%1", username)
                if had
                else tr("%1 tidak punya kartu").replace("%1", username)
            ),
            self._card_failed,
        )

    def unlock_account(self) -> None:
        """Lift the lock of the chosen account (too many failed sign-ins); audited."""
        operator, username = self.operator, self.card_user.currentData()
        if operator is None or not username:
            return
        self.card_unlock.setEnabled(False)
        self.tasks.run_db(
            lambda: self.services.unlock_operator(operator, username),
            lambda _r: self._card_done(tr("Akun %1 dibuka kembali").replace("%1", username)),
            self._card_failed,
        )

    def _card_done(self, text: str) -> None:
        self.card_bind.setEnabled(True)
        self.card_unbind.setEnabled(True)
        self.card_unlock.setEnabled(True)
        self.card_pin.clear()
        self.card_pin2.clear()
        self.card_status.setText(text)
        self.refresh_accounts()

    def _card_failed(self, exc: BaseException) -> None:
        self.card_bind.setEnabled(True)
        self.card_unbind.setEnabled(True)
        self.card_unlock.setEnabled(True)
        self.card_pin.clear()
        self.card_pin2.clear()
        self.card_status.setText(error_text(getattr(exc, "code", "unexpected")))

    def retranslate(self) -> None:
        self.setTitle(tr("Kartu petugas"))
        self.card_user_label.setText(tr("A&kun"))
        self.card_pin_label.setText(tr("P&IN baru"))
        self.card_pin2_label.setText(tr("Ulangi PI&N"))
        self.card_bind.setText(tr("Kaitkan kar&tu"))
        self.card_unbind.setText(tr("&Lepas kartu"))
        self.card_unlock.setText(tr("B&uka kunci akun"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
