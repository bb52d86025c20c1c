"""The live preview loop: newest frame only, quality report every Nth frame, auto-capture.

Three threads, joined by one-item slots that keep only the newest item (never a queue):
- the reader pulls frames from the source as fast as it gives them (a camera paces itself; a
  file can be paced at its fps), overwriting a frame nobody took yet;
- the deliverer takes the newest frame and calls ``on_frame`` with a ``FrameEvent`` carrying
  the newest quality report; every ``detect_every``-th delivered frame is also offered to
- the analyser, which runs the quality checks (face detection is the slow part) and, when the
  picture has been good for ``auto_capture_seconds``, auto-captures.
So neither a slow ``on_frame`` nor a slow detection makes the preview lag behind the person:
they drop frames (or analyse fewer) instead.

``stop()`` returns promptly: both threads wait on the same stop event, never sleep blindly.
(A camera driver stuck inside ``read()`` cannot be interrupted by OpenCV; ``stop()`` then gives
up after its timeout, returns False, and the daemon thread releases the camera when read
returns.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.capture.camera import FrameSource
from app.capture.photo import AcceptedPhoto, PhotoError, accept_image
from app.capture.quality import Frame, QualityConfig, QualityReport, assess


@dataclass(frozen=True)
class FrameEvent:
    frame: Frame  # BGR; the UI converts it to a QImage
    number: int  # frame number from the source, from 0 (gaps = dropped frames)
    timestamp: float  # time.monotonic() when read
    report: QualityReport | None  # the newest quality report (None until the first one)
    report_number: int | None  # the (earlier) frame the report was computed on
    good_for: float  # seconds the reports have been continuously good (0 if not good)


@dataclass
class LoopStats:
    read: int = 0  # frames read from the source
    delivered: int = 0  # frames passed to on_frame
    dropped: int = 0  # frames overwritten before delivery
    analysed: int = 0  # frames the quality checks ran on
    skipped: int = 0  # frames offered for analysis but replaced by a newer one first


_Item = tuple[Frame, int, float]  # frame, number, timestamp


class _Slot:
    """Holds the newest item only; ``put`` overwrites (and counts) an item nobody took."""

    def __init__(self, stop: threading.Event) -> None:
        self._cond = threading.Condition()
        self._item: _Item | None = None
        self._closed = False
        self._stop = stop

    def put(self, item: _Item) -> bool:
        with self._cond:
            replaced = self._item is not None
            self._item = item
            self._cond.notify()
            return replaced

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def take(self) -> _Item | None:
        """The newest item; None once stopped, or closed and empty."""
        with self._cond:
            while self._item is None and not self._closed and not self._stop.is_set():
                self._cond.wait()
            if self._stop.is_set():
                return None
            item, self._item = self._item, None
            return item


class FrameLoop:
    """Preview loop over a FrameSource. ``start()`` opens the source (raises CameraError)."""

    def __init__(
        self,
        source: FrameSource,
        on_frame: Callable[[FrameEvent], None],
        *,
        detect_every: int = 5,
        config: QualityConfig | None = None,
        auto_capture: bool = False,
        on_capture: Callable[[AcceptedPhoto], None] | None = None,
        on_report: Callable[[int, QualityReport], None] | None = None,
        on_end: Callable[[], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        if detect_every < 1:
            raise ValueError("detect_every must be >= 1")
        self.source = source
        self.on_frame = on_frame
        self.detect_every = detect_every
        self.config = config or QualityConfig()
        self.auto_capture = auto_capture
        self.on_capture = on_capture
        self.on_report = on_report
        self.on_end = on_end
        self.on_error = on_error
        self.stats = LoopStats()
        self.error: BaseException | None = None
        self.ended = threading.Event()  # the source ran out (or failed)
        self._stop = threading.Event()
        self._frames = _Slot(self._stop)  # reader -> deliverer
        self._to_analyse = _Slot(self._stop)  # deliverer -> analyser
        self._latest: FrameEvent | None = None
        self._report: tuple[int, QualityReport] | None = None
        self._good_since: float | None = None
        self._threads: list[threading.Thread] = []
        # start() holds it while it starts the threads: a stop() from a callback of the first
        # ones (or from another thread) then waits until all are started before joining them.
        self._starting = threading.Lock()

    # -- control -----------------------------------------------------------------
    def start(self) -> None:
        if self._threads:
            raise RuntimeError("FrameLoop already started")
        self.source.open()
        with self._starting:
            self._threads = [
                threading.Thread(target=self._read_loop, name="frameloop-reader", daemon=True),
                threading.Thread(target=self._deliver_loop, name="frameloop-deliver", daemon=True),
                threading.Thread(target=self._analyse_loop, name="frameloop-analyse", daemon=True),
            ]
            for t in self._threads:
                t.start()

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop all threads; True when they ended within ``timeout`` seconds."""
        self._stop.set()
        self._frames.wake()
        self._to_analyse.wake()
        deadline = time.monotonic() + timeout
        me = threading.current_thread()
        with self._starting:  # every thread started (joining one not started raises)
            threads = list(self._threads)
        others = [t for t in threads if t is not me]  # stop() from a callback
        for t in others:
            t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in others)

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)

    def latest(self) -> FrameEvent | None:
        """The most recently delivered frame event (for a UI that polls instead)."""
        return self._latest

    def arm_auto_capture(self) -> None:
        """Auto-capture again (it disarms itself after each capture)."""
        self._good_since = None
        self.auto_capture = True

    def capture_now(self) -> AcceptedPhoto:
        """Accept the newest delivered frame (raises PhotoRejected with the reasons)."""
        event = self._latest
        if event is None:
            raise PhotoError("no frame yet")
        return accept_image(event.frame, self.config)

    # -- threads -----------------------------------------------------------------
    def _read_loop(self) -> None:
        source = self.source
        number = 0
        next_due = time.monotonic()
        try:
            while not self._stop.is_set():
                interval = source.frame_interval
                if interval is not None:
                    wait = next_due - time.monotonic()
                    if wait > 0 and self._stop.wait(wait):
                        break
                    next_due = max(next_due + interval, time.monotonic() - interval)
                frame = source.read()
                if frame is None:
                    self.ended.set()
                    break
                self.stats.read += 1
                if self._frames.put((frame, number, time.monotonic())):
                    self.stats.dropped += 1
                number += 1
        except Exception as e:  # a driver error: report it, never kill the process
            self.error = e
            self.ended.set()
        finally:
            source.close()
            self._frames.close()

    def _deliver_loop(self) -> None:
        try:
            while True:
                item = self._frames.take()
                if item is None:
                    break
                frame, number, ts = item
                if self.stats.delivered % self.detect_every == 0:
                    if self._to_analyse.put((frame, number, ts)):
                        self.stats.skipped += 1
                report = self._report
                good_for = ts - self._good_since if self._good_since is not None else 0.0
                event = FrameEvent(
                    frame,
                    number,
                    ts,
                    report[1] if report else None,
                    report[0] if report else None,
                    max(0.0, good_for),
                )
                self._latest = event
                self.stats.delivered += 1
                self.on_frame(event)
        except Exception as e:
            self.error = e
        finally:
            self._to_analyse.close()
        # Let the analyser finish the last frame offered, so on_end sees the final report.
        for t in self._threads:
            if t.name == "frameloop-analyse":
                while t.is_alive() and not self._stop.is_set():
                    t.join(0.05)
        if self._stop.is_set():
            return
        if self.error is not None and self.on_error is not None:
            self.on_error(self.error)
        elif self.on_end is not None:
            self.on_end()

    def _analyse_loop(self) -> None:
        try:
            while True:
                item = self._to_analyse.take()
                if item is None:
                    return
                frame, number, ts = item
                self._analyse(frame, number, ts)
        except Exception as e:
            self.error = e

    def _analyse(self, frame: Frame, number: int, ts: float) -> None:
        report = assess(frame, self.config)
        self.stats.analysed += 1
        if report.ok:
            if self._good_since is None:
                self._good_since = ts
        else:
            self._good_since = None
        self._report = (number, report)
        if self.on_report is not None:
            self.on_report(number, report)
        good_for = ts - self._good_since if self._good_since is not None else 0.0
        if not (self.auto_capture and report.ok and good_for >= self.config.auto_capture_seconds):
            return
        try:
            photo = accept_image(frame, self.config)
        except PhotoError:
            return  # good enough for the preview, not for the crop: keep watching
        self.auto_capture = False
        if self.on_capture is not None and not self._stop.is_set():
            self.on_capture(photo)
