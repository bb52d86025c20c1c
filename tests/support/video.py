"""Camera stand-ins made in the test: MJPG .avi files and numbered image sequences.

No camera exists on CI machines (no /dev/video*, no v4l2loopback), so the preview loop is fed
by files OpenCV reads through the same ``VideoCapture`` API a device uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt


def write_video(path: Path, frames: Iterable[npt.NDArray[np.uint8]], fps: float = 25.0) -> Path:
    """An MJPG .avi of the frames (all must share the first frame's size)."""
    writer: cv2.VideoWriter | None = None
    count = 0
    try:
        for frame in frames:
            if writer is None:
                h, w = frame.shape[:2]
                writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
                if not writer.isOpened():
                    raise RuntimeError(f"cannot write {path}")
            writer.write(frame)
            count += 1
    finally:
        if writer is not None:
            writer.release()
    if count == 0:
        raise ValueError("no frames")
    return path


def write_sequence(
    directory: Path, frames: Iterable[npt.NDArray[np.uint8]], ext: str = ".png"
) -> str:
    """Frames as ``directory/frame_000.png``...; returns the printf pattern for VideoCapture."""
    directory.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        if not cv2.imwrite(str(directory / f"frame_{i:03d}{ext}"), frame):
            raise RuntimeError(f"cannot write frame {i}")
    return str(directory / f"frame_%03d{ext}")
