"""The biodata step with the real domain rules, typed as an operator types."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox

from app.ui.screens.recording import BiodataStep
from app.ui.station import StationServices
from app.ui.tasks import TaskManager
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
    """Pick a combo entry from the keyboard: focus, type its start (``widgets.ChoiceBox``)."""
    combo.setFocus()
    qtbot.keyClicks(combo, text)
    assert combo.currentText() == text


def test_nik_decoding_fills_birth_date_and_sex(qtbot, tmp_path):
    step = make_step(qtbot, tmp_path)
    step.edits["nik"].setFocus()
    qtbot.keyClicks(step.edits["nik"], "3603076302000012")  # a woman: day 23 + 40
    assert step.edits["tanggal_lahir"].text() == "23-02-2000"  # as on the KK
    assert step.values()["tanggal_lahir"] == "2000-02-23"  # validated and sealed as ISO
    assert step.combos["jenis_kelamin"].currentText() == "PEREMPUAN"
    assert "Kronjo" in step.nik_hint.text()


def test_inline_errors_appear_as_you_type_and_clear_when_fixed(qtbot, tmp_path):
    step = make_step(qtbot, tmp_path)
    nik = step.edits["nik"]
    nik.setFocus()
    qtbot.keyClicks(nik, "36033212")
    qtbot.keyClick(nik, Qt.Key.Key_Tab)  # leave the field
    note = step.notes["nik"]
    qtbot.waitUntil(note.isVisible, timeout=20000)
    assert note.text() == "✖ NIK harus 16 angka."
    nik.setFocus()
    qtbot.keyClicks(nik, "08900007")
    qtbot.waitUntil(lambda: not note.isVisible(), timeout=20000)
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


# --- the region search off the UI thread: typing ahead of its results -----------------------


def make_async_step(qtbot, tmp_path: Path) -> tuple[BiodataStep, TaskManager]:
    """The step as the app builds it: region searches on a worker, results back later."""
    tasks = TaskManager()
    step = BiodataStep(StationServices(tmp_path / "home"), tasks=tasks)
    step.kabupaten = "36.03"
    qtbot.addWidget(step)
    step.resize(900, 900)
    show_active(qtbot, step)
    return step, tasks


def gunung_kaler_desa(step: BiodataStep) -> list[str]:
    return [r.code for r in step.services.search_regions("Gunung Kaler", "36.03")]


def test_typing_fast_through_the_region_field_loses_and_reorders_nothing(qtbot, tmp_path):
    """The whole form typed without a pause: the Down, Down, Enter after the region name come
    before any search result, and so do the Tab and the fields after it."""
    step, tasks = make_async_step(qtbot, tmp_path)
    r = BUDI_LAKI
    step.edits["nik"].setFocus()
    typed: list[str | Qt.Key] = [
        r["nik"], Qt.Key.Key_Tab,
        "budi santoso", Qt.Key.Key_Tab,
        r["tempat_lahir"], Qt.Key.Key_Tab,
        Qt.Key.Key_Tab,  # tanggal_lahir: from the NIK
        Qt.Key.Key_Tab,  # jenis_kelamin: from the NIK
        "O", Qt.Key.Key_Tab,
        r["alamat"], Qt.Key.Key_Tab,
        r["rt"], Qt.Key.Key_Tab,
        r["rw"], Qt.Key.Key_Tab,
        "Gunung Kaler", Qt.Key.Key_Down, Qt.Key.Key_Down, Qt.Key.Key_Return, Qt.Key.Key_Tab,
        "ISLAM", Qt.Key.Key_Tab,
        "KAWIN", Qt.Key.Key_Tab,
        "PETANI/PEKEBUN", Qt.Key.Key_Tab,
        "WNI", Qt.Key.Key_Tab,
        r["no_kk"],
    ]  # fmt: skip
    for item in typed:
        # Sent to whichever widget has the focus, as the keyboard does; no event loop turn
        # between keys, so no search result can arrive in between.
        widget = QApplication.focusWidget()
        assert widget is not None
        if isinstance(item, str):
            qtbot.keyClicks(widget, item)
        else:
            qtbot.keyClick(widget, item)
    assert step.region.region is None  # the search has not answered yet: keys are held
    qtbot.waitUntil(lambda: not step.region._held, timeout=10000)
    expected = gunung_kaler_desa(step)
    assert len(expected) >= 2
    assert step.region.region is not None and step.region.region.code == expected[1]
    values = step.values()
    assert values == {
        "nik": r["nik"],
        "nama": "BUDI SANTOSO",
        "tempat_lahir": r["tempat_lahir"],
        "tanggal_lahir": r["tanggal_lahir"],
        "jenis_kelamin": "LAKI-LAKI",
        "golongan_darah": "O",
        "alamat": r["alamat"],
        "rt": r["rt"],
        "rw": r["rw"],
        "kode_wilayah": expected[1],
        "agama": "ISLAM",
        "status_perkawinan": "KAWIN",
        "pekerjaan": "PETANI/PEKEBUN",
        "kewarganegaraan": "WNI",
        "no_kk": r["no_kk"],
    }
    assert QApplication.focusWidget() is step.edits["no_kk"]
    tasks.shutdown()


def test_keys_on_a_stale_result_list_wait_for_the_new_results(qtbot, tmp_path):
    step, tasks = make_async_step(qtbot, tmp_path)
    picker = step.region
    picker.edit.setFocus()
    qtbot.keyClicks(picker.edit, "Gunung")
    qtbot.waitUntil(lambda: picker.results.isVisible() and not picker.pending(), timeout=10000)
    stale = [picker.results.item(i).text() for i in range(picker.results.count())]
    # Typed on, and Enter before the new search answers: Enter is for the new list.
    qtbot.keyClicks(picker.edit, " Kaler")
    assert picker.pending()
    qtbot.keyClick(picker.edit, Qt.Key.Key_Return)
    assert picker.region is None
    qtbot.waitUntil(lambda: picker.region is not None, timeout=10000)
    assert picker.region.code == gunung_kaler_desa(step)[0]
    assert stale[0] != picker.region.path  # the stale list's first entry was another place
    tasks.shutdown()


def test_held_keys_go_on_when_the_search_fails(qtbot, tmp_path):
    step, tasks = make_async_step(qtbot, tmp_path)
    picker = step.region

    def broken(_query: str) -> list:
        raise RuntimeError("region data unreadable")

    picker._search = broken
    # Held keys give up waiting after the hold limit (3 s): made a minute here, so "at once"
    # below is told from "after the limit" with room for a loaded machine.
    picker._hold_limit.setInterval(60_000)
    picker.edit.setFocus()
    qtbot.keyClicks(picker.edit, "Gunung Kaler")
    qtbot.keyClick(picker.edit, Qt.Key.Key_Down)
    qtbot.keyClick(picker.edit, Qt.Key.Key_Tab)
    qtbot.keyClicks(step.region.edit, "ISLAM")  # still held: the focus has not moved yet
    # The failure answers at once: no waiting for the hold limit.
    qtbot.waitUntil(lambda: not picker._held, timeout=20000)
    assert picker.region is None and not picker.results.isVisible()
    assert step.combos["agama"].currentText() == "ISLAM"
    tasks.shutdown()
