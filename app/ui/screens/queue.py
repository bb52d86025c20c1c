"""Antrian: sealed records by status, attempts and last error — no personal data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.ui.i18n import tr
from app.ui.messages import error_detail, error_text, sync_error_text
from app.ui.receipt import record_number
from app.ui.services import Operator, QueueRow, Services
from app.ui.tasks import TaskManager

Index = QModelIndex | QPersistentModelIndex


class _Progress(QObject):
    step = Signal(int, int)  # done, total; emitted from the export thread


def status_text(status: str) -> str:
    return {
        "sealed": tr("menunggu"),
        "uploaded": tr("terkirim"),
        "purged": tr("terkirim (diarsipkan)"),
        "rejected": tr("ditolak server"),
    }.get(status, status)


def fate_text(fate: str | None, reason: str | None) -> str:
    """What the centre made of a record, in words (issue 12)."""
    if fate == "rerecord":
        return tr("Perlu rekam ulang: %1").replace("%1", reason_text(reason))
    return {
        None: "",
        "received": tr("Diterima pusat"),
        "processed": tr("Diproses"),
        "duplicate": tr("Ganda"),
        "rejected": tr("Ditolak"),
    }.get(fate, fate or "")


def reason_text(reason: str | None) -> str:
    """A back-office reason code in words (server/processing/checks.py)."""
    return {
        "biodata_invalid": tr("biodata tidak sah"),
        "photo_missing": tr("foto tidak ada"),
        "photo_unreadable": tr("foto tidak terbaca"),
        "photo_too_small": tr("foto terlalu kecil"),
        "signature_missing": tr("tanda tangan tidak ada"),
        "signature_invalid": tr("tanda tangan tidak sah"),
        "nik_held": tr("NIK sudah terekam"),
    }.get(reason or "", reason or "-")


class QueueModel(QAbstractTableModel):
    COLUMNS = 6

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[QueueRow] = []

    def set_rows(self, rows: list[QueueRow]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def has_rejected(self) -> bool:
        return any(r.status == "rejected" for r in self.rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else self.COLUMNS

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        return [
            tr("Nomor rekaman"),
            tr("Waktu disimpan"),
            tr("Status"),
            tr("Percobaan"),
            tr("Kesalahan terakhir"),
            tr("Hasil di pusat"),
        ][section]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return record_number(row.uuid)
            if col == 1:
                return row.sealed_at.astimezone().strftime("%d-%m-%Y %H:%M:%S")
            if col == 2:
                return status_text(row.status)
            if col == 3:
                return str(row.attempts)
            if col == 5:
                return fate_text(row.fate, row.fate_reason)
            # The worker's error is English, for the log: the operator reads what happens.
            return sync_error_text(row.last_error, rejected=row.status == "rejected")
        if role == Qt.ItemDataRole.ToolTipRole and col == 0:
            return row.uuid
        if role == Qt.ItemDataRole.ToolTipRole and col == 4:
            return error_detail(row.last_error or "")
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None

    def retranslate(self) -> None:
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, self.COLUMNS - 1)
        if self.rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self.rows) - 1, self.COLUMNS - 1)
            )


class QueueScreen(QWidget):
    send_now = Signal()
    reprint = Signal()

    def __init__(self, services: Services, tasks: TaskManager, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("queue")
        self.services = services
        self.tasks = tasks
        self.operator: Operator | None = None  # set by the main window on entering
        self.model = QueueModel()
        self.title = QLabel()
        self.title.setObjectName("title")
        self.summary = QLabel()
        self.summary.setObjectName("queue_summary")
        self.table = QTableView()
        self.table.setObjectName("queue_table")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.send_button = QPushButton()
        self.send_button.setObjectName("send_now")
        self.refresh_button = QPushButton()
        self.refresh_button.setObjectName("refresh")
        self.export_button = QPushButton()
        self.export_button.setObjectName("export")
        # Technicians only: rejected records wait here until someone sends them again.
        self.requeue_button = QPushButton()
        self.requeue_button.setObjectName("requeue")
        self.requeue_button.hide()
        self.reprint_button = QPushButton()
        self.reprint_button.setObjectName("reprint_receipt")
        self.reprint_button.setEnabled(False)  # until a receipt of this session exists
        for b in (
            self.send_button,
            self.refresh_button,
            self.export_button,
            self.requeue_button,
            self.reprint_button,
        ):
            b.setAutoDefault(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("export_progress")
        self.progress.hide()
        self.status = QLabel()
        # "Kirim sekarang": "Mengirim…", then its result (written by the main window).
        self.send_note = QLabel()
        self.send_note.setObjectName("send_note")
        self.send_note.setWordWrap(True)
        self._refresh_error = ""  # shown by a failed refresh, cleared by the next good one
        self.status.setObjectName("queue_status")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.requeue_button)
        buttons.addWidget(self.reprint_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.send_note)
        layout.addLayout(buttons)
        self.send_button.clicked.connect(self.send_now)
        self.refresh_button.clicked.connect(self.refresh)
        self.export_button.clicked.connect(self.ask_export)
        self.requeue_button.clicked.connect(self.requeue)
        self.reprint_button.clicked.connect(self.reprint)
        self._progress_bridge = _Progress()
        self._progress_bridge.step.connect(self._on_progress)
        self.retranslate()

    def refresh(self) -> None:
        technician = self.operator is not None and self.operator.is_technician
        self.requeue_button.setVisible(technician)
        self.tasks.run_db(lambda: self.services.queue_rows(), self.show_rows, self._refresh_failed)

    def _refresh_failed(self, exc: BaseException) -> None:
        self._refresh_error = error_text(getattr(exc, "code", "store-failed"))
        self.status.setText(self._refresh_error)

    def show_rows(self, rows: list[QueueRow]) -> None:
        if self._refresh_error and self.status.text() == self._refresh_error:
            self.status.setText("")  # the list reads again: its error is no longer true
        self._refresh_error = ""
        self.model.set_rows(rows)
        counts: dict[str, int] = {}
        for r in rows:
            counts[r.status] = counts.get(r.status, 0) + 1
        self.summary.setText(
            tr("Menunggu: %1 · Terkirim: %2 · Ditolak: %3")
            .replace("%1", str(counts.get("sealed", 0)))
            .replace("%2", str(counts.get("uploaded", 0) + counts.get("purged", 0)))
            .replace("%3", str(counts.get("rejected", 0)))
        )
        self.requeue_button.setEnabled(counts.get("rejected", 0) > 0)

    def requeue(self) -> None:
        """Send rejected records again: the selected ones, or every rejected one."""
        operator = self.operator
        if operator is None or not operator.is_technician:
            return
        chosen = sorted(
            {
                row.uuid
                for index in self.table.selectionModel().selectedRows()
                if (row := self.model.rows[index.row()]).status == "rejected"
            }
        )
        uuids: list[str] | None = chosen or None
        self.requeue_button.setEnabled(False)
        self.tasks.run_db(
            lambda: self.services.requeue(operator, uuids), self._requeued, self._requeue_failed
        )

    def _requeue_failed(self, exc: BaseException) -> None:
        self.status.setText(error_text(getattr(exc, "code", "store-failed")))
        self.status.setToolTip(error_detail(getattr(exc, "detail", "")))
        self.requeue_button.setEnabled(self.model.has_rejected())  # the technician may retry

    def _requeued(self, count: int) -> None:
        self.status.setText(
            tr("%1 rekaman yang ditolak akan dikirim ulang.").replace("%1", str(count))
        )
        self.refresh()
        self.send_now.emit()

    def ask_export(self) -> None:
        directory = QFileDialog.getExistingDirectory(self, tr("Pilih folder media lepas"))
        if directory:
            self.export_to(Path(directory))

    def export_to(self, directory: Path) -> None:
        operator = self.operator
        if operator is None:
            return
        self.export_button.setEnabled(False)
        self.progress.setValue(0)
        self.progress.show()
        self.status.setText(tr("Mengekspor…"))
        bridge = self._progress_bridge
        self.tasks.run_export(
            lambda: self.services.export(
                operator, directory, bridge.step.emit, self.tasks.closing.is_set
            ),
            self._exported,
            self._export_failed,
        )

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)

    def _exported(self, count: int) -> None:
        self.export_button.setEnabled(True)
        self.progress.setValue(self.progress.maximum())
        self.status.setText(tr("%1 paket diekspor.").replace("%1", str(count)))

    def _export_failed(self, exc: BaseException) -> None:
        self.export_button.setEnabled(True)
        self.progress.hide()
        self.status.setText(error_text(getattr(exc, "code", "export-failed")))
        self.status.setToolTip(error_detail(getattr(exc, "detail", "") or str(exc)))

    def forget_messages(self) -> None:
        """The export's or re-send's line and its progress: not for the next operator."""
        self.status.setText("")
        self.status.setToolTip("")
        self.send_note.setText("")
        self._refresh_error = ""
        if self.export_button.isEnabled():  # an export still running keeps its bar
            self.progress.hide()

    def retranslate(self) -> None:
        self.title.setText(tr("Antrian pengiriman"))
        self.send_button.setText(tr("&Kirim sekarang"))
        self.refresh_button.setText(tr("&Segarkan"))
        self.export_button.setText(tr("&Ekspor ke folder…"))
        self.requeue_button.setText(tr("Kirim &ulang yang ditolak"))
        self.reprint_button.setText(tr("&Cetak ulang bukti"))
        self.model.retranslate()
        if self.model.rows:
            self.show_rows(self.model.rows)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
