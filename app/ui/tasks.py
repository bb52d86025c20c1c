"""Background work for the UI, after Anki's taskman: the UI thread never touches disk or
network. Store work runs on a one-worker executor (writes are serialized), network work on
another; each result comes back to the UI thread through a queued signal.

Long store work (an export to removable media: minutes for a big queue on a slow stick) runs
on its own one-worker executor, so sealing and sign-in on the store executor never queue
behind it; the export itself uses short read transactions (one per packet), so it holds no
lock a seal would wait on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

log = logging.getLogger(__name__)

Done = Callable[[Any], None]
Failed = Callable[[BaseException], None]


class _Delivery(QObject):
    # (callback, value): emitted from a worker thread, delivered on the UI thread.
    deliver = Signal(object, object)


class TaskManager(QObject):
    """``run_db(fn, on_done, on_error)`` / ``run_net(...)``: fn runs off the UI thread."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ui-db")
        self._export = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ui-export")
        self._net = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ui-net")
        # Device loops start and stop here, in order (a camera must be released before it
        # is opened again), and joining a loop's thread never blocks the UI thread.
        self._device = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ui-device")
        self._delivery = _Delivery()
        # Always queued: a task that finishes before add_done_callback() runs its callback
        # on the submitting (UI) thread, and results must never arrive inside the caller.
        self._delivery.deliver.connect(self._on_deliver, Qt.ConnectionType.QueuedConnection)
        self._closed = False
        # Set first thing in shutdown(): long work (an export) polls it and stops early.
        self.closing = threading.Event()
        self.pending = 0

    def run_db(
        self, fn: Callable[[], Any], on_done: Done | None = None, on_error: Failed | None = None
    ) -> Future[Any]:
        return self._submit(self._db, fn, on_done, on_error)

    def run_export(
        self, fn: Callable[[], Any], on_done: Done | None = None, on_error: Failed | None = None
    ) -> Future[Any]:
        """Long store work that must not hold up ``run_db`` (an export)."""
        return self._submit(self._export, fn, on_done, on_error)

    def run_net(
        self, fn: Callable[[], Any], on_done: Done | None = None, on_error: Failed | None = None
    ) -> Future[Any]:
        return self._submit(self._net, fn, on_done, on_error)

    def run_device(
        self, fn: Callable[[], Any], on_done: Done | None = None, on_error: Failed | None = None
    ) -> Future[Any]:
        return self._submit(self._device, fn, on_done, on_error)

    def _submit(
        self,
        pool: ThreadPoolExecutor,
        fn: Callable[[], Any],
        on_done: Done | None,
        on_error: Failed | None,
    ) -> Future[Any]:
        if self._closed:
            # A queued signal (a sync state change, say) can still reach a screen after the
            # window closed; its refresh is dropped, like the work shutdown() cancelled.
            dropped: Future[Any] = Future()
            dropped.cancel()
            log.debug("dropped %r: the task manager is shut down", fn)
            return dropped
        self.pending += 1
        future = pool.submit(fn)

        def finished(f: Future[Any]) -> None:
            if self._closed:
                return
            exc = f.exception()
            if exc is not None:
                self._delivery.deliver.emit(on_error or _log_error, exc)
            else:
                self._delivery.deliver.emit(on_done or _ignore, f.result())

        future.add_done_callback(finished)
        return future

    @Slot(object, object)
    def _on_deliver(self, callback: Callable[[Any], None], value: Any) -> None:
        self.pending -= 1
        callback(value)

    def shutdown(self) -> None:
        """Wait for running work (a seal must finish) and drop what is queued; an export
        stops after the packet it is copying (``closing``)."""
        self.closing.set()
        self._closed = True
        self._db.shutdown(wait=True, cancel_futures=True)
        self._export.shutdown(wait=True, cancel_futures=True)
        self._net.shutdown(wait=True, cancel_futures=True)
        self._device.shutdown(wait=True, cancel_futures=True)


def _ignore(_value: Any) -> None:
    return None


def _log_error(exc: BaseException) -> None:
    log.error("background task failed", exc_info=exc)
