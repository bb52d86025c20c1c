"""The loops the station's services started (camera, card watcher, sync worker), so closing
stops what the UI could not, and the sync worker's reports turned into the light's one state.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from app.ui.services import SyncLightState

log = logging.getLogger(__name__)


class Loops:
    """Every loop these services started, so close() stops what the UI could not."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loops: list[Any] = []
        self._stopping: list[threading.Thread] = []  # sync workers ending in the background

    def add(self, loop: Any) -> Any:
        with self._lock:
            self._loops.append(loop)
        return loop

    def discard(self, loop: Any) -> None:
        with self._lock:
            if loop in self._loops:
                self._loops.remove(loop)

    def stop_all(self) -> None:
        with self._lock:
            loops, self._loops = self._loops, []
        for loop in loops:
            try:
                loop.stop()
            except Exception:
                log.exception("stopping %r failed", loop)

    def finish_in_background(self, worker: Any) -> None:
        """Join a sync worker that has not ended yet, off the caller's thread.

        A daemon, like the worker itself: a process that is exiting must not wait for it
        (that kept a closed station running for the rest of a stalled upload, up to its
        read timeout). Nothing is lost if the process ends first: a record is marked only
        in one store transaction after its receipt, SQLite rolls back a transaction cut off
        by the process's end, and an unmarked record goes again on the next start."""

        def join() -> None:
            if not worker.stop(timeout=SYNC_STOP_BACKGROUND_S):
                log.warning("the sync worker did not end within %s s", SYNC_STOP_BACKGROUND_S)

        thread = threading.Thread(target=join, name="ektp-sync-stop", daemon=True)
        thread.start()
        with self._lock:
            self._stopping.append(thread)

    def still_stopping(self) -> list[threading.Thread]:
        """The background joins not finished yet (the store closes after them)."""
        with self._lock:
            return [t for t in self._stopping if t.is_alive()]


class Stopper:
    """Wraps a loop so stopping it also forgets it."""

    def __init__(self, loop: Any, loops: Loops) -> None:
        self.loop = loop
        self.loops = loops

    def stop(self) -> None:
        self.loops.discard(self)
        self.loop.stop()

    def wake(self) -> None:
        self.loop.wake()


# Closing the window: how long the UI thread waits for the sync worker to end. Stopping cuts
# off the upload in flight (the worker's request_stop aborts its connections), so the worker
# normally ends in milliseconds; one that does not (a connect or DNS lookup in progress, the
# store busy) is joined on a daemon thread, which closes the store after it: the process
# never waits for it, and the store is never closed under a thread still using it.
SYNC_STOP_UI_WAIT_S = 0.3
SYNC_STOP_BACKGROUND_S = 90.0


class SyncStopper(Stopper):
    """Stopping the sync worker never holds the caller (the UI thread) for long."""

    def stop(self) -> None:
        self.loops.discard(self)
        self.loop.request_stop()  # nothing new starts; the upload in flight is cut off
        if not self.loop.stop(timeout=SYNC_STOP_UI_WAIT_S):
            self.loops.finish_in_background(self.loop)

    def sync_now(self) -> None:
        self.loop.sync_now()


class SyncReporter:
    """The worker reports states (online/sending/offline/error) and, separately, progress
    (records left, uploaded in this drain); the light needs both in one ``SyncLightState``."""

    def __init__(self, on_state: Callable[[SyncLightState], None]) -> None:
        self.on_state = on_state
        self.state: str | None = None
        self.since: datetime | None = None
        self.error: str | None = None
        self.sent = 0

    def _emit(self, left: int, rejected: int) -> None:
        if self.state is None:
            return  # no contact yet: nothing true to say
        if self.state == "sending":
            # "Mengirim N dari M": M is what the worker sends, not the rejected records
            # waiting for a technician (the queue screen shows those as "Ditolak").
            to_send = max(0, left - rejected)
            self.on_state(SyncLightState("sending", self.since, self.sent, self.sent + to_send))
        else:
            # Rejected records included: "all sent" must not show while they wait.
            self.on_state(SyncLightState(self.state, self.since, 0, left, self.error))

    def on_worker_state(self, s: Any) -> None:
        if s.state == "stopped":
            return
        # "error" stays an error (store locked or full, station revoked, server refusing):
        # neither "online" nor "offline" would tell the truth.
        self.state = s.state
        self.since = datetime.fromtimestamp(s.since, UTC) if s.since else None
        self.error = s.error
        if s.state != "sending":
            self.sent = 0
        self._emit(s.records_left or 0, s.rejected_left)

    def on_worker_progress(self, p: Any) -> None:
        self.sent = p.uploaded
        self._emit(p.records_left, p.rejected_left)
