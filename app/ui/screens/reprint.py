"""Cetak ulang bukti: the last receipt of the session again, from Beranda or Antrian.

The receipt is kept in memory only (the station cannot read a sealed record back, and must
hold no personal data in clear on its disk): this dialog shows what the recording screen kept
and is gone with it at sign-out.
"""

from __future__ import annotations

from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget

from app.ui.i18n import tr
from app.ui.screens.recording.receipt_page import ReceiptStep
from app.ui.services import Sealed
from app.ui.tasks import TaskManager


class ReprintDialog(QDialog):
    def __init__(
        self, tasks: TaskManager, html_text: str, sealed: Sealed, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reprint")
        self.setWindowTitle(tr("Cetak ulang bukti"))
        self.receipt = ReceiptStep(tasks)
        self.receipt.new_button.hide()
        self.receipt.home_button.hide()
        self.receipt.show_receipt(html_text, sealed)
        self.receipt.status.setText("")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.receipt, 1)
        layout.addWidget(buttons)
        self.resize(560, 520)
        self.finished.connect(lambda _r: self.receipt.forget())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.receipt.print_button.setFocus()
