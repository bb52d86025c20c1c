"""Camera and card-reader loops for the UI, from :mod:`app.capture`.

Each loop runs on its own thread and calls back on it; the UI's bridges turn those calls into
queued signals. Camera choices are strings: ``"device:0"`` (a camera index), ``"file:PATH"``
(a video file or an image sequence pattern, used by tests and the demo).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.ui.services import CardEvent, FrameCallback, FrameQuality, ServiceError

log = logging.getLogger(__name__)

# Quality checks (~20 ms) on every 3rd frame: the face box follows the face, the CPU rests.
DETECT_EVERY = 3


def _capture_module(name: str) -> Any:
    try:
        return importlib.import_module(f"app.capture.{name}")
    except ImportError:
        return None


def camera_choices(extra: list[tuple[str, str]] | None = None) -> list[tuple[str, str]]:
    """Cameras that open now (capture's probe) + extra sources (the demo video)."""
    from app.capture.camera import list_cameras

    found: list[tuple[str, str]] = []
    for cam in list_cameras().cameras:
        where = f" ({cam.device})" if cam.device else ""
        found.append((f"device:{cam.index}", f"Kamera {cam.index}{where} {cam.width}×{cam.height}"))
    found.extend(extra or [])
    return found


def quality_of(report: Any) -> FrameQuality | None:
    """capture's QualityReport -> what the preview paints."""
    if report is None:
        return None
    face = getattr(report, "face", None)
    box = (face.x, face.y, face.w, face.h) if face is not None else None
    reasons = tuple((r.code, r.message) for r in getattr(report, "reasons", []))
    return FrameQuality(box, reasons)


def start_camera(choice: str, on_frame: FrameCallback, on_error: Callable[[str], None]) -> Any:
    """A running capture FrameLoop for ``choice``; frames reach ``on_frame(frame, quality)``
    on the loop's thread. Raises ServiceError("no-camera") when the source does not open."""
    from app.capture.camera import CameraError, open_source
    from app.capture.frameloop import FrameEvent, FrameLoop

    if choice.startswith("device:"):
        source = open_source(int(choice.removeprefix("device:")))
    elif choice.startswith("file:"):
        path = choice.removeprefix("file:")
        if "%" not in path and not Path(path).exists():
            raise ServiceError("no-camera", path)
        # A file plays at its own pace and loops, like a camera that never ends.
        source = open_source(path, loop=True, realtime=True)
    else:
        raise ServiceError("no-camera", choice)

    def deliver(event: FrameEvent) -> None:
        on_frame(event.frame, quality_of(event.report))

    def failed(exc: BaseException) -> None:
        log.warning("camera failed: %s", exc)
        on_error("camera-failed")

    loop = FrameLoop(
        source,
        deliver,
        detect_every=DETECT_EVERY,
        on_error=failed,
        on_end=lambda: on_error("camera-failed"),
    )
    try:
        loop.start()
    except CameraError as exc:
        raise ServiceError("no-camera", str(exc)) from exc
    return loop


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
