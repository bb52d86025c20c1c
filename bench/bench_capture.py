"""Camera preview and photo acceptance speed.

- Preview loop frames/s at 640x480 with the quality checks on every Nth frame (N = 5, and
  N = 1 for comparison), beside a bare ``VideoCapture.read()`` loop over the same MJPG file in
  the same run. Target >= 25 fps.
- The same loop fed in real time (a 30 fps file paced at its rate, as a camera delivers):
  delivered fps and the age of the frame shown (p95), i.e. how far the preview lags.
- Accept-to-JPEG: ``accept_image`` on a 640x480 camera frame (checks + crop + JPEG under the
  budget) beside one plain ``cv2.imencode`` of the same frame. Target < 100 ms.
"""

from __future__ import annotations

import statistics
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import skimage.data

from app.capture.camera import VideoFileSource
from app.capture.frameloop import FrameEvent, FrameLoop
from app.capture.photo import accept_image, accept_photo
from bench.figures import Figure, percentile

BENCH = "capture"
DETECT_EVERY = 5


def _frame() -> np.ndarray:
    a = cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR)
    a = cv2.resize(a, (640, 640), interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(a[:480])


def _video(path: Path, frames: int, fps: float) -> Path:
    base = _frame()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (640, 480))
    for i in range(frames):
        writer.write(np.roll(base, (i % 12) - 6, axis=1))
    writer.release()
    return path


def _bare_read_fps(path: Path) -> float:
    cap = cv2.VideoCapture(str(path))
    n = 0
    t0 = time.perf_counter()
    while True:
        ok, _ = cap.read()
        if not ok:
            break
        n += 1
    elapsed = time.perf_counter() - t0
    cap.release()
    return n / elapsed


def _loop(path: Path, detect_every: int, realtime: bool = False) -> dict[str, float]:
    """Delivered fps, analyses/s, frames offered to the analyser /s, p95 shown-frame age."""
    ages: list[float] = []
    done = threading.Event()

    def on_frame(e: FrameEvent) -> None:
        ages.append(time.monotonic() - e.timestamp)

    loop = FrameLoop(
        VideoFileSource(path, realtime=realtime),
        on_frame,
        detect_every=detect_every,
        on_end=done.set,
    )
    t0 = time.perf_counter()
    loop.start()
    try:
        if not done.wait(120):
            raise RuntimeError("preview loop did not finish")
        elapsed = time.perf_counter() - t0
    finally:
        loop.stop()
    st = loop.stats
    return {
        "fps": st.delivered / elapsed,
        "analysed": st.analysed / elapsed,
        "offered": (st.analysed + st.skipped) / elapsed,
        "age_p95_ms": percentile(ages, 95) * 1000,
    }


def _timed(fn, runs: int) -> float:  # type: ignore[no-untyped-def]
    fn()  # warm-up (cascade load, codec init)
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples) * 1000


def run(quick: bool) -> list[Figure]:
    frames = 120 if quick else 600
    runs = 10 if quick else 50
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory() as tmp:
        path = _video(Path(tmp) / "preview.avi", frames, fps=30)
        bare = _bare_read_fps(path)
        free = _loop(path, DETECT_EVERY)
        figures.append(
            Figure(
                BENCH,
                f"preview 640x480 from file, checks on every {DETECT_EVERY}th frame",
                "frames/s",
                free["fps"],
                bare,
                "bare VideoCapture.read()",
                ">= 25",
                free["fps"] >= 25,
            )
        )
        figures.append(Figure(BENCH, "  of which quality reports", "reports/s", free["analysed"]))
        paced = _video(Path(tmp) / "paced.avi", 90 if quick else 300, fps=30)
        for n in (DETECT_EVERY, 1):
            r = _loop(paced, n, realtime=True)
            figures.append(
                Figure(
                    BENCH,
                    f"camera-paced 30 fps, checks every {n}th: delivered",
                    "frames/s",
                    r["fps"],
                    30.0,
                    "source fps",
                    ">= 25",
                    r["fps"] >= 25,
                )
            )
            figures.append(
                Figure(
                    BENCH,
                    f"camera-paced 30 fps, checks every {n}th: reports",
                    "reports/s",
                    r["analysed"],
                    r["offered"],
                    "frames offered",
                )
            )
            figures.append(
                Figure(
                    BENCH,
                    f"camera-paced 30 fps, checks every {n}th: shown-frame age p95",
                    "ms",
                    r["age_p95_ms"],
                    target="< 33",
                    ok=r["age_p95_ms"] < 33,
                )
            )

    frame = _frame()
    accept_ms = _timed(lambda: accept_image(frame), runs)
    encode_ms = _timed(lambda: cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 95]), runs)
    figures.append(
        Figure(
            BENCH,
            "accept-to-JPEG, 640x480 frame",
            "ms",
            accept_ms,
            encode_ms,
            "one cv2.imencode of the frame",
            "< 100",
            accept_ms < 100,
        )
    )
    ok, png = cv2.imencode(".png", cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR))
    assert ok
    data = png.tobytes()
    photo_ms = _timed(lambda: accept_photo(data), runs)
    figures.append(
        Figure(
            BENCH,
            "accept_photo, 512x512 PNG file",
            "ms",
            photo_ms,
            encode_ms,
            "one cv2.imencode of a frame",
            "< 100",
            photo_ms < 100,
        )
    )
    return figures
