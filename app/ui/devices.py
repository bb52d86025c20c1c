"""Camera and card-reader loops for the UI, from :mod:`app.capture`.

Each loop runs on its own thread and calls back on it; the UI's bridges turn those calls into
queued signals. Camera choices are strings: ``"device:0"`` (a camera index), ``"file:PATH"``
(a video file or an image sequence pattern, used by tests and the demo).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.errors import Code, MachineFault
from app.ui.services import CardEvent, FrameCallback, FrameQuality

log = logging.getLogger(__name__)

# Quality checks (~20 ms) on every 3rd frame: the face box follows the face, the CPU rests.
DETECT_EVERY = 3


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
    on the loop's thread. Raises MachineFault (no-camera) when the source does not open."""
    import cv2

    from app.capture.camera import CameraError, open_source
    from app.capture.frameloop import FrameEvent, FrameLoop

    # One OpenCV worker thread: face detection (~27 ms of CPU on every DETECT_EVERY-th
    # frame) on all cores at once left the UI thread waiting for a core on a 2-core station,
    # with stalls of 50+ ms in which it ran < 1 ms itself. On one thread it takes as long
    # when the machine is busy and leaves a core free for the UI.
    cv2.setNumThreads(1)

    if choice.startswith("device:"):
        source = open_source(int(choice.removeprefix("device:")))
    elif choice.startswith("file:"):
        path = choice.removeprefix("file:")
        if "%" not in path and not Path(path).exists():
            raise MachineFault(Code.NO_CAMERA, path, subject="camera")
        # A file plays at its own pace and loops, like a camera that never ends.
        source = open_source(path, loop=True, realtime=True)
    else:
        raise MachineFault(Code.NO_CAMERA, choice, subject="camera")

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
        raise MachineFault(Code.NO_CAMERA, str(exc), subject="camera") from exc
    return loop


# --- card reader ---------------------------------------------------------------------------
def reader_names() -> list[str]:
    from app.capture.reader import list_readers

    return list(list_readers().readers)


def card_event(event: Any) -> CardEvent:
    """capture's ReaderEvent -> what the screens show."""
    from app.capture.card_watcher import EventKind
    from app.capture.reader import CardStatus, ReaderStatus

    if event.kind == EventKind.STATUS:
        if event.status == ReaderStatus.OK and event.readers:
            return CardEvent(", ".join(event.readers), False)
        return CardEvent("", False, error="no-reader")
    reader = event.reader or ""
    if event.kind == EventKind.INSERTED:
        card = event.card
        atr = event.atr.hex().upper() if event.atr else None
        if card is not None and card.status == CardStatus.OK and card.uid_hex:
            return CardEvent(reader, True, uid=card.uid_hex, atr=atr)
        return CardEvent(reader, True, atr=atr, error="reader-failed")
    return CardEvent(reader, False)


def start_card_watcher(on_event: Callable[[CardEvent], None]) -> Any:
    """A running capture CardWatcher; events reach ``on_event`` on its thread."""
    try:
        from app.capture.card_watcher import CardWatcher
    except ImportError as exc:
        raise MachineFault(
            Code.NO_READER, "app.capture.reader is missing", subject="reader"
        ) from exc

    watcher = CardWatcher(lambda event: on_event(card_event(event)))
    watcher.start()
    return watcher
