"""Small widgets the screens share: the camera preview, the region picker, the list field
typed like a text field, and the confirmation that does not block the event loop."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QImage,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.ui.i18n import tr
from app.ui.services import FrameQuality, Region


def confirm(
    parent: QWidget, text: str, yes_text: str, no_text: str, on_yes: Callable[[], object]
) -> QMessageBox:
    """Ask before something that loses work: window-modal and shown with ``open()`` (the
    event loop, sync and camera go on); "No" is the default and what Esc answers."""
    box = QMessageBox(parent)
    box.setObjectName("confirm")
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(tr("Konfirmasi"))
    box.setTextFormat(Qt.TextFormat.PlainText)  # the question may name a resident: text
    box.setText(text)
    yes = box.addButton(yes_text, QMessageBox.ButtonRole.YesRole)
    no = box.addButton(no_text, QMessageBox.ButtonRole.NoRole)
    box.setDefaultButton(no)
    box.setEscapeButton(no)
    box.setWindowModality(Qt.WindowModality.WindowModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def finished(_result: int) -> None:
        if box.clickedButton() is yes:
            on_yes()

    box.finished.connect(finished)
    box.open()
    return box


class SingleClicks(QObject):
    """Event filter for buttons: the second click of a double click is dropped."""

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        return event.type() == QEvent.Type.MouseButtonDblClick


class ChoiceBox(QComboBox):
    """A list field typed like a text field, as the value is written on the KK.

    The letters typed since the field got the focus pick the entry they begin (an exact
    match first), whatever the pause between keys; a space is part of the value. QComboBox
    itself opened its list on Space ("CERAI HIDUP"), and the open list ate Tab and the next
    fields' keys; and its type-ahead restarted after 400 ms, so a slow typist jumped to other
    entries. Alt+Down or F4 still open the list; Backspace takes the last letter back.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.typed = ""

    def reset_typing(self) -> None:
        self.typed = ""

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.typed = ""
        super().focusInEvent(event)

    def _find(self, typed: str) -> bool:
        wanted = typed.casefold()
        texts = [self.itemText(i).casefold() for i in range(self.count())]
        for match in (lambda t: t == wanted, lambda t: t.startswith(wanted)):
            for i, text in enumerate(texts):
                if text and match(text):
                    self.setCurrentIndex(i)
                    return True
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        mods = event.modifiers() & ~(
            Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier
        )
        if mods != Qt.KeyboardModifier.NoModifier:
            super().keyPressEvent(event)
            return
        if event.key() == Qt.Key.Key_Backspace:
            self.typed = self.typed[:-1]
            if not self.typed or not self._find(self.typed):
                self.setCurrentIndex(max(self.findText(""), 0))
            event.accept()
            return
        text = event.text()
        if text and text.isprintable():
            if self._find(self.typed + text):
                self.typed += text
            elif text.strip() and self._find(text):
                self.typed = text  # a new start: the old letters fit nothing
            event.accept()
            return
        super().keyPressEvent(event)


class Preview(QWidget):
    """Paints the latest camera frame scaled to fit, with the face box on top."""

    painted = Signal()
    resized = Signal(QSize)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image: QImage | None = None
        self.quality: FrameQuality | None = None
        self.source_width = 0  # the camera frame's width, for the face box's scale
        self.placeholder = ""
        self.setMinimumSize(QSize(320, 240))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def show_frame(
        self, image: QImage | None, quality: FrameQuality | None, source_width: int = 0
    ) -> None:
        self.image = image
        self.quality = quality
        self.source_width = source_width or (image.width() if image is not None else 0)
        self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:
        self.resized.emit(event.size())
        super().resizeEvent(event)

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
        if iw <= self.width() and ih <= self.height():
            w, h = iw, ih  # already scaled on the camera thread: a plain copy
        else:
            fit = min(self.width() / iw, self.height() / ih)
            w, h = int(iw * fit), int(ih * fit)
        x, y = (self.width() - w) // 2, (self.height() - h) // 2
        painter.drawImage(QRect(x, y, w, h), self.image)
        scale = w / (self.source_width or iw)
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

    With ``run_async`` the search runs off the UI thread, SEARCH_DELAY_MS after the last key
    and one at a time: a country-wide search is Python holding the GIL (~5 ms), and one per
    key would only be thrown away while the operator types on. Keys that act on the results
    (Down, Enter) while the results of what was typed are not listed yet are held, with
    every key after them, and replayed in order once they are (or after HOLD_LIMIT_MS if no
    result comes): typing "gunung kaler", Down, Enter, Tab, "ISLAM" faster than the search
    picks the desa and fills the next field, never a stale list's entry or the wrong field.
    """

    chosen = Signal(object)  # Region | None
    searched = Signal(str)  # the query whose results are now listed
    SEARCH_DELAY_MS = 150
    HOLD_LIMIT_MS = 3000

    def __init__(
        self,
        search: Callable[[str], list[Region]],
        parent: QWidget | None = None,
        # run_async(fn, on_done, on_error): fn off the UI thread, a callback back on it.
        run_async: Callable[..., object] | None = None,
    ):
        super().__init__(parent)
        self._search = search
        self._run_async = run_async
        self._query_text = ""  # what is typed, stripped
        self._listed: str | None = None  # the query whose results are listed
        self._searching = False
        self._generation = 0  # bumped by pick(): a search started before it is not listed
        self._held: list[QKeyEvent] = []
        self._replaying = False
        self._delay = QTimer(self)
        self._delay.setSingleShot(True)
        self._delay.setInterval(self.SEARCH_DELAY_MS)
        self._delay.timeout.connect(self._search_now)
        self._hold_limit = QTimer(self)
        self._hold_limit.setSingleShot(True)
        self._hold_limit.setInterval(self.HOLD_LIMIT_MS)
        self._hold_limit.timeout.connect(self._give_up_waiting)
        self.region: Region | None = None
        self.edit = QLineEdit()
        self.edit.setObjectName("wilayah")
        self.results = QListWidget()
        self.results.setObjectName("wilayah_results")
        self.results.setMaximumHeight(110)
        # In the scrolled form, many error lines must not squeeze the list to a few pixels.
        self.results.setMinimumHeight(90)
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

    # --- searching ---------------------------------------------------------------------------
    def pending(self) -> bool:
        """True while the results of what is typed are still to come."""
        return (
            self._run_async is not None
            and len(self._query_text) >= 2
            and self._listed != self._query_text
            and (self._delay.isActive() or self._searching)
        )

    def _query(self, text: str) -> None:
        if self.region is not None and text != self.region.name:
            self.region = None
            self.current.setText("")
            self.chosen.emit(None)
        query = text.strip()
        self._query_text = query
        if len(query) < 2:
            self._delay.stop()
            self._show_results(query, [])
            return
        if self._run_async is None:
            self._show_results(query, self._search(query))
        else:
            self._delay.start()

    def _search_now(self) -> None:
        if self._searching or self._run_async is None:
            return  # the running search's result starts the next one
        query = self._query_text
        if len(query) < 2 or query == self._listed:
            return
        self._searching = True
        generation = self._generation
        self._run_async(
            lambda: self._search(query),
            lambda found: self._searched(generation, query, found),
            lambda _exc: self._searched(generation, query, []),
        )

    def _searched(self, generation: int, query: str, found: list[Region]) -> None:
        self._searching = False
        if generation != self._generation or query != self._query_text:
            if not self._delay.isActive():
                self._search_now()  # the operator typed on while it ran
            return
        self._show_results(query, found)

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
        self._listed = query
        if len(query) >= 2:
            self.searched.emit(query)
        self._replay()

    # --- keys typed ahead of the results -------------------------------------------------------
    def _hold(self, event: QKeyEvent) -> None:
        self._held.append(
            QKeyEvent(
                event.type(),
                event.key(),
                event.modifiers(),
                event.text(),
                event.isAutoRepeat(),
                event.count(),
            )
        )
        if not self._hold_limit.isActive():
            self._hold_limit.start()
        if self._delay.isActive():
            self._delay.stop()  # the operator stopped typing: search now
            self._search_now()

    def _replay(self) -> None:
        """Deliver held keys in order, to whichever widget has the focus by then (a replayed
        Tab moves it on); stop again at a Down or Enter whose results are pending."""
        if self._replaying:
            return
        self._replaying = True
        try:
            while self._held:
                if self.pending() and self._acts_on_results(self._held[0]):
                    # A replayed key changed the query: search now, go on with its results.
                    if self._delay.isActive():
                        self._delay.stop()
                        self._search_now()
                    return
                event = self._held.pop(0)
                target = QApplication.focusWidget()
                if target is not None:
                    QApplication.sendEvent(target, event)
            self._hold_limit.stop()
        finally:
            self._replaying = False

    def _give_up_waiting(self) -> None:
        """No result came in time (a failed worker): the held keys go on as typed."""
        self._delay.stop()
        self._show_results(self._query_text, [])  # nothing stale stays listed to pick from

    def _acts_on_results(self, event: QKeyEvent) -> bool:
        return QApplication.focusWidget() is self.edit and event.key() in (
            Qt.Key.Key_Down,
            Qt.Key.Key_Return,
            Qt.Key.Key_Enter,
            Qt.Key.Key_Tab,  # takes the only match (below)
        )

    def close_list(self) -> None:
        """Esc: hide the results; typing on lists them again."""
        self.results.hide()
        self._listed = None  # the same text typed again (a space) searches again
        self.edit.setFocus()

    # --- picking -------------------------------------------------------------------------------
    def _pick_item(self, item: QListWidgetItem) -> None:
        self.pick(item.data(Qt.ItemDataRole.UserRole))

    def pick(self, region: Region | None) -> None:
        self._delay.stop()  # a search still to come is for text that is gone now
        self._generation += 1
        self.region = region
        self.results.hide()
        self.results.clear()
        if region is None:
            self.edit.clear()
            self.current.setText("")
            self._query_text = ""
        else:
            self.edit.setText(region.name)
            self.current.setText(f"{region.path} · {region.code}")
            self._query_text = region.name.strip()
            self.edit.setFocus()
        self._listed = self._query_text
        self.chosen.emit(region)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            if obj in (self.edit, self.results) and not self._replaying:
                if self._held or (
                    obj is self.edit and self._acts_on_results(event) and self.pending()
                ):
                    self._hold(event)
                    return True
            key = event.key()
            if obj is self.edit and self.results.isVisible():
                if key == Qt.Key.Key_Escape:  # the list closes first, nothing else happens
                    self.close_list()
                    return True
                if key == Qt.Key.Key_Down:
                    self.results.setFocus()
                    if self.results.currentRow() < 0:
                        self.results.setCurrentRow(0)
                    return True
                if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.results.currentItem():
                    self._pick_item(self.results.currentItem())
                    return True
                if key == Qt.Key.Key_Tab and self.results.count() == 1:
                    # Tab out of the field with one match takes it, then moves on.
                    self._pick_item(self.results.item(0))
                    return False
            if obj is self.results:
                if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.results.currentItem():
                    self._pick_item(self.results.currentItem())
                    return True
                if key == Qt.Key.Key_Escape:
                    self.close_list()
                    return True
                if key == Qt.Key.Key_Up and self.results.currentRow() == 0:
                    self.edit.setFocus()
                    return True
        return super().eventFilter(obj, event)
