"""ui.json's upgrade steps (app/store/upgrades.py, ``UI_PREFS``) through the GUI's own reader
and writer (app/ui/prefs.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.store.upgrades import FORMAT_KEY, UI_PREFS
from app.ui.prefs import PREFS_FILE, load_prefs, save_prefs


@pytest.mark.parametrize("content", ["", "{not json", "[1, 2]", "null"])
def test_a_damaged_file_means_the_defaults(tmp_path: Path, content: str) -> None:
    (tmp_path / PREFS_FILE).write_text(content)
    assert load_prefs(tmp_path) == {}
    assert save_prefs(tmp_path, language="en") == {"language": "en"}


def test_a_newer_programs_file_keeps_its_format_and_what_this_one_does_not_know(
    tmp_path: Path,
) -> None:
    path = tmp_path / PREFS_FILE
    path.write_text(json.dumps({FORMAT_KEY: 9, "language": "en", "theme": "dark"}))
    save_prefs(tmp_path, language="id")
    assert json.loads(path.read_text()) == {FORMAT_KEY: 9, "language": "id", "theme": "dark"}


@pytest.mark.parametrize(
    ("stored", "read"),
    [("en", "en"), ("id", "id"), ("en_US", "en"), ("id-ID", "id"), ("EN", "en"), ("fr", None),
     (3, None), (None, None)],
)  # fmt: skip
def test_ui_step_1_keeps_the_language_as_a_shipped_code(
    tmp_path: Path, stored: object, read: str | None
) -> None:
    (tmp_path / PREFS_FILE).write_text(json.dumps({"language": stored}))  # format 0
    assert load_prefs(tmp_path).get("language") == read
    save_prefs(tmp_path)
    on_disk = json.loads((tmp_path / PREFS_FILE).read_text())
    assert on_disk[FORMAT_KEY] == UI_PREFS.current == 1
    assert on_disk.get("language") == read
