"""The live preview loop: newest frame only, quality report every Nth frame, auto-capture.

Two threads. The reader pulls frames from the source as fast as it gives them (a camera paces
itself; a file can be paced at its fps) into a one-frame slot, overwriting a frame nobody took:
the preview never lags behind the person. The deliverer takes the newest frame, runs the
quality checks on every ``detect_every``-th one, and calls ``on_frame`` with a ``FrameEvent``.
A slow ``on_frame`` therefore drops frames instead of queueing them.

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
    analysed: bool  # True when ``report`` was computed on this very frame
    good_for: float  # seconds the reports have been continuously good (0 if not good)


@dataclass
class LoopStats:
    read: int = 0  # frames read from the source
    delivered: int = 0  # frames passed to on_frame
    dropped: int = 0  # frames overwritten before delivery
    analysed: int = 0  # frames the quality checks ran on


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
        self.on_end = on_end
        self.on_error = on_error
        self.stats = LoopStats()
        self.error: BaseException | None = None
        self.ended = threading.Event()  # the source ran out (or failed)
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._slot: tuple[Frame, int, float] | None = None
        self._reader_done = False
        self._latest: FrameEvent | None = None
        self._good_since: float | None = None
        self._threads: list[threading.Thread] = []

    # -- control -----------------------------------------------------------------
    def start(self) -> None:
        if self._threads:
            raise RuntimeError("FrameLoop already started")
        self.source.open()
        self._threads = [
            threading.Thread(target=self._read_loop, name="frameloop-reader", daemon=True),
            threading.Thread(target=self._deliver_loop, name="frameloop-deliver", daemon=True),
        ]
        for t in self._threads:
            t.start()

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop both threads; True when they ended within ``timeout`` seconds."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            if t is not threading.current_thread():  # stop() from on_frame must not self-join
                t.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads if t is not threading.current_thread())

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
                with self._cond:
                    if self._slot is not None:
                        self.stats.dropped += 1
                    self._slot = (frame, number, time.monotonic())
                    self.stats.read += 1
                    self._cond.notify()
                number += 1
        except Exception as e:  # a driver error: report it, never kill the process
            self.error = e
            self.ended.set()
        finally:
            source.close()
            with self._cond:
                self._reader_done = True
                self._cond.notify_all()

    def _deliver_loop(self) -> None:
        try:
            while True:
                with self._cond:
                    while self._slot is None and not self._reader_done and not self._stop.is_set():
                        self._cond.wait()
                    if self._stop.is_set():
                        return
                    if self._slot is None:  # reader finished and nothing left
                        break
                    frame, number, ts = self._slot
                    self._slot = None
                self._deliver(frame, number, ts)
        except Exception as e:
            self.error = e
        if self.error is not None and self.on_error is not None:
            self.on_error(self.error)
        elif self.on_end is not None:
            self.on_end()

    def _deliver(self, frame: Frame, number: int, ts: float) -> None:
        analysed = self.stats.delivered % self.detect_every == 0
        report = self._latest.report if self._latest is not None else None
        if analysed:
            report = assess(frame, self.config)
            self.stats.analysed += 1
            if report.ok:
                if self._good_since is None:
                    self._good_since = ts
            else:
                self._good_since = None
        good_for = ts - self._good_since if self._good_since is not None else 0.0
        event = FrameEvent(frame, number, ts, report, analysed, good_for)
        self._latest = event
        self.stats.delivered += 1
        self.on_frame(event)
        if (
            self.auto_capture
            and analysed
            and report is not None
            and report.ok
            and good_for >= self.config.auto_capture_seconds
        ):
            try:
                photo = accept_image(frame, self.config)
            except PhotoError:
                return  # good enough for the preview, not for the crop: keep watching
            self.auto_capture = False
            if self.on_capture is not None:
                self.on_capture(photo)
