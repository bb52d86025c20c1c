"""One background thread that runs until it is stopped: the start/stop written once.

The station's sync worker (app/sync/worker.py), the card watcher (app/capture/card_watcher.py),
the relay's pull (server/relay_pull.py) and the server's processor
(server/processing/processor.py) each run a loop on a daemon thread. What they share is here:
start once, ``request_stop()`` returns at once and wakes the thread from whatever it waits
on (``_interrupt``: cut off a request in flight, cancel a wait on the card service),
``stop(timeout)`` also waits for it and says whether it ended. What differs stays in each:
its loop (``_run``, which checks ``stopping``) and its interrupt.

No Qt: the GUI wraps these in app/ui/loops.py.
"""

from __future__ import annotations

import threading
import time
from typing import Any


class BackgroundLoop:
    thread_name = "background"
    # stop(): how often a thread that has not ended yet is interrupted again (a wait that
    # began just after the last interrupt is cut off by the next).
    interrupt_every_s = 0.05

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- for the loop -------------------------------------------------------------------------

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _run(self) -> None:
        raise NotImplementedError

    def _interrupt(self) -> None:
        """Wake the thread from what it is waiting on (after ``_stop`` is set)."""

    def _before_start(self) -> None:
        """Undo what the last stop cut off (an aborted session) before the thread starts."""

    def _after_stop(self) -> None:
        """The thread has ended, or never ran (called by ``stop``)."""

    # --- public -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the thread; a loop already running is left alone."""
        if self.running:
            return
        self._stop.clear()
        self._before_start()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """End the loop and return at once (``stop()`` also waits for it)."""
        self._stop.set()
        self._interrupt()

    def stop(self, timeout: float = 10.0) -> bool:
        """End the loop and wait up to ``timeout`` seconds; True when the thread has ended."""
        self.request_stop()
        thread = self._thread
        if thread is None:  # never started, or stopped before
            self._after_stop()
            return True
        if thread is threading.current_thread():
            return True  # asked from the loop itself (a callback): it ends when it returns
        deadline = time.monotonic() + timeout
        while True:
            thread.join(max(0.0, min(self.interrupt_every_s, deadline - time.monotonic())))
            if not thread.is_alive() or time.monotonic() >= deadline:
                break
            self._interrupt()
        if thread.is_alive():
            return False  # still ending: what the interrupt cut off stays cut off until it has
        self._thread = None
        self._after_stop()
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the thread without stopping it (it ends by itself, or another thread
        stops it)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)


class HttpLoop(BackgroundLoop):
    """A loop that sleeps on ``_wake`` and talks to a server through ``engine``, whose
    ``abort()`` cuts off the requests in flight and ``resume()`` allows new ones (the sync
    worker's SyncEngine, the relay pull's engine). Stopping wakes the sleep and cuts off a
    request stalled on a dead network at once, not at its read timeout; what it was doing is
    done again on the next start. Starting, and a stop that saw the thread end, resume the
    engine for its other callers (`sync --once`)."""

    engine: Any

    def __init__(self) -> None:
        super().__init__()
        self._wake = threading.Event()

    def _interrupt(self) -> None:
        self._wake.set()
        self.engine.abort()

    def _before_start(self) -> None:
        self.engine.resume()

    def _after_stop(self) -> None:
        self.engine.resume()
