"""FrameLoop on real OpenCV sources: newest frame only, reports every Nth, prompt stop()."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest

from app.capture.camera import (
    CameraError,
    ImageSequenceSource,
    StillImageSource,
    VideoFileSource,
)
from app.capture.frameloop import FrameEvent, FrameLoop
from app.capture.photo import AcceptedPhoto, PhotoRejected
from app.capture.quality import QualityConfig, QualityReport, assess
from tests.support import faces
from tests.support.video import write_sequence, write_video

# Seconds: what "promptly" means for stop(). Unloaded it takes a few ms (at most one Haar pass,
# ~50 ms); the waits it must cut short are 5 s (a still image at 0.2 fps) or endless (a looped
# file), so 1.5 s still tells prompt from stuck with room for a loaded 2-core CI machine.
STOP_BOUND = 1.5


class Collector:
    def __init__(self, delay: float = 0.0) -> None:
        self.events: list[FrameEvent] = []
        self.delay = delay
        self.first = threading.Event()
        self.ended = threading.Event()

    def __call__(self, event: FrameEvent) -> None:
        self.events.append(event)
        self.first.set()
        if self.delay:
            time.sleep(self.delay)

    def end(self) -> None:
        self.ended.set()


@pytest.fixture(scope="module")
def astronaut_avi(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("video") / "astronaut.avi"
    frame = faces.astronaut_frame()
    # A slight drift per frame, as a person breathing in front of a camera.
    frames = [np.roll(frame, i % 6, axis=1) for i in range(30)]
    return write_video(path, frames, fps=25)


def run_to_end(loop: FrameLoop, collector: Collector, timeout: float = 20.0) -> None:
    loop.start()
    try:
        assert collector.ended.wait(timeout), "the loop did not reach the end of the file"
    finally:
        assert loop.stop()


def test_face_video_reports_every_nth_frame(astronaut_avi: Path) -> None:
    c = Collector()
    reports: list[tuple[int, QualityReport]] = []
    loop = FrameLoop(
        VideoFileSource(astronaut_avi, realtime=True),
        c,
        detect_every=3,
        on_end=c.end,
        on_report=lambda n, r: reports.append((n, r)),
    )
    run_to_end(loop, c)
    assert not loop.running and loop.ended.is_set() and loop.error is None
    # Every 3rd delivered frame is offered to the analyser (a newer offer replaces one it
    # had no time for): the analysed frames are among those.
    offered = [e.number for i, e in enumerate(c.events) if i % 3 == 0]
    assert reports and [n for n, _ in reports] == sorted({n for n, _ in reports})
    assert {n for n, _ in reports} <= set(offered)
    assert loop.stats.analysed == len(reports)
    assert loop.stats.analysed + loop.stats.skipped == len(offered)
    for _, report in reports:
        assert report.ok, report.reasons
        face = report.face
        assert face is not None and 200 < face.x < 240 and 60 < face.y < 100
    # Each frame carries the newest report so far (for the overlay), never a future one.
    for e in c.events:
        assert e.frame.shape == (480, 640, 3)
        if e.report_number is not None:
            assert e.report_number <= e.number and e.report is not None
    assert c.events[-1].report is not None and c.events[-1].good_for > 0.5
    assert loop.stats.read == 30
    assert loop.stats.delivered + loop.stats.dropped == 30
    numbers = [e.number for e in c.events]
    assert numbers == sorted(set(numbers))


@pytest.mark.parametrize("name", ["coffee", "chelsea"])
def test_non_face_video_says_no_face(tmp_path: Path, name: str) -> None:
    frame = faces.on_canvas(faces.non_face(name))
    path = write_video(tmp_path / f"{name}.avi", [frame] * 6)
    c = Collector()
    reports: list[QualityReport] = []
    loop = FrameLoop(
        VideoFileSource(path),
        c,
        detect_every=2,
        on_end=c.end,
        on_report=lambda n, r: reports.append(r),
    )
    run_to_end(loop, c)
    assert reports and all(r.codes[0] == "no_face" and r.face is None for r in reports)


def test_lfw_sequence_finds_faces_and_non_faces(tmp_path: Path) -> None:
    face_frames = [faces.on_canvas(f, scale=6) for f in faces.lfw_faces()[:12]]
    other_frames = [faces.on_canvas(f, scale=6) for f in faces.lfw_non_faces()[:12]]
    pattern = write_sequence(tmp_path / "lfw", face_frames + other_frames)
    # Every frame of the sequence, checked in order (no timing involved).
    with ImageSequenceSource(pattern) as source:
        reports = []
        while (frame := source.read()) is not None and len(reports) < 50:
            reports.append(assess(frame))
    assert len(reports) == 24
    face_hits = sum(r.face is not None for r in reports[:12])
    other_hits = sum(r.face is not None for r in reports[12:])
    assert face_hits >= 11  # Haar finds nearly every lfw face
    assert other_hits == 0
    # Small real faces blown up 6x are soft: the sharpness check speaks on some.
    codes = {code for r in reports for code in r.codes}
    assert codes <= {"blurry", "no_face", "off_centre"}
    # The same sequence through the loop: every report it makes agrees.
    c = Collector()
    seen: dict[int, QualityReport] = {}
    loop = FrameLoop(
        ImageSequenceSource(pattern, realtime=True, fps=30),
        c,
        detect_every=1,
        on_end=c.end,
        on_report=seen.__setitem__,
    )
    run_to_end(loop, c)
    assert seen
    for n, report in seen.items():
        assert (report.face is None) == (reports[n].face is None)


def test_slow_consumer_gets_newest_frames_not_a_queue(astronaut_avi: Path) -> None:
    c = Collector(delay=0.03)
    loop = FrameLoop(VideoFileSource(astronaut_avi), c, detect_every=10, on_end=c.end)
    run_to_end(loop, c)
    assert loop.stats.dropped > 0
    assert len(c.events) < 30
    numbers = [e.number for e in c.events]
    assert numbers == sorted(set(numbers))
    assert max(b - a for a, b in zip(numbers, numbers[1:], strict=False)) > 1
    # The last frame of the file is always delivered: the newest is never lost.
    assert numbers[-1] == 29


def test_paced_file_is_delivered_in_real_time(astronaut_avi: Path) -> None:
    c = Collector()
    loop = FrameLoop(VideoFileSource(astronaut_avi, realtime=True), c, detect_every=5, on_end=c.end)
    t0 = time.monotonic()
    run_to_end(loop, c)
    assert time.monotonic() - t0 >= 29 / 25 * 0.9  # 30 frames at 25 fps


@pytest.mark.parametrize("delay", [0.0, 0.2], ids=["idle", "slow-consumer"])
def test_stop_is_prompt_while_running(astronaut_avi: Path, delay: float) -> None:
    c = Collector(delay=delay)
    loop = FrameLoop(VideoFileSource(astronaut_avi, loop=True), c, detect_every=2)
    loop.start()
    try:
        assert c.first.wait(20)
    finally:
        t0 = time.monotonic()
        assert loop.stop()
    assert time.monotonic() - t0 < STOP_BOUND + delay
    assert not loop.running
    n = len(c.events)
    time.sleep(0.05)
    assert len(c.events) == n  # nothing delivered after stop()


def test_stop_is_prompt_during_a_long_pacing_wait() -> None:
    c = Collector()
    loop = FrameLoop(StillImageSource(faces.astronaut_frame(), fps=0.2), c)  # one frame per 5 s
    loop.start()
    try:
        assert c.first.wait(20)
    finally:
        t0 = time.monotonic()
        assert loop.stop()
    assert time.monotonic() - t0 < STOP_BOUND


def test_stop_from_inside_on_frame(astronaut_avi: Path) -> None:
    stopped = threading.Event()
    seen: list[int] = []
    loop: FrameLoop

    def on_frame(event: FrameEvent) -> None:
        seen.append(event.number)
        if len(seen) == 3:
            loop.stop()
            stopped.set()

    loop = FrameLoop(VideoFileSource(astronaut_avi, loop=True), on_frame, detect_every=4)
    loop.start()
    try:
        assert stopped.wait(20)
        deadline = time.monotonic() + STOP_BOUND
        while loop.running and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not loop.running
        assert len(seen) == 3
    finally:
        loop.stop()


def test_stop_from_on_frame_while_start_is_still_starting_threads(
    astronaut_avi: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a loaded machine start() can be descheduled after starting the reader and the
    deliverer: a stop() from on_frame then must not try to join the analyser before it is
    started ("cannot join thread before it is started" ended the deliverer, seen under load)."""
    start = threading.Thread.start

    def late_analyser(self: threading.Thread) -> None:
        if self.name == "frameloop-analyse":
            time.sleep(0.5)
        start(self)

    monkeypatch.setattr(threading.Thread, "start", late_analyser)
    stopped = threading.Event()
    seen: list[int] = []
    loop: FrameLoop

    def on_frame(event: FrameEvent) -> None:
        seen.append(event.number)
        if len(seen) == 3:
            assert loop.stop()
            stopped.set()

    loop = FrameLoop(VideoFileSource(astronaut_avi, loop=True), on_frame, detect_every=4)
    loop.start()
    try:
        assert stopped.wait(20), loop.error
        assert loop.error is None
    finally:
        assert loop.stop()


def test_start_on_missing_source_raises(tmp_path: Path) -> None:
    loop = FrameLoop(VideoFileSource(tmp_path / "none.avi"), Collector())
    with pytest.raises(CameraError):
        loop.start()
    assert not loop.running
    assert loop.stop()


def test_auto_capture_once_good_for_a_moment() -> None:
    captured: list[AcceptedPhoto] = []
    got = threading.Event()

    captured_at: list[float] = []

    def on_capture(photo: AcceptedPhoto) -> None:
        captured.append(photo)
        captured_at.append(time.monotonic())
        got.set()

    c = Collector()
    config = QualityConfig(auto_capture_seconds=0.3)
    loop = FrameLoop(
        StillImageSource(faces.astronaut_frame(), fps=30),
        c,
        detect_every=3,
        config=config,
        auto_capture=True,
        on_capture=on_capture,
    )
    started = time.monotonic()
    loop.start()
    try:
        assert got.wait(20)
        time.sleep(0.4)  # disarmed after one capture
    finally:
        assert loop.stop()
    assert len(captured) == 1
    photo = captured[0]
    assert len(photo.jpeg) <= config.jpeg_budget_bytes and photo.width * 4 == photo.height * 3
    # It waited until the picture had been good for the configured moment.
    assert captured_at[0] - started >= 0.3
    assert photo.report.ok and photo.report.face is not None


def test_no_auto_capture_without_a_face() -> None:
    captured: list[AcceptedPhoto] = []
    c = Collector()
    loop = FrameLoop(
        StillImageSource(faces.on_canvas(faces.non_face("coffee")), fps=30),
        c,
        detect_every=2,
        config=QualityConfig(auto_capture_seconds=0.1),
        auto_capture=True,
        on_capture=captured.append,
    )
    started = time.monotonic()
    loop.start()
    try:
        # Long enough for auto-capture to have fired had there been a face: several analysed
        # frames over well past the 0.1 s moment (waited for, not slept: a loaded machine
        # delivers fewer frames per second).
        deadline = started + 20
        while time.monotonic() < deadline and not (
            loop.stats.analysed >= 5 and time.monotonic() - started >= 0.6
        ):
            time.sleep(0.02)
    finally:
        assert loop.stop()
    assert captured == []
    assert loop.stats.analysed >= 5 and len(c.events) >= 5
    with pytest.raises(PhotoRejected) as e:
        loop.capture_now()
    assert e.value.codes[0] == "no_face"
