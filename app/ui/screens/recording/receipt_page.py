"""After the seal: the receipt (bukti perekaman) on screen, printed or saved as PDF."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.ui.i18n import tr
from app.ui.messages import error_detail, error_text
from app.ui.receipt import receipt_pdf
from app.ui.services import Sealed
from app.ui.tasks import TaskManager


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

    def forget(self) -> None:
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
