"""Camera and card-reader loops for the UI, from :mod:`app.capture`.

Each loop runs on its own thread and calls back on it; the UI's bridges turn those calls into
queued signals. Camera choices are strings: ``"device:0"`` (a camera index), ``"file:PATH"``
(a video file or an image sequence pattern, used by tests and the demo).
"""

from __future__ import annotations

import glob
import importlib
import logging
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.ui.services import CardEvent, FrameCallback, FrameQuality, ServiceError

log = logging.getLogger(__name__)

MAX_DEVICE_INDEX = 4
PREVIEW_FPS = 15.0


def _capture_module(name: str) -> Any:
    try:
        return importlib.import_module(f"app.capture.{name}")
    except ImportError:
        return None


def camera_choices(extra: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """Cameras present now (by device node on Linux, first indexes elsewhere) + extra sources."""
    found: list[tuple[str, str]] = []
    if sys.platform.startswith("linux"):
        for node in sorted(glob.glob("/dev/video*")):
            index = node.removeprefix("/dev/video")
            if index.isdigit():
                found.append((f"device:{index}", f"Kamera {index} ({node})"))
    else:
        found.append(("device:0", "Kamera 0"))
    for key, label in extra or []:
        found.append((key, label))
    return found


def quality_of(report: Any) -> FrameQuality | None:
    """capture's QualityReport -> what the preview paints."""
    if report is None:
        return None
    face = getattr(report, "face", None)
    box = (face.x, face.y, face.w, face.h) if face is not None else None
    reasons = tuple((r.code, r.message) for r in getattr(report, "reasons", []))
    return FrameQuality(box, reasons)


class VideoLoop:
    """Reads frames from an OpenCV source on a thread, assesses each with capture's quality
    checks, and hands (frame, FrameQuality) to ``on_frame``. File sources loop forever."""

    def __init__(
        self,
        source: str | int,
        on_frame: FrameCallback,
        on_error: Callable[[str], None],
        fps: float = PREVIEW_FPS,
    ) -> None:
        import cv2

        try:
            from app.capture.quality import assess
        except ImportError as exc:
            raise ServiceError("no-camera", "app.capture is missing") from exc
        self._assess = assess
        self._cv2 = cv2
        self.source = source
        self.on_frame = on_frame
        self.on_error = on_error
        self.period = 1.0 / fps
        self._stop = threading.Event()
        self._cap = cv2.VideoCapture(source)
        if not self._cap.isOpened():
            self._cap.release()
            raise ServiceError("no-camera", str(source))
        self._thread = threading.Thread(target=self._run, name="ui-camera", daemon=True)

    def start(self) -> VideoLoop:
        self._thread.start()
        return self

    def _run(self) -> None:
        assess = self._assess
        is_file = isinstance(self.source, str)
        failures = 0
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                ok, frame = self._cap.read()
                if not ok:
                    if is_file and failures < 3:
                        failures += 1
                        self._cap.set(self._cv2.CAP_PROP_POS_FRAMES, 0)
                        continue
                    self.on_error("camera-failed")
                    return
                failures = 0
                try:
                    quality = quality_of(assess(frame))
                except Exception:  # a frame the checks cannot read: show it without a box
                    log.exception("quality check failed")
                    quality = None
                self.on_frame(frame, quality)
                self._stop.wait(max(0.0, self.period - (time.monotonic() - started)))
        finally:
            self._cap.release()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)


def start_camera(choice: str, on_frame: FrameCallback, on_error: Callable[[str], None]) -> Any:
    source: str | int
    if choice.startswith("device:"):
        source = int(choice.removeprefix("device:"))
    elif choice.startswith("file:"):
        source = choice.removeprefix("file:")
        if "%" not in source and not Path(source).exists():
            raise ServiceError("no-camera", source)
    else:
        raise ServiceError("no-camera", choice)
    return VideoLoop(source, on_frame, on_error).start()


# --- card reader ---------------------------------------------------------------------------
def reader_names() -> list[str]:
    try:
        from smartcard.System import readers
    except ImportError:
        return []
    try:
        return [str(r) for r in readers()]
    except Exception:  # pcscd not running or no readers: the same for the operator
        return []


def start_card_watcher(on_event: Callable[[CardEvent], None]) -> Any:
    cards = _capture_module("cardreader")
    if cards is None:
        raise ServiceError("no-reader")
    return cards.start_watcher(on_event)  # replaced once the capture reader lands
