"""The UI's own preferences (the interface language), kept in ``<home>/ui.json``.

Not in the store: nothing here is a record or needs auditing, and a damaged file only means
the defaults. Written atomically by a background task; read once at startup. Its format and
the steps that upgrade an older file: app/store/upgrades.py (``UI_PREFS``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.store.upgrades import FORMAT_KEY, UI_PREFS

PREFS_FILE = UI_PREFS.name


def load_prefs(home: Path) -> dict[str, Any]:
    prefs = UI_PREFS.read(Path(home) / PREFS_FILE)
    prefs.pop(FORMAT_KEY, None)
    return prefs


def save_prefs(home: Path, **changes: Any) -> dict[str, Any]:
    path = Path(home) / PREFS_FILE
    doc = UI_PREFS.read(path)
    doc.update(changes)
    UI_PREFS.write(path, doc)
    doc.pop(FORMAT_KEY, None)
    return doc
