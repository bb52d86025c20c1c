"""Sync figures kept beside the store: last success, last error, exposure-window samples.

A small JSON file in the station home (``sync-state.json``), replaced atomically. It holds no
personal data: times, counts, error messages, seal-to-receipt seconds, the clock's offset
against the server.
"""

from __future__ import annotations

import statistics
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from app.store.upgrades import MAX_SAMPLES, SYNC_STATE

STATE_FILE = SYNC_STATE.name


@dataclass
class SyncStatus:
    last_success_at: float | None = None
    last_attempt_at: float | None = None
    last_error: str | None = None
    last_error_at: float | None = None
    uploaded_total: int = 0
    rejected_total: int = 0
    # seal-to-receipt seconds of the most recent uploads (the exposure window when online)
    exposure_s: list[float] = field(default_factory=list)
    # The station clock against the server's, as last measured during sync (server minus
    # station, seconds; from the answer's Date header: +-0.5 s plus half the round trip), and
    # when (station time).
    clock_offset_s: float | None = None
    clock_offset_at: float | None = None

    def exposure_figures(self) -> dict[str, Any]:
        xs = sorted(self.exposure_s)
        if not xs:
            return {"samples": 0, "p50_s": None, "p99_s": None, "max_s": None}

        def pct(q: float) -> float:
            if len(xs) == 1:
                return xs[0]
            return statistics.quantiles(xs, n=100, method="inclusive")[int(q) - 1]

        return {
            "samples": len(xs),
            "p50_s": round(pct(50), 3),
            "p99_s": round(pct(99), 3),
            "max_s": round(xs[-1], 3),
        }


class SyncStateFile:
    def __init__(self, home: Path) -> None:
        self.path = Path(home) / STATE_FILE
        self._lock = threading.Lock()

    def load(self) -> SyncStatus:
        """The figures (app/store/upgrades.py brings an older file up to date; a missing or
        damaged one gives zeros)."""
        doc = SYNC_STATE.read(self.path)
        known = {k: doc[k] for k in SyncStatus.__dataclass_fields__ if k in doc}
        try:
            return SyncStatus(**known)
        except TypeError:  # a newer program's file of a shape this one cannot read
            return SyncStatus()

    def save(self, status: SyncStatus) -> None:
        status.exposure_s = status.exposure_s[-MAX_SAMPLES:]
        SYNC_STATE.write(self.path, asdict(status))

    def record_clock_offset(self, offset_s: float, at: float) -> None:
        with self._lock:
            st = self.load()
            st.clock_offset_s, st.clock_offset_at = offset_s, at
            self.save(st)

    def update(
        self,
        *,
        now: float,
        uploaded: int = 0,
        rejected: int = 0,
        exposure: list[float] | None = None,
        error: str | None = None,
    ) -> SyncStatus:
        with self._lock:
            st = self.load()
            st.last_attempt_at = now
            st.uploaded_total += uploaded
            st.rejected_total += rejected
            if exposure:
                st.exposure_s.extend(round(x, 4) for x in exposure)
            if error:
                st.last_error = error
                st.last_error_at = now
            else:
                st.last_success_at = now
            self.save(st)
            return st


def last_clock_offset(home: Path) -> tuple[float, float] | None:
    """(offset, measured_at): the station clock's offset against the server (server minus
    station, seconds; positive = the station is behind) as last measured during sync, and
    when (station time, epoch seconds); None before any answer. For kit health reports: a
    figure and a time, nothing else."""
    st = SyncStateFile(home).load()
    if st.clock_offset_s is None or st.clock_offset_at is None:
        return None
    return float(st.clock_offset_s), float(st.clock_offset_at)
