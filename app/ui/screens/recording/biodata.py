"""Step 1, Biodata: the card's fields with inline validation as the operator types."""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QFormLayout, QLabel, QLineEdit, QScrollArea, QVBoxLayout, QWidget

from app.ui.dates import to_display, to_iso
from app.ui.i18n import tr
from app.ui.messages import issue_text
from app.ui.screens.recording.fields import FIELD_ORDER, NOTE_COLOURS, TEXT_FIELDS, field_label
from app.ui.services import Checked, Region, Services
from app.ui.tasks import TaskManager
from app.ui.widgets import ChoiceBox, RegionPicker

NUMBER_FIELDS = ("nik", "no_kk")
NUMBER_SEPARATORS = re.compile(r"[\s.\-/]")


class BiodataStep(QWidget):
    """The card's fields with inline validation as the operator types."""

    def __init__(
        self, services: Services, tasks: TaskManager | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.kabupaten: str | None = None
        self.edits: dict[str, QLineEdit] = {}
        self.combos: dict[str, ChoiceBox] = {}
        self.labels: dict[str, QLabel] = {}
        self.notes: dict[str, QLabel] = {}
        self.touched: set[str] = set()
        self.show_all = False
        self.checked: Checked | None = None
        self.nik_hint = QLabel()
        self.nik_hint.setObjectName("nik_hint")
        self.nik_hint.setWordWrap(True)
        self.region = RegionPicker(
            self._search_regions, run_async=tasks.run_net if tasks is not None else None
        )
        self.region.chosen.connect(lambda _r: self._changed("kode_wilayah"))

        choices = services.choices()
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for name in FIELD_ORDER:
            widget: QWidget
            if name in TEXT_FIELDS:
                edit = QLineEdit()
                edit.setObjectName(name)
                if name in NUMBER_FIELDS:  # before _changed: it reads the cleaned text
                    edit.textEdited.connect(lambda _t, e=edit: self._digits_only(e))
                edit.textEdited.connect(lambda _t, n=name: self._changed(n))
                edit.editingFinished.connect(lambda n=name: self._left(n))
                self.edits[name] = edit
                widget = edit
            elif name == "kode_wilayah":
                widget = self.region
            else:
                combo = ChoiceBox()
                combo.setObjectName(name)
                combo.addItem("")
                combo.addItems(choices.get(name, []))
                combo.currentIndexChanged.connect(lambda _i, n=name: self._changed(n))
                self.combos[name] = combo
                widget = combo
            label = QLabel()
            label.setBuddy(widget if name != "kode_wilayah" else self.region.edit)
            self.labels[name] = label
            note = QLabel()
            note.setObjectName(f"note_{name}")
            note.setWordWrap(True)
            note.hide()
            self.notes[name] = note
            column = QVBoxLayout()
            column.setSpacing(2)
            column.addWidget(widget)
            column.addWidget(note)
            if name == "nik":
                column.addWidget(self.nik_hint)
            form.addRow(label, column)
        # NIK and No. KK: room for the separators of a pasted number ("3603 3212 0890 0007"),
        # taken out as typed, then cut at 16 (a maxLength of 16 cut the digits instead).
        self.edits["nik"].setMaxLength(40)
        self.edits["no_kk"].setMaxLength(40)
        self.edits["rt"].setMaxLength(3)
        self.edits["rw"].setMaxLength(3)
        self.edits["tanggal_lahir"].setPlaceholderText("12-08-1990")
        self.edits["nama"].textEdited.connect(lambda _t: self._upper(self.edits["nama"]))

        inner = QWidget()
        inner.setLayout(form)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(120)
        self._timer.timeout.connect(self.validate)
        self.retranslate()

    @staticmethod
    def _digits_only(edit: QLineEdit) -> None:
        text = edit.text()
        clean = NUMBER_SEPARATORS.sub("", text)[:16]
        if clean != text:
            pos = edit.cursorPosition()
            removed = len(NUMBER_SEPARATORS.findall(text[:pos]))
            edit.setText(clean)
            edit.setCursorPosition(min(pos - removed, len(clean)))

    @staticmethod
    def _upper(edit: QLineEdit) -> None:
        text = edit.text()
        if text != text.upper():
            pos = edit.cursorPosition()
            edit.setText(text.upper())
            edit.setCursorPosition(pos)

    def first_widget(self) -> QWidget:
        return self.edits["nik"]

    def _search_regions(self, query: str) -> list[Region]:
        return self.services.search_regions(query, self.kabupaten)

    def values(self) -> dict[str, str]:
        data = {name: edit.text().strip() for name, edit in self.edits.items()}
        data["tanggal_lahir"] = to_iso(data["tanggal_lahir"])  # typed HH-BB-TTTT, sealed ISO
        data.update({name: combo.currentText() for name, combo in self.combos.items()})
        data["kode_wilayah"] = self.region.region.code if self.region.region else ""
        if not data.get("no_kk"):
            data.pop("no_kk", None)
        return data

    def set_values(self, data: dict[str, Any]) -> None:
        """Fill the form (used when resuming and by tests); marks the fields touched."""
        for name, value in data.items():
            if name == "tanggal_lahir":
                self.edits[name].setText(to_display(str(value)))
            elif name in self.edits:
                self.edits[name].setText(str(value))
            elif name in self.combos:
                self.combos[name].setCurrentText(str(value))
            elif name == "kode_wilayah":
                self.region.pick(self._region(str(value)))
            self.touched.add(name)
        self.validate()

    def _region(self, code: str) -> Region | None:
        name = self.services.region_name(code)
        if not name:
            return None
        return Region(code=code, name=name.split(",")[0], level="desa", path=name)

    def resident_name(self) -> str:
        return self.edits["nama"].text().strip()

    def holds_resident(self) -> bool:
        return bool(self.touched)

    def forget(self) -> None:
        """A draft part: every field emptied, quietly (no validation per field)."""
        widgets: list[QWidget] = [*self.edits.values(), *self.combos.values(), self.region]
        blocked = [w.blockSignals(True) for w in widgets]
        try:
            for edit in self.edits.values():
                edit.clear()
            for combo in self.combos.values():
                combo.setCurrentIndex(0)
                combo.reset_typing()  # the next resident's first letter starts afresh
            self.region.pick(None)
        finally:
            for w, was in zip(widgets, blocked, strict=True):
                w.blockSignals(was)
        self._timer.stop()
        self.touched.clear()
        self.show_all = False
        self.checked = None
        self.nik_hint.setText("")
        for note in self.notes.values():
            note.hide()

    def _changed(self, name: str) -> None:
        if name in self.combos or name == "kode_wilayah":
            self.touched.add(name)
        if name == "nik":
            self._suggest()
        self._timer.start()

    def _left(self, name: str) -> None:
        if self.edits[name].text():
            self.touched.add(name)
        self._timer.start()

    def _suggest(self) -> None:
        nik = self.edits["nik"].text().strip()
        if len(nik) != 16 or not nik.isdigit():
            self.nik_hint.setText("")
            return
        try:
            hints = self.services.suggest_from_nik(nik)
        except Exception:  # a NIK that cannot be decoded: validation says why
            hints = {}
        if not hints:
            self.nik_hint.setText("")
            return
        birth = hints.get("tanggal_lahir")
        sex = hints.get("jenis_kelamin")
        if birth and not self.edits["tanggal_lahir"].text():
            self.edits["tanggal_lahir"].setText(to_display(birth))
            self.touched.add("tanggal_lahir")
        if sex and not self.combos["jenis_kelamin"].currentText():
            self.combos["jenis_kelamin"].setCurrentText(sex)
        parts = []
        if birth:
            parts.append(tr("lahir %1").replace("%1", to_display(birth)))
        if sex:
            parts.append(sex)
        if hints.get("kecamatan"):
            parts.append(tr("Kec. %1").replace("%1", hints["kecamatan"]))
        self.nik_hint.setText(tr("Dari NIK: %1").replace("%1", ", ".join(parts)))

    def validate(self) -> Checked:
        checked = self.services.validate(self.values())
        self.checked = checked
        shown = set(FIELD_ORDER) if self.show_all else self.touched
        # Every issue of a field, errors first: a NIK can disagree with both the birth date
        # and the sex (only the last one used to show).
        by_field: dict[str, list[tuple[str, str]]] = {}
        for kind, issues in (("error", checked.errors), ("warning", checked.warnings)):
            for issue in issues:
                by_field.setdefault(issue.field, []).append(
                    (kind, issue_text(issue.field, issue.code, issue.message))
                )
        for name, note in self.notes.items():
            found = by_field.get(name)
            if not found or name not in shown:
                if note.isVisible():
                    note.hide()
                continue
            kind = found[0][0]
            text = "\n".join(("⚠ " if k == "warning" else "✖ ") + m for k, m in found)
            if note.text() != text or note.property("kind") != kind:
                # A palette, not a style sheet: re-polishing a label per keystroke is slow.
                palette = note.palette()
                palette.setColor(QPalette.ColorRole.WindowText, QColor(NOTE_COLOURS[kind]))
                note.setPalette(palette)
                note.setProperty("kind", kind)
                note.setText(text)
            if not note.isVisible():
                note.show()
        return checked

    def first_error_field(self) -> QWidget | None:
        if self.checked is None:
            return None
        for name in FIELD_ORDER:
            if any(i.field == name for i in self.checked.errors):
                if name in self.edits:
                    return self.edits[name]
                if name in self.combos:
                    return self.combos[name]
                return self.region.edit
        return None

    def retranslate(self) -> None:
        for name, label in self.labels.items():
            label.setText(field_label(name))
        self.region.edit.setPlaceholderText(tr("ketik nama kelurahan/desa, lalu ↓ dan Enter"))
        self._suggest()
