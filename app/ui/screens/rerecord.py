"""Perlu rekam ulang: the records the centre sent back (issue 12), no personal data.

Each line: the receipt number (the resident holds the same number on the receipt), the date
of the recording, what the centre found and whether the resident was contacted. A supervisor
marks "warga sudah dihubungi" (audited under their name); "Rekam ulang" opens a new recording
whose manifest carries ``rerecord_of`` (the centre then replaces the old record with it).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui.i18n import tr
from app.ui.messages import error_text
from app.ui.screens.queue import fate_text
from app.ui.services import Operator, Services
from app.ui.tasks import TaskManager

# Only these fates may be re-recorded (the centre supersedes them); a rejected record is
# listed for the technician but cannot be re-recorded from here.
REREDCORDABLE = ("rerecord", "duplicate")


class RerecordScreen(QWidget):
    start_recording = Signal()  # the main window opens the recording screen

    def __init__(self, services: Services, tasks: TaskManager, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("rerecord")
        self.services = services
        self.tasks = tasks
        self.operator: Operator | None = None
        self.rows: list[Any] = []
        self.title = QLabel()
        self.title.setObjectName("title")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setObjectName("rerecord_table")
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.contacted_button = QPushButton()
        self.contacted_button.setObjectName("mark_contacted")
        self.rerecord_button = QPushButton()
        self.rerecord_button.setObjectName("start_rerecord")
        self.status = QLabel()
        self.status.setObjectName("rerecord_status")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.rerecord_button)
        buttons.addWidget(self.contacted_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.contacted_button.clicked.connect(self.mark_contacted)
        self.rerecord_button.clicked.connect(self.rerecord)
        self.retranslate()

    def entered(self, operator: Operator | None) -> None:
        """Shown to ``operator``: their buttons at once, the list read again."""
        self.operator = operator
        self.status.setText("")
        self.table.clearSelection()
        self._selection_changed()
        self.refresh()

    def refresh(self) -> None:
        self.tasks.run_db(self.services.rerecord_rows, self.show_rows, self._failed)

    def show_rows(self, rows: list[Any]) -> None:
        self.rows = list(rows)
        self.table.setRowCount(len(self.rows))
        for i, r in enumerate(self.rows):
            done = []
            if r.contacted_at is not None:
                done.append(tr("sudah dihubungi (%1)").replace("%1", r.contacted_by or ""))
            if r.rerecorded_by:
                done.append(tr("sudah direkam ulang"))
            contacted = "; ".join(done)
            cells = [
                r.number,
                r.sealed_at.astimezone().strftime("%d-%m-%Y"),
                fate_text(r.fate, r.reason),
                contacted,
            ]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if j == 0:
                    item.setToolTip(r.uuid)
                item.setData(Qt.ItemDataRole.UserRole, r.uuid)
                self.table.setItem(i, j, item)
        self._selection_changed()

    def _selected(self) -> Any | None:
        rows = self.table.selectionModel().selectedRows()
        return self.rows[rows[0].row()] if rows else None

    def _selection_changed(self) -> None:
        row = self._selected()
        supervisor = self.operator is not None and self.operator.role in (
            "supervisor",
            "technician",
        )
        self.contacted_button.setVisible(supervisor)
        self.contacted_button.setEnabled(
            supervisor and row is not None and row.contacted_at is None
        )
        self.rerecord_button.setEnabled(
            row is not None and row.fate in REREDCORDABLE and not row.rerecorded_by
        )

    def mark_contacted(self) -> None:
        row, operator = self._selected(), self.operator
        if row is None or operator is None:
            return
        self.tasks.run_db(
            lambda: self.services.mark_contacted(operator, row.uuid),
            lambda _none: self._contacted(row.number),
            self._failed,
        )

    def _contacted(self, number: str) -> None:
        self.status.setText(tr("Rekaman %1: warga sudah dihubungi.").replace("%1", number))
        self.refresh()

    def rerecord(self) -> None:
        row = self._selected()
        if row is None:
            return
        self.services.start_rerecording(row.uuid)
        self.status.setText(tr("Perekaman baru menggantikan rekaman %1.").replace("%1", row.number))
        self.start_recording.emit()

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(error_text(getattr(exc, "code", "store-failed")))

    def retranslate(self) -> None:
        self.title.setText(tr("Perlu rekam ulang"))
        self.hint.setText(
            tr(
                "Rekaman yang dikembalikan pusat. Nomor bukti sama dengan nomor pada bukti "
                "perekaman yang dipegang warga."
            )
        )
        self.table.setHorizontalHeaderLabels(
            [tr("Nomor bukti"), tr("Tanggal"), tr("Alasan"), tr("Tindak lanjut")]
        )
        self.contacted_button.setText(tr("Warga sudah &dihubungi"))
        self.rerecord_button.setText(tr("&Rekam ulang"))
        if self.rows:
            self.show_rows(self.rows)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
