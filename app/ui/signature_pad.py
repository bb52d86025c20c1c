"""A signature pad: draw with a mouse or a pen tablet, undo/redo strokes, export as PNG."""

from __future__ import annotations

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QTabletEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

Stroke = list[QPointF]


class SignaturePad(QWidget):
    """Strokes in widget coordinates; ``to_png()`` renders them black on white."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._strokes: list[Stroke] = []
        self._redo: list[Stroke] = []
        self._current: Stroke | None = None
        self.setMinimumSize(QSize(360, 140))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAttribute(Qt.WidgetAttribute.WA_TabletTracking, True)
        self.setCursor(Qt.CursorShape.CrossCursor)

    # --- state -----------------------------------------------------------------------------
    def is_empty(self) -> bool:
        return not self._strokes

    def stroke_count(self) -> int:
        return len(self._strokes)

    def clear(self) -> None:
        if self._strokes:
            # Clearing can be undone as one step: keep the strokes, newest last.
            self._redo = list(reversed(self._strokes))
        self._strokes = []
        self._current = None
        self.update()
        self.changed.emit()

    def forget(self) -> None:
        """Clear beyond undo: the resident's signature is gone, "redo" brings nothing back."""
        self._strokes = []
        self._redo = []
        self._current = None
        self.update()
        self.changed.emit()

    def undo(self) -> None:
        if self._strokes:
            self._redo.append(self._strokes.pop())
            self.update()
            self.changed.emit()

    def redo(self) -> None:
        if self._redo:
            self._strokes.append(self._redo.pop())
            self.update()
            self.changed.emit()

    def can_redo(self) -> bool:
        return bool(self._redo)

    def add_stroke(self, points: list[tuple[float, float]]) -> None:
        """Add a whole stroke (used by keyboard-free input devices and by tests)."""
        if len(points) >= 1:
            self._strokes.append([QPointF(x, y) for x, y in points])
            self._redo = []
            self.update()
            self.changed.emit()

    # --- input -----------------------------------------------------------------------------
    def _begin(self, p: QPointF) -> None:
        self._current = [p]
        self._strokes.append(self._current)
        self._redo = []

    def _extend(self, p: QPointF) -> None:
        if self._current is not None:
            self._current.append(p)
            self.update()

    def _end(self) -> None:
        if self._current is not None:
            self._current = None
            self.changed.emit()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin(event.position())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._extend(event.position())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._end()

    def tabletEvent(self, event: QTabletEvent) -> None:
        t = event.type()
        if t == QTabletEvent.Type.TabletPress:
            self._begin(event.position())
        elif t == QTabletEvent.Type.TabletMove and event.pressure() > 0:
            self._extend(event.position())
        elif t == QTabletEvent.Type.TabletRelease:
            self._end()
        event.accept()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Undo):
            self.undo()
        elif event.matches(QKeySequence.StandardKey.Redo):
            self.redo()
        else:
            super().keyPressEvent(event)

    # --- output ----------------------------------------------------------------------------
    def _paint(self, painter: QPainter, scale: float = 1.0) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor("black"), 2.5 * scale)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        for stroke in self._strokes:
            if len(stroke) == 1:
                painter.drawPoint(stroke[0] * scale)
                continue
            path = QPainterPath(stroke[0] * scale)
            for p in stroke[1:]:
                path.lineTo(p * scale)
            painter.drawPath(path)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("white"))
        painter.setPen(QPen(QColor("#9aa5b1"), 1, Qt.PenStyle.DashLine))
        baseline = int(self.height() * 0.75)
        painter.drawLine(16, baseline, self.width() - 16, baseline)
        if self.hasFocus():
            painter.setPen(QPen(self.palette().highlight().color(), 2))
            painter.drawRect(self.rect().adjusted(1, 1, -2, -2))
        self._paint(painter)
        painter.end()

    def bounds(self, margin: int = 12) -> QRect:
        """The strokes' bounding box plus a margin, within the pad."""
        points = [p for stroke in self._strokes for p in stroke]
        if not points:
            return self.rect()
        xs = [p.x() for p in points]
        ys = [p.y() for p in points]
        box = QRect(
            int(min(xs)) - margin,
            int(min(ys)) - margin,
            int(max(xs) - min(xs)) + 2 * margin,
            int(max(ys) - min(ys)) + 2 * margin,
        )
        return box.intersected(self.rect())

    def to_image(self, crop: bool = True) -> QImage:
        """Black strokes on white; cropped to the signature (what the card prints)."""
        area = self.bounds() if crop else self.rect()
        image = QImage(area.size(), QImage.Format.Format_Grayscale8)
        image.fill(QColor("white"))
        painter = QPainter(image)
        painter.translate(-area.x(), -area.y())
        self._paint(painter)
        painter.end()
        return image

    def to_png(self) -> bytes:
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        self.to_image().save(buffer, "PNG")  # type: ignore[call-overload]  # runtime wants str
        buffer.close()
        return bytes(data.data())
