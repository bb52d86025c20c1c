"""Camera sources on real OpenCV: files and sequences made here, and no device on this machine."""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from app.capture import camera
from app.capture.camera import (
    CameraError,
    DeviceSource,
    ImageSequenceSource,
    StillImageSource,
    VideoFileSource,
    default_backend,
    list_cameras,
    open_source,
    parse_backend,
)
from tests.support import faces
from tests.support.video import write_sequence, write_video


def numbered_frames(n: int) -> list[np.ndarray]:
    """Frames whose mean grey level encodes their number (survives MJPG)."""
    return [np.full((120, 160, 3), 20 + 10 * i, np.uint8) for i in range(n)]


def number_of(frame: np.ndarray) -> int:
    return round((float(frame.mean()) - 20) / 10)


def read_all(source: camera.FrameSource, limit: int = 100) -> list[np.ndarray]:
    out = []
    with source:
        for _ in range(limit):
            frame = source.read()
            if frame is None:
                break
            out.append(frame)
    return out


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or bool(camera._linux_video_nodes()),
    reason="checks the no-camera machine (Linux without /dev/video*)",
)
def test_no_camera_said_plainly(capfd: pytest.CaptureFixture[str]) -> None:
    scan = list_cameras()
    assert not scan.found
    assert scan.cameras == []
    assert scan.message == "No camera found: there is no /dev/video* device."
    assert scan.as_dict() == {
        "found": False,
        "backend": "v4l2",
        "cameras": [],
        "message": scan.message,
    }
    with pytest.raises(CameraError, match=r"cannot open camera 0 \(v4l2\)"):
        DeviceSource(0).open()
    # OpenCV's own "[ WARN ] can't open camera by index" is kept off the console.
    assert "WARN" not in capfd.readouterr().err


def test_backend_per_platform(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(camera.BACKEND_ENV, raising=False)
    assert default_backend("win32") == cv2.CAP_DSHOW
    assert default_backend("linux") == cv2.CAP_V4L2
    assert default_backend("darwin") == cv2.CAP_AVFOUNDATION
    monkeypatch.setenv(camera.BACKEND_ENV, "msmf")
    assert default_backend("win32") == cv2.CAP_MSMF
    assert DeviceSource(1).description == "camera 1 (msmf)"
    with pytest.raises(ValueError, match="unknown camera backend 'quicktime'"):
        parse_backend("quicktime")


def test_video_file_frames_in_order(tmp_path: Path) -> None:
    path = write_video(tmp_path / "v.avi", numbered_frames(12), fps=20)
    frames = read_all(VideoFileSource(path))
    assert [number_of(f) for f in frames] == list(range(12))
    assert frames[0].shape == (120, 160, 3) and frames[0].dtype == np.uint8


def test_video_file_loops_and_paces(tmp_path: Path) -> None:
    path = write_video(tmp_path / "v.avi", numbered_frames(5), fps=20)
    source = VideoFileSource(path, loop=True, realtime=True)
    frames = read_all(source, limit=12)
    assert [number_of(f) for f in frames] == [0, 1, 2, 3, 4] * 2 + [0, 1]
    assert source.frame_interval == pytest.approx(0.05)
    assert VideoFileSource(path).frame_interval is None


def test_missing_or_broken_video_is_camera_error(tmp_path: Path) -> None:
    with pytest.raises(CameraError, match="no such video file"):
        VideoFileSource(tmp_path / "none.avi").open()
    junk = tmp_path / "junk.avi"
    junk.write_bytes(b"not a video" * 100)
    with pytest.raises(CameraError, match="cannot open video file"):
        VideoFileSource(junk).open()


def test_image_sequence_by_pattern_and_directory(tmp_path: Path) -> None:
    pattern = write_sequence(tmp_path / "seq", numbered_frames(7))
    by_pattern = read_all(ImageSequenceSource(pattern))
    by_dir = read_all(ImageSequenceSource(tmp_path / "seq"))
    assert [number_of(f) for f in by_pattern] == list(range(7))
    assert [number_of(f) for f in by_dir] == list(range(7))
    looped = read_all(ImageSequenceSource(tmp_path / "seq", loop=True), limit=9)
    assert [number_of(f) for f in looped] == [0, 1, 2, 3, 4, 5, 6, 0, 1]
    (tmp_path / "empty").mkdir()
    with pytest.raises(CameraError, match="no images"):
        ImageSequenceSource(tmp_path / "empty").open()


def test_still_image_repeats(tmp_path: Path) -> None:
    path = tmp_path / "a.png"
    cv2.imwrite(str(path), faces.astronaut())
    frames = read_all(StillImageSource(path, fps=10), limit=3)
    assert len(frames) == 3
    assert all(np.array_equal(f, faces.astronaut()) for f in frames)
    with pytest.raises(CameraError):
        StillImageSource(tmp_path / "none.png").open()


def test_open_source_picks_the_kind(tmp_path: Path) -> None:
    seq = write_sequence(tmp_path / "s", numbered_frames(2))
    assert isinstance(open_source("0"), DeviceSource)
    assert isinstance(open_source(2), DeviceSource)
    assert isinstance(open_source(seq), ImageSequenceSource)
    assert isinstance(open_source(str(tmp_path / "s")), ImageSequenceSource)
    assert isinstance(open_source("face.JPG"), StillImageSource)
    assert isinstance(open_source("clip.avi"), VideoFileSource)
