"""SyncWorker: runs a SyncEngine on its own thread.

Woken right after each seal (``wake()``), periodically, and when the server becomes reachable
again (while offline it probes ``/health`` on a backoff schedule, and the first success drains
the whole queue at once, not waiting for each packet's persisted backoff).

Callbacks are plain callables invoked on the worker thread; the Qt UI wraps them in signals.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from app.background import HttpLoop
from app.sync.backoff import backoff
from app.sync.engine import DrainResult, SyncEngine, SyncError

log = logging.getLogger(__name__)

ONLINE = "online"
SENDING = "sending"
OFFLINE = "offline"
ERROR = "error"
STOPPED = "stopped"

# Longer than any backoff (capped at minutes) or Retry-After a server sends in practice: a
# persisted retry time further ahead was set under a clock that was ahead (see _pass).
IMPLAUSIBLE_WAIT_S = 86400.0


@dataclass(frozen=True)
class SyncState:
    state: str = STOPPED
    since: float = 0.0  # when this state began (epoch s): "offline since ..."
    error: str | None = None
    records_left: int | None = None
    bytes_left: int | None = None
    last_success_at: float | None = None
    rejected_left: int = 0  # of records_left: see Progress


@dataclass(frozen=True)
class Progress:
    records_left: int  # not at the server yet
    bytes_left: int
    uploaded: int  # in this drain
    # Of records_left: refused by the server, waiting for a technician's requeue. This worker
    # does not send them, so "sending N of M" leaves them out (they are still pending).
    rejected_left: int = 0

    @property
    def to_send(self) -> int:
        """Records this worker is still going to send."""
        return max(0, self.records_left - self.rejected_left)


class SyncWorker(HttpLoop):
    thread_name = "ektp-sync"

    def __init__(
        self,
        engine: SyncEngine,
        *,
        interval_s: float = 30.0,
        maintenance_interval_s: float = 300.0,
        offline_cap_s: float = 60.0,
        min_wait_s: float = 0.2,
        progress_interval_s: float = 0.25,
        pending: Callable[[], tuple[int, ...]] | None = None,
        maintenance: list[Callable[[], Any]] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        on_state: Callable[[SyncState], None] | None = None,
        on_drain: Callable[[DrainResult], None] | None = None,
        drain: Callable[..., DrainResult] | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.interval_s = interval_s
        self.maintenance_interval_s = maintenance_interval_s
        self.offline_cap_s = offline_cap_s
        self.min_wait_s = min_wait_s
        self.progress_interval_s = progress_interval_s
        # (records, bytes) not at the server, or (records, bytes, rejected of them).
        self.pending = pending
        self.maintenance = list(maintenance or [])
        self.on_progress = on_progress
        self.on_state = on_state
        self.on_drain = on_drain
        # The station wraps engine.drain to record exposure figures; same keyword arguments.
        self.drain = drain or engine.drain
        self.clock = clock
        self.rng = rng or random.Random()
        super().__init__()
        self._failures = 0
        self._last_maintenance = 0.0
        self._state = SyncState()
        self._lock = threading.Lock()
        self._offline = True  # probe /health before draining
        self._first = True
        self._force_next = False  # sync_now(): the next drain ignores the backoff

    # --- public API -----------------------------------------------------------------------

    @property
    def state(self) -> SyncState:
        with self._lock:
            return self._state

    def _after_stop(self) -> None:
        self._set_state(STOPPED)
        super()._after_stop()

    def wake(self) -> None:
        """Send what is due now (called right after a seal); records waiting for their
        backoff keep waiting."""
        self._wake.set()

    def sync_now(self) -> None:
        """The "sync now" button: send every sealed record now, backoff or not (a forced
        drain, as ``sync --once``)."""
        self._force_next = True
        self._wake.set()

    # --- loop -----------------------------------------------------------------------------

    def _set_state(self, state: str, error: str | None = None, **extra: Any) -> None:
        with self._lock:
            old = self._state
            since = old.since if old.state == state else self.clock()
            new = replace(old, state=state, since=since, error=error, **extra)
            changed = new != old
            self._state = new
        if changed and self.on_state is not None:
            self._call(self.on_state, new)

    def _call(self, fn: Callable[..., Any], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:  # a broken UI callback must not kill the sync thread
            log.exception("sync callback failed")

    def _report_progress(self, uploaded: int) -> None:
        if self.pending is None:
            return
        figures = self.pending()
        count, size = figures[0], figures[1]
        rejected = figures[2] if len(figures) > 2 else 0
        with self._lock:
            self._state = replace(
                self._state, records_left=count, bytes_left=size, rejected_left=rejected
            )
        if self.on_progress is not None:
            self._call(self.on_progress, Progress(count, size, uploaded, rejected))

    def _maybe_maintenance(self) -> None:
        now = self.clock()
        # A negative gap: the station clock was set back. Run now, not when it catches up
        # (purge, assignment pull and the falling-behind check would stop until then).
        if 0.0 <= now - self._last_maintenance < self.maintenance_interval_s:
            return
        self._last_maintenance = now
        for task in self.maintenance:
            if self._stop.is_set():
                return  # stopped: the rest waits for the next start
            try:
                task()
            except SyncError as err:
                log.info("sync maintenance: %s", err.message)
            except Exception:
                log.exception("sync maintenance task failed")

    def _run(self) -> None:
        # Probe before the first drain, but honour the persisted backoff then (a restart must
        # not hammer the server); only a return from *offline* sends everything at once.
        self._offline = True
        self._first = True
        try:
            self._report_progress(0)
        except Exception as exc:  # the store may be locked right at start: the loop retries
            self._failed_pass(exc)
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self._pass()
            except Exception as exc:
                # A pass that fails outside the engine's own handling (the store locked for
                # longer than its busy timeout by an export or a virus scanner, a full disk
                # while marking receipts) must not end the thread: nothing would be sent
                # until a restart while the light still said "online". Report, back off,
                # go on; what was not marked is sent again (the server is idempotent).
                self._failed_pass(exc)

    def _failed_pass(self, exc: Exception) -> None:
        message = getattr(exc, "message", None)
        if not isinstance(message, str) or not message:
            log.exception("sync pass failed")
            message = f"sync failed: {exc.__class__.__name__}: {exc}"
        else:
            log.warning("sync pass failed: %s", message)
        self._failures += 1
        self._set_state(ERROR, message)
        self._sleep(self._offline_wait())

    def _pass(self) -> None:
        """One probe-or-drain pass, then the wait before the next one."""
        if self._offline and not self.engine.probe():
            self._first = False
            self._failures += 1
            self._set_state(OFFLINE, "server unreachable")
            self._sleep(self._offline_wait())
            return
        was_offline, self._offline = self._offline and not self._first, False
        self._first = False
        forced, self._force_next = self._force_next, False
        forced = forced or self._retry_time_implausible()
        self._maybe_maintenance()
        uploaded_total = 0
        # Fresh figures before sending: "sending" starts from what is really waiting now.
        self._report_progress(0)
        last_report = 0.0

        def on_item(_item: Any, outcome: str) -> None:
            nonlocal uploaded_total
            if outcome == "uploaded":
                uploaded_total += 1
            if self.state.state != SENDING:
                self._set_state(SENDING, None)

        def on_recorded() -> None:
            # Counted here, not in on_item: inside a group of receipts the store is already
            # ahead of the uploaded count, and "sent + left" would dip below the total.
            nonlocal last_report
            now = time.monotonic()
            if now - last_report >= self.progress_interval_s:  # a count query each time
                last_report = now
                self._report_progress(uploaded_total)

        result = self.drain(
            force=was_offline or forced,
            should_stop=self._stop.is_set,
            on_item=on_item,
            on_recorded=on_recorded,
        )
        if self.on_drain is not None:
            self._call(self.on_drain, result)
        if result.uploaded or result.rejected:
            with self._lock:
                self._state = replace(self._state, last_success_at=self.clock())
        if self._stop.is_set():
            return  # stopped (maybe cut off mid-upload): neither online nor offline
        if result.error is None:
            self._failures = 0
            # The last figures first: whoever sees "online" has seen them.
            self._report_progress(uploaded_total)
            self._set_state(ONLINE, None)
            self._sleep(self._idle_wait())
            return
        err = result.error
        self._failures += 1
        if err.kind == "network":
            self._offline = True
            self._set_state(OFFLINE, err.message)
        else:
            self._set_state(ERROR, err.message)
        wait = self._offline_wait()
        if err.retry_after is not None:
            wait = max(wait, err.retry_after)
        self._sleep(wait)

    def _retry_time_implausible(self) -> bool:
        """A persisted next attempt further ahead than any backoff or Retry-After this
        worker would set: it was set under a clock that was ahead and has since been put
        right. Without a forced drain such a record would wait days with the server online."""
        when = self._next_attempt_at()
        if when is None or when.timestamp() - self.clock() <= IMPLAUSIBLE_WAIT_S:
            return False
        log.warning("a retry time lies %s ahead: the station clock was moved back", when)
        return True

    def _idle_wait(self) -> float:
        """Until the next periodic run, or sooner when a backed-off record falls due."""
        wait = self.interval_s
        when = self._next_attempt_at()
        if when is not None:
            wait = min(wait, max(self.min_wait_s, when.timestamp() - self.clock()))
        return wait

    def _next_attempt_at(self) -> datetime | None:
        """The earliest persisted retry time (None: none, or an outbox without one)."""
        next_at = getattr(self.engine.outbox, "next_attempt_at", None)
        if not callable(next_at):
            return None
        try:
            when: datetime | None = next_at()
        except Exception:  # a store hiccup must not stop the loop; retry on schedule
            log.exception("next_attempt_at failed")
            return None
        return when

    def _offline_wait(self) -> float:
        # Full jitter with a floor so a dead server is not polled in a tight loop.
        wait = backoff(self._failures, base_s=0.5, cap_s=self.offline_cap_s, rng=self.rng)
        return max(self.min_wait_s, wait)

    def _sleep(self, seconds: float) -> None:
        self._wake.wait(timeout=max(0.0, seconds))
