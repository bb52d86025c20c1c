"""Step 4, Kartu (optional): the card placed on the reader while this step is on screen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from app.ui.i18n import tr
from app.ui.messages import error_text
from app.ui.services import CardEvent


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
        self.forget_button.clicked.connect(self.forget)
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

    def forget(self) -> None:
        """Lupakan kartu, and a draft part: the linked card goes (the card's own events stay)."""
        self.uid = self.atr = None
        self.retranslate()

    def holds_resident(self) -> bool:
        return self.uid is not None

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
