"""The station's small files that outlive a program version, and every step that upgrades them.

As Picard's ``config_upgrade.py`` does: each change of a stored format is one numbered step,
registered here and tested on its own (tests/store/test_upgrades.py). A file names its format
(``"format": N``); reading it runs, in order, the steps above N, and writing stores the newest
N. A file from before formats existed is format 0. A file written by a newer program (a
station downgraded by a technician) is read for what this program knows and never upgraded
"down".

The database upgrades the same way through its Alembic migrations (app/store/migrations/,
one revision per change, the ``setting`` table's stored values among them).

Here: ``ui.json`` (the interface language, app/ui/prefs.py) and ``sync-state.json`` (the
sync figures, app/sync/state.py). Neither holds personal data.
"""

from __future__ import annotations

import json
import logging
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

Doc = dict[str, Any]
Step = Callable[[Doc], Doc]
FORMAT_KEY = "format"


class FileFormat:
    """A JSON file of the station home and the steps that bring an older one up to date."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.steps: dict[int, Step] = {}

    @property
    def current(self) -> int:
        return max(self.steps, default=0)

    def step(self, number: int) -> Callable[[Step], Step]:
        """Register the step that makes format ``number`` from format ``number - 1``."""

        def register(fn: Step) -> Step:
            if number in self.steps or number != len(self.steps) + 1:
                raise ValueError(f"{self.name}: step {number} out of order")
            self.steps[number] = fn
            return fn

        return register

    def upgrade(self, doc: Doc) -> Doc:
        """``doc`` in the current format (a copy; ``doc`` itself is left alone)."""
        doc = dict(doc)
        version = doc.get(FORMAT_KEY, 0)
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            version = 0  # a damaged format number: every step (each accepts any input)
        for number in sorted(self.steps):
            if number > version:
                doc = self.steps[number](doc)
                doc[FORMAT_KEY] = number
        return doc

    def read(self, path: Path) -> Doc:
        """The file, upgraded; an empty current document when it is missing or damaged (the
        defaults apply: nothing in these files is a record)."""
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raw = {}
        except (OSError, ValueError) as exc:
            log.warning("%s unreadable (%s): the defaults apply", self.name, exc)
            raw = {}
        if not isinstance(raw, dict):
            log.warning("%s is not a JSON object: the defaults apply", self.name)
            raw = {}
        if not raw:
            return {FORMAT_KEY: self.current}
        return self.upgrade(raw)

    def write(self, path: Path, doc: Doc) -> None:
        """Replace the file atomically with ``doc`` in the current format (or the newer one
        it came in: what this program does not know is kept, not upgraded down)."""
        path = Path(path)
        out = dict(doc)
        version = out.get(FORMAT_KEY)
        if not isinstance(version, int) or isinstance(version, bool) or version < self.current:
            out[FORMAT_KEY] = self.current
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(out, f, indent=1, sort_keys=True)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


# --- ui.json ---------------------------------------------------------------------------------

UI_PREFS = FileFormat("ui.json")
LANGUAGES = ("id", "en")


@UI_PREFS.step(1)
def _ui_language_code(doc: Doc) -> Doc:
    """Format 0 (the first release) wrote whatever the language menu passed. Format 1 keeps
    ``language`` only as one of the codes the program ships ("id", "en"); a regional form
    ("en_US", "id-ID") becomes its code, anything else is dropped (the default applies)."""
    lang = doc.pop("language", None)
    if isinstance(lang, str):
        code = lang.strip().lower().replace("-", "_").split("_")[0]
        if code in LANGUAGES:
            doc["language"] = code
    return doc


# --- sync-state.json -------------------------------------------------------------------------

SYNC_STATE = FileFormat("sync-state.json")
MAX_SAMPLES = 1000  # seal-to-receipt samples kept (the newest)
_COUNTERS = ("uploaded_total", "rejected_total")
_TIMES = (
    "last_success_at",
    "last_attempt_at",
    "last_error_at",
    "clock_offset_at",
)


def _number(value: Any, low: float | None = None) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if not math.isfinite(value) or (low is not None and value < low):
        return None
    return float(value)


@SYNC_STATE.step(1)
def _sync_figures_as_numbers(doc: Doc) -> Doc:
    """Format 0 (the first releases; ``clock_offset_*`` came later) was read by passing its
    keys to the figures' constructor: a counter stored as text or null then broke every
    later update of the file (``+=`` on a string), and a damaged sample broke ``status``.
    Format 1 holds numbers only: counters are whole and not negative (else 0), times are
    numbers (else absent), samples are finite and not negative, the newest ``MAX_SAMPLES``;
    the last error is text (else absent); keys this program does not know are dropped."""
    out: Doc = {}
    for key in _COUNTERS:
        n = _number(doc.get(key), 0)
        out[key] = int(n) if n is not None else 0
    for key in _TIMES:
        t = _number(doc.get(key), 0)
        if t is not None:
            out[key] = t
    offset = _number(doc.get("clock_offset_s"))
    if offset is not None and "clock_offset_at" in out:
        out["clock_offset_s"] = offset
    else:
        out.pop("clock_offset_at", None)  # one without the other says nothing
    error = doc.get("last_error")
    if isinstance(error, str):
        out["last_error"] = error
    samples = doc.get("exposure_s")
    if isinstance(samples, list):
        kept = [float(x) for x in samples if _number(x, 0) is not None]
        out["exposure_s"] = kept[-MAX_SAMPLES:]
    return out
