"""Small widgets the screens share: the camera preview and the region picker."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.ui.services import FrameQuality, Region


class Preview(QWidget):
    """Paints the latest camera frame scaled to fit, with the face box on top."""

    painted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.quality: FrameQuality | None = None
        self.placeholder = ""
        self.setMinimumSize(QSize(320, 240))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_frame(self, image: QImage | None, quality: FrameQuality | None) -> None:
        self.image = image
        self.quality = quality
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#202124"))
        if self.image is None or self.image.isNull():
            painter.setPen(QColor("#e8eaed"))
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                self.placeholder,
            )
            painter.end()
            self.painted.emit()
            return
        iw, ih = self.image.width(), self.image.height()
        scale = min(self.width() / iw, self.height() / ih)
        w, h = int(iw * scale), int(ih * scale)
        x, y = (self.width() - w) // 2, (self.height() - h) // 2
        painter.drawImage(QRect(x, y, w, h), self.image)
        q = self.quality
        if q is not None and q.face_box is not None:
            fx, fy, fw, fh = q.face_box
            colour = QColor("#34a853") if q.good else QColor("#fbbc04")
            painter.setPen(QPen(colour, 3))
            painter.drawRect(
                QRect(x + int(fx * scale), y + int(fy * scale), int(fw * scale), int(fh * scale))
            )
        painter.end()
        self.painted.emit()


class RegionPicker(QWidget):
    """Type a kelurahan/desa or kecamatan name; Down moves into the results; Enter picks.

    ``search`` is called with the query and returns regions; the caller decides the order
    (within the station's kabupaten first).
    """

    chosen = Signal(object)  # Region | None
    searched = Signal(str)  # the query whose results are now listed

    def __init__(
        self,
        search: Callable[[str], list[Region]],
        parent: QWidget | None = None,
        run_async: Callable[[Callable[[], list[Region]], Callable[[list[Region]], None]], object]
        | None = None,
    ):
        super().__init__(parent)
        self._search = search
        # A search over the whole country takes ~0.1 s: off the UI thread when we can.
        self._run_async = run_async
        self._query_text = ""
        self.region: Region | None = None
        self.edit = QLineEdit()
        self.edit.setObjectName("wilayah")
        self.results = QListWidget()
        self.results.setObjectName("wilayah_results")
        self.results.setMaximumHeight(110)
        self.results.hide()
        self.current = QLabel()
        self.current.setObjectName("wilayah_current")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.results)
        layout.addWidget(self.current)
        self.setFocusProxy(self.edit)
        self.edit.textEdited.connect(self._query)
        self.edit.installEventFilter(self)
        self.results.installEventFilter(self)
        self.results.itemActivated.connect(self._pick_item)

    def _query(self, text: str) -> None:
        if self.region is not None and text != self.region.name:
            self.region = None
            self.current.setText("")
            self.chosen.emit(None)
        query = text.strip()
        self._query_text = query
        if len(query) < 2:
            self.results.clear()
            self.results.hide()
            return
        if self._run_async is None:
            self._show_results(query, self._search(query))
        else:
            self._run_async(
                lambda: self._search(query), lambda found: self._show_results(query, found)
            )

    def _show_results(self, query: str, found: list[Region]) -> None:
        if query != self._query_text:
            return  # the operator typed on: a newer search is coming
        self.results.clear()
        for region in found:
            item = QListWidgetItem(f"{region.path}  ·  {region.code}")
            item.setData(Qt.ItemDataRole.UserRole, region)
            self.results.addItem(item)
        self.results.setVisible(self.results.count() > 0)
        if self.results.count():
            self.results.setCurrentRow(0)
        self.searched.emit(query)

    def _pick_item(self, item: QListWidgetItem) -> None:
        self.pick(item.data(Qt.ItemDataRole.UserRole))

    def pick(self, region: Region | None) -> None:
        self.region = region
        self.results.hide()
        self.results.clear()
        if region is None:
            self.edit.clear()
            self.current.setText("")
        else:
            self.edit.setText(region.name)
            self.current.setText(f"{region.path} · {region.code}")
            self.edit.setFocus()
        self.chosen.emit(region)

    def eventFilter(self, obj, event):
        if isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            key = event.key()
            if obj is self.edit and self.results.isVisible():
                if key == Qt.Key.Key_Down:
                    self.results.setFocus()
                    if self.results.currentRow() < 0:
                        self.results.setCurrentRow(0)
                    return True
                if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.results.currentItem():
                    self._pick_item(self.results.currentItem())
                    return True
            if obj is self.results:
                if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.results.currentItem():
                    self._pick_item(self.results.currentItem())
                    return True
                if key == Qt.Key.Key_Escape:
                    self.results.hide()
                    self.edit.setFocus()
                    return True
                if key == Qt.Key.Key_Up and self.results.currentRow() == 0:
                    self.edit.setFocus()
                    return True
        return super().eventFilter(obj, event)
