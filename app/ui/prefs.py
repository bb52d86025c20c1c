"""The UI's own preferences (the interface language), kept in ``<home>/ui.json``.

Not in the store: nothing here is a record or needs auditing, and a damaged file only means
the defaults. Written atomically by a background task; read once at startup.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

PREFS_FILE = "ui.json"


def load_prefs(home: Path) -> dict[str, Any]:
    try:
        data = json.loads((Path(home) / PREFS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_prefs(home: Path, **changes: Any) -> dict[str, Any]:
    home = Path(home)
    prefs = load_prefs(home)
    prefs.update(changes)
    home.mkdir(parents=True, exist_ok=True)
    tmp = home / (PREFS_FILE + ".tmp")
    tmp.write_text(json.dumps(prefs, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, home / PREFS_FILE)
    return prefs
