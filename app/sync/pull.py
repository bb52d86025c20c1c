"""The station's pull cycle: what the station asks the centre (or its relay) for, in steps.

``PullCycle`` runs its steps in order; a step that fails (network, a refused page) is
recorded and the next step still runs. It runs after each drain that uploaded something and
on its interval (``StationSync.drain_then_pull``), and at the end of ``sync --once``.

Steps: ``FatesStep`` first (the records' fates, issue 12). Other steps (policy, health,
audit upload) are appended to ``PullCycle.steps``; each is an object with a ``name`` and a
``run()`` that raises SyncError when it cannot finish.

After a drain that uploaded, the cycle runs at once (the centre's ``received``) and once more
``follow_up_s`` later (the processor's fate, which follows within seconds on a centre that
processes as it receives); the worker wakes at least every ``interval_s`` of its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.fates import PAGE, FatePageError, fates_path, parse_page
from app.store import fates as fate_store
from app.store.db import Store
from app.sync.engine import SyncEngine, SyncError

log = logging.getLogger(__name__)

DEFAULT_PULL_INTERVAL_S = 120.0
DEFAULT_FOLLOW_UP_S = 15.0
# Pages in one cycle at most: a kit 10,000 fates behind catches up in one cycle (20 pages).
MAX_PAGES = 200


class PullStep(Protocol):
    name: str

    def run(self) -> Any: ...


@dataclass(frozen=True)
class FatesPulled:
    pages: int
    applied: int
    unchanged: int
    last_seq: int


class FatesStep:
    """Pull the fates after the last one applied, page by page, until caught up.

    Each page is checked whole (app.fates.parse_page: for this station, continuing the
    sequence, well formed) and applied whole (app.store.fates.apply_page: every record known);
    a refused page is recorded (``status`` shows it) and ends the step with SyncError: the
    next cycle asks again from the same place."""

    name = "fates"

    def __init__(
        self, engine: SyncEngine, store: Store, *, page: int = PAGE, max_pages: int = MAX_PAGES
    ) -> None:
        self.engine = engine
        self.store = store
        self.page = page
        self.max_pages = max_pages

    def run(self) -> FatesPulled:
        pages = applied = unchanged = 0
        after = fate_store.last_seq(self.store)
        while pages < self.max_pages:
            doc = self.engine.signed_json("GET", fates_path(after, self.page))
            pages += 1
            try:
                entries = parse_page(doc, self.engine.station_id, after)
                done = fate_store.apply_page(self.store, after, entries)
            except fate_store.FateCursorMoved:
                after = fate_store.last_seq(self.store)  # another pull got there first
                continue
            except (FatePageError, fate_store.FateRefused) as exc:
                message = f"fates refused: {exc}"
                fate_store.record_refusal(self.store, message)
                raise SyncError("server", message) from exc
            applied += done.applied
            unchanged += done.unchanged
            after = done.last_seq
            if not entries or after >= int(doc["last_seq"]):
                break
        return FatesPulled(pages, applied, unchanged, after)


@dataclass
class PullCycle:
    steps: list[PullStep]
    interval_s: float = DEFAULT_PULL_INTERVAL_S
    # After an upload the centre's verdict follows within seconds (a processor runs beside
    # it): one more pull this long after, not a whole interval later.
    follow_up_s: float = DEFAULT_FOLLOW_UP_S
    clock: Callable[[], float] = time.monotonic
    last_run: float | None = None
    follow_up_at: float | None = None
    results: dict[str, Any] = field(default_factory=dict)

    def due(self) -> bool:
        now = self.clock()
        if self.follow_up_at is not None and now >= self.follow_up_at:
            return True
        return self.last_run is None or now - self.last_run >= self.interval_s

    def follow_up(self) -> None:
        """Pull once more ``follow_up_s`` from now (records were just uploaded)."""
        self.follow_up_at = self.clock() + self.follow_up_s

    def run(self) -> dict[str, Any]:
        """Every step once; returns each step's result or its SyncError, by name."""
        self.last_run = self.clock()
        self.follow_up_at = None
        out: dict[str, Any] = {}
        for step in self.steps:
            try:
                out[step.name] = step.run()
            except SyncError as err:
                log.info("pull step %s: %s", step.name, err.message)
                out[step.name] = err
            except Exception as exc:  # a store failure: the next step still runs
                log.exception("pull step %s failed", step.name)
                out[step.name] = SyncError("server", f"{step.name}: {type(exc).__name__}: {exc}")
        self.results = out
        return out

    def errors(self) -> list[SyncError]:
        return [r for r in self.results.values() if isinstance(r, SyncError)]
