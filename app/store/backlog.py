"""Falling behind: the one place that decides whether the station may keep recording.

The central office sets two limits (settings ``backlog_max_age_h`` and
``backlog_max_unsent``): the oldest unsent record's age, and the number of unsent records
when no mirror keeps a second copy. From ``backlog_warn_fraction`` of a limit the station
warns; at the limit it refuses new recordings until it has synced or exported.

"Unsent" means not yet at the server: sealed records and rejected ones (a rejected record
waits for a technician to requeue it; it is no safer than a sealed one). A record exported
to removable media no longer lives in one place only and leaves both limits, as a mirror
makes the count limit moot; it is still uploaded as usual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from app.store.db import Store
from app.store.outbox import Outbox, PendingStats
from app.store.settings import Settings, load_settings
from app.store.timeutil import utcnow


class FallingBehind(Exception):
    """New recordings are refused until the station syncs or exports."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class BacklogState:
    level: str  # ok | warn | refuse
    messages: list[str] = field(default_factory=list)
    pending: PendingStats | None = None

    @property
    def refused(self) -> bool:
        return self.level == "refuse"


def evaluate(pending: PendingStats, settings: Settings, now: datetime) -> BacklogState:
    warn: list[str] = []
    refuse: list[str] = []
    frac = settings.backlog_warn_fraction
    if pending.oldest_sealed_at is not None and settings.backlog_max_age_h > 0:
        age_h = (now - pending.oldest_sealed_at).total_seconds() / 3600
        limit = settings.backlog_max_age_h
        if age_h >= limit:
            refuse.append(
                f"oldest unsent record is {age_h:.1f} h old (limit {limit:g} h): sync or export"
            )
        elif age_h >= frac * limit:
            warn.append(f"oldest unsent record is {age_h:.1f} h old (limit {limit:g} h)")
    if settings.mirror_dir is None and settings.backlog_max_unsent > 0:
        limit_n = settings.backlog_max_unsent
        if pending.count >= limit_n:
            refuse.append(
                f"{pending.count} records unsent with no mirror (limit {limit_n}): sync or export"
            )
        elif pending.count >= frac * limit_n:
            warn.append(f"{pending.count} records unsent with no mirror (limit {limit_n})")
    if refuse:
        return BacklogState("refuse", refuse + warn, pending)
    if warn:
        return BacklogState("warn", warn, pending)
    return BacklogState("ok", [], pending)


def check_backlog_policy(store: Store, now: datetime | None = None) -> BacklogState:
    """The station's falling-behind state now (``enroll`` refuses when ``refused``)."""
    return evaluate(Outbox(store).unsent_unexported(), load_settings(store), now or utcnow())
