"""The biodata step with the real domain rules, typed as an operator types."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox

from app.ui.screens.recording import BiodataStep
from app.ui.station import StationServices
from tests.support.residents import BUDI_LAKI
from tests.ui.conftest import show_active


def make_step(qtbot, tmp_path: Path) -> BiodataStep:
    # Only the domain half of the services is used: the store is opened lazily, never here.
    step = BiodataStep(StationServices(tmp_path / "home"))
    step.kabupaten = "36.03"
    qtbot.addWidget(step)
    step.resize(900, 900)
    show_active(qtbot, step)
    return step


def choose(qtbot, combo: QComboBox, text: str) -> None:
    """Pick a combo entry from the keyboard: focus, type its start, as Qt's combo search does."""
    combo.setFocus()
    qtbot.keyClicks(combo, text)
    assert combo.currentText() == text


def test_nik_decoding_fills_birth_date_and_sex(qtbot, tmp_path):
    step = make_step(qtbot, tmp_path)
    step.edits["nik"].setFocus()
    qtbot.keyClicks(step.edits["nik"], "3603076302000012")  # a woman: day 23 + 40
    assert step.edits["tanggal_lahir"].text() == "2000-02-23"
    assert step.combos["jenis_kelamin"].currentText() == "PEREMPUAN"
    assert "Kronjo" in step.nik_hint.text()


def test_inline_errors_appear_as_you_type_and_clear_when_fixed(qtbot, tmp_path):
    step = make_step(qtbot, tmp_path)
    nik = step.edits["nik"]
    nik.setFocus()
    qtbot.keyClicks(nik, "36033212")
    qtbot.keyClick(nik, Qt.Key.Key_Tab)  # leave the field
    note = step.notes["nik"]
    qtbot.waitUntil(note.isVisible, timeout=2000)
    assert note.text() == "✖ NIK harus 16 angka."
    nik.setFocus()
    qtbot.keyClicks(nik, "08900007")
    qtbot.waitUntil(lambda: not note.isVisible(), timeout=2000)
    # Untouched fields stay quiet until the operator tries to go on.
    assert not step.notes["nama"].isVisible()
    step.show_all = True
    step.validate()
    assert step.notes["nama"].isVisible() and "Wajib diisi" in step.notes["nama"].text()


def test_warning_is_shown_but_does_not_block(qtbot, tmp_path):
    step = make_step(qtbot, tmp_path)
    data = dict(BUDI_LAKI)
    data["jenis_kelamin"] = "PEREMPUAN"  # the NIK says LAKI-LAKI
    step.set_values(data)
    checked = step.validate()
    assert checked.ok
    assert step.notes["nik"].isVisible()
    assert step.notes["nik"].text().startswith("⚠")


def test_region_search_within_kabupaten_by_keyboard(qtbot, tmp_path):
    step = make_step(qtbot, tmp_path)
    edit = step.region.edit
    edit.setFocus()
    qtbot.keyClicks(edit, "kresek")
    results = step.region.results
    assert results.isVisible() and results.count() >= 1
    first = results.item(0).text()
    assert "36.03" in first  # the station's kabupaten (Tangerang) comes first
    qtbot.keyClick(edit, Qt.Key.Key_Down)
    assert results.hasFocus()
    qtbot.keyClick(results, Qt.Key.Key_Return)
    region = step.region.region
    assert region is not None and region.code.startswith("36.03.")
    assert step.values()["kode_wilayah"] == region.code


def test_whole_form_by_keyboard_validates(qtbot, tmp_path):
    step = make_step(qtbot, tmp_path)
    r = BUDI_LAKI
    step.edits["nik"].setFocus()
    qtbot.keyClicks(step.edits["nik"], r["nik"])
    for name in ("nama", "tempat_lahir", "alamat", "rt", "rw", "no_kk"):
        step.edits[name].setFocus()
        qtbot.keyClicks(step.edits[name], r[name])
    choose(qtbot, step.combos["golongan_darah"], "O")
    choose(qtbot, step.combos["agama"], "ISLAM")
    choose(qtbot, step.combos["status_perkawinan"], "KAWIN")
    choose(qtbot, step.combos["pekerjaan"], "PETANI/PEKEBUN")
    choose(qtbot, step.combos["kewarganegaraan"], "WNI")
    step.region.edit.setFocus()
    qtbot.keyClicks(step.region.edit, "36.03.32.2001")
    step.region.edit.clear()
    qtbot.keyClicks(step.region.edit, "Kresek")
    qtbot.keyClick(step.region.edit, Qt.Key.Key_Return)  # first result
    assert step.region.region is not None
    values = step.values()
    assert values["tanggal_lahir"] == r["tanggal_lahir"]  # from the NIK
    assert values["jenis_kelamin"] == "LAKI-LAKI"
    checked = step.validate()
    bad = [(i.field, i.code) for i in checked.errors]
    assert checked.ok, bad
