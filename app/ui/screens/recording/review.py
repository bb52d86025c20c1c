"""Step 5, Tinjau & simpan: everything about the resident on one page before the seal.

The resident's data is typed by people and read from cards: it is text, never markup. Every
value goes into the page's HTML escaped.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QTextBrowser, QVBoxLayout, QWidget

from app.ui.dates import to_display
from app.ui.i18n import tr
from app.ui.screens.recording.fields import FIELD_ORDER, NOTE_COLOURS, field_label
from app.ui.services import PhotoResult


class ReviewStep(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.summary = QTextBrowser()
        self.summary.setObjectName("summary")
        self.photo = QLabel()
        self.photo.setFixedSize(150, 200)
        self.signature = QLabel()
        self.signature.setFixedSize(220, 90)
        self.signature.setStyleSheet("background: white; border: 1px solid #9aa0a6")
        self.error = QLabel()
        self.error.setObjectName("seal_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c5221f")
        side = QVBoxLayout()
        side.addWidget(self.photo)
        side.addWidget(self.signature)
        side.addStretch(1)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.error)

    def first_widget(self) -> QWidget:
        return self.summary

    def forget(self) -> None:
        """A draft part: the resident shown here (biodata, photo, signature) goes."""
        self.summary.clear()
        self.photo.clear()
        self.signature.clear()
        self.error.setText("")

    def holds_resident(self) -> bool:
        return False  # built from the other parts: nothing of its own to lose

    def show_draft(
        self,
        values: dict[str, str],
        region: str,
        photo: PhotoResult | None,
        signature: QImage,
        card_uid: str | None,
        warnings: tuple[tuple[str, str], ...] = (),  # (field, text)
    ) -> None:
        rows = []
        for name in FIELD_ORDER:
            value = values.get(name, "")
            if name == "kode_wilayah":
                value = f"{region} ({value})" if region else value
            elif name == "tanggal_lahir":
                value = to_display(value)
            rows.append(
                f"<tr><td>{html.escape(field_label(name).replace('&', ''))}</td>"
                f"<td><b>{html.escape(value)}</b></td></tr>"
            )
        rows.append(
            f"<tr><td>{html.escape(tr('Kartu'))}</td>"
            f"<td><b>{html.escape(card_uid or tr('tidak dikaitkan'))}</b></td></tr>"
        )
        # Every warning, named by its field: the last look before the record is sealed.
        notes = ""
        if warnings:
            items = "".join(
                f"<li>{html.escape(field_label(f).replace('&', ''))}: {html.escape(t)}</li>"
                for f, t in warnings
            )
            notes = (
                f"<p style='color:{NOTE_COLOURS['warning']}'><b>"
                f"{html.escape(tr('Perhatian sebelum disimpan:'))}</b></p><ul>{items}</ul>"
            )
        self.summary.setHtml(
            f"<h3>{html.escape(tr('Periksa sekali lagi sebelum disimpan permanen'))}</h3>{notes}"
            f"<table cellpadding='3'>{''.join(rows)}</table>"
        )
        if photo is not None and photo.jpeg:
            self.photo.setPixmap(
                QPixmap.fromImage(QImage.fromData(photo.jpeg)).scaled(
                    self.photo.size(), Qt.AspectRatioMode.KeepAspectRatio
                )
            )
        else:
            self.photo.clear()  # retaken since: the old photo is not the one to be sealed
        self.signature.setPixmap(
            QPixmap.fromImage(signature).scaled(
                self.signature.size(), Qt.AspectRatioMode.KeepAspectRatio
            )
        )
        self.error.setText("")
