"""Step 3, Tanda tangan: the pad with undo, redo and clear."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.ui.i18n import tr
from app.ui.signature_pad import SignaturePad


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

    def forget(self) -> None:
        """A draft part: the strokes go, and "Kembalikan coretan" cannot bring them back."""
        self.pad.forget()

    def holds_resident(self) -> bool:
        return not self.pad.is_empty()

    def retranslate(self) -> None:
        self.info.setText(
            tr(
                "Pemohon menandatangani di bantalan tanda tangan (pena atau mouse). Ctrl+Z mengurungkan coretan terakhir."
            )
        )
        self.clear_button.setText(tr("&Hapus"))
        self.undo_button.setText(tr("Urung&kan coretan"))
        self.redo_button.setText(tr("Kembalikan &coretan"))
