"""Camera sources behind one small interface, and camera discovery.

A source is opened, read frame by frame (BGR numpy arrays), and closed. Kinds:
``DeviceSource`` (a camera by index, with the platform's backend: DirectShow or Media
Foundation on Windows, V4L2 on Linux), ``VideoFileSource``, ``ImageSequenceSource`` (a printf
pattern such as ``frames/f_%03d.png`` or a directory of images), ``StillImageSource``.
``open_source()`` picks one from a command-line style spec. ``list_cameras()`` says what is
attached, and says so plainly when nothing is.
"""

from __future__ import annotations

import contextlib
import glob
import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from app.capture.quality import Frame

BACKEND_ENV = "EKTP_CAMERA_BACKEND"
BACKENDS: dict[str, int] = {
    "any": cv2.CAP_ANY,
    "dshow": cv2.CAP_DSHOW,  # Windows DirectShow: opens fast, works with most USB kits
    "msmf": cv2.CAP_MSMF,  # Windows Media Foundation: the fallback for cameras DirectShow lacks
    "v4l2": cv2.CAP_V4L2,  # Linux
    "avfoundation": cv2.CAP_AVFOUNDATION,  # macOS
}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


class CameraError(Exception):
    """A source cannot be opened (no such camera, unreadable file)."""


def backend_name(backend: int) -> str:
    for name, value in BACKENDS.items():
        if value == backend:
            return name
    return str(backend)


def default_backend(platform: str | None = None) -> int:
    """The capture backend for this platform, unless ``EKTP_CAMERA_BACKEND`` names one.

    Windows kits default to DirectShow; set ``EKTP_CAMERA_BACKEND=msmf`` for a camera that
    only Media Foundation drives.
    """
    chosen = os.environ.get(BACKEND_ENV, "").strip().lower()
    if chosen:
        return parse_backend(chosen)
    platform = platform or sys.platform
    if platform == "win32":
        return cv2.CAP_DSHOW
    if platform.startswith("linux"):
        return cv2.CAP_V4L2
    if platform == "darwin":
        return cv2.CAP_AVFOUNDATION
    return cv2.CAP_ANY


def parse_backend(name: str) -> int:
    try:
        return BACKENDS[name.lower()]
    except KeyError:
        raise ValueError(
            f"unknown camera backend {name!r} (choose from {', '.join(BACKENDS)})"
        ) from None


@contextlib.contextmanager
def quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's own warnings (failed probes print "[ WARN ] can't open camera")."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)


class FrameSource(ABC):
    """One source of BGR frames. Not thread-safe: one thread opens, reads and closes it."""

    #: Seconds between frames to pace delivery (a file played in real time, a still image);
    #: None = as fast as ``read()`` returns (a device paces itself).
    frame_interval: float | None = None

    @property
    @abstractmethod
    def description(self) -> str: ...

    @abstractmethod
    def open(self) -> None:
        """Raises CameraError when the source cannot deliver."""

    @abstractmethod
    def read(self) -> Frame | None:
        """The next frame, or None at the end of the stream or on a device failure."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> FrameSource:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _CaptureSource(FrameSource):
    """A source read through ``cv2.VideoCapture``."""

    def __init__(self, *, loop: bool = False, realtime: bool = False) -> None:
        self.loop = loop
        self.realtime = realtime
        self._cap: cv2.VideoCapture | None = None

    @abstractmethod
    def _capture(self) -> cv2.VideoCapture: ...

    def open(self) -> None:
        with quiet_opencv():
            cap = self._capture()
        if not cap.isOpened():
            cap.release()
            raise CameraError(f"cannot open {self.description}")
        self._cap = cap
        if self.realtime:
            fps = cap.get(cv2.CAP_PROP_FPS)
            self.frame_interval = 1.0 / (fps if 1 <= fps <= 240 else 25.0)

    def read(self) -> Frame | None:
        if self._cap is None:
            raise CameraError(f"{self.description} is not open")
        ok, frame = self._cap.read()
        if not ok and self.loop:
            self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self._cap.read()
        return frame if ok else None  # type: ignore[return-value]

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    def properties(self) -> dict[str, float]:
        if self._cap is None:
            return {}
        return {
            "width": self._cap.get(cv2.CAP_PROP_FRAME_WIDTH),
            "height": self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT),
            "fps": self._cap.get(cv2.CAP_PROP_FPS),
        }


class DeviceSource(_CaptureSource):
    """A camera by index, through the platform backend (see ``default_backend``)."""

    def __init__(
        self, index: int, backend: int | None = None, width: int = 640, height: int = 480
    ) -> None:
        super().__init__()
        self.index = index
        self.backend = default_backend() if backend is None else backend
        self.width = width
        self.height = height

    @property
    def description(self) -> str:
        return f"camera {self.index} ({backend_name(self.backend)})"

    def _capture(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(self.index, self.backend)
        if cap.isOpened():
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
            # Keep the driver's queue short so a read is the newest frame, not an old one.
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return cap


class VideoFileSource(_CaptureSource):
    """A video file (MJPG .avi, mp4v, ...). ``realtime`` paces it at the file's fps."""

    def __init__(self, path: str | os.PathLike[str], *, loop: bool = False, realtime: bool = False):
        super().__init__(loop=loop, realtime=realtime)
        self.path = Path(path)

    @property
    def description(self) -> str:
        return f"video file {self.path}"

    def _capture(self) -> cv2.VideoCapture:
        if not self.path.is_file():
            raise CameraError(f"no such video file: {self.path}")
        return cv2.VideoCapture(str(self.path))


class ImageSequenceSource(FrameSource):
    """Numbered images: a printf pattern (``dir/f_%03d.png``) or a directory (sorted names)."""

    def __init__(
        self,
        pattern: str | os.PathLike[str],
        *,
        loop: bool = False,
        realtime: bool = False,
        fps: float = 15.0,
    ) -> None:
        self.pattern = str(pattern)
        self.loop = loop
        self.fps = fps
        self.frame_interval = 1.0 / fps if realtime else None
        self._files: list[str] = []
        self._next = 0
        self._cap: cv2.VideoCapture | None = None

    @property
    def description(self) -> str:
        return f"image sequence {self.pattern}"

    def open(self) -> None:
        if os.path.isdir(self.pattern):
            self._files = sorted(
                f
                for f in glob.glob(os.path.join(self.pattern, "*"))
                if Path(f).suffix.lower() in IMAGE_SUFFIXES
            )
            if not self._files:
                raise CameraError(f"no images in {self.pattern}")
            self._next = 0
            return
        with quiet_opencv():
            cap = cv2.VideoCapture(self.pattern, cv2.CAP_IMAGES)
        if not cap.isOpened():
            cap.release()
            raise CameraError(f"cannot open {self.description}")
        self._cap = cap

    def read(self) -> Frame | None:
        if self._cap is not None:
            ok, frame = self._cap.read()
            if not ok and self.loop:
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._cap.read()
            return frame if ok else None  # type: ignore[return-value]
        if not self._files:
            raise CameraError(f"{self.description} is not open")
        if self._next >= len(self._files):
            if not self.loop:
                return None
            self._next = 0
        path = self._files[self._next]
        self._next += 1
        return cv2.imread(path, cv2.IMREAD_COLOR)  # type: ignore[return-value]

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        self._files = []


class StillImageSource(FrameSource):
    """One picture repeated as a live feed (a demo, or a technician checking the screen)."""

    def __init__(self, image: str | os.PathLike[str] | Frame, *, fps: float = 15.0) -> None:
        self._given = image
        self._frame: Frame | None = None
        self.frame_interval = 1.0 / fps

    @property
    def description(self) -> str:
        if isinstance(self._given, np.ndarray):
            return "still image"
        return f"still image {self._given}"

    def open(self) -> None:
        if isinstance(self._given, np.ndarray):
            self._frame = self._given
            return
        frame = cv2.imread(str(self._given), cv2.IMREAD_COLOR)
        if frame is None:
            raise CameraError(f"cannot read the image {self._given}")
        self._frame = frame  # type: ignore[assignment]

    def read(self) -> Frame | None:
        if self._frame is None:
            raise CameraError(f"{self.description} is not open")
        return self._frame.copy()

    def close(self) -> None:
        self._frame = None


def open_source(
    spec: str | int, *, backend: int | None = None, loop: bool = False, realtime: bool = False
) -> FrameSource:
    """A source from a spec: a camera index (``0``), a printf pattern or directory of images,
    an image file, or a video file. The source is returned unopened."""
    if isinstance(spec, int) or spec.strip().isdigit():
        return DeviceSource(int(spec), backend)
    if "%" in spec or os.path.isdir(spec):
        return ImageSequenceSource(spec, loop=loop, realtime=realtime)
    if Path(spec).suffix.lower() in IMAGE_SUFFIXES:
        return StillImageSource(spec)
    return VideoFileSource(spec, loop=loop, realtime=realtime)


@dataclass(frozen=True)
class CameraInfo:
    index: int
    backend: str
    width: int
    height: int
    device: str | None = None  # /dev/videoN on Linux


@dataclass(frozen=True)
class CameraScan:
    cameras: list[CameraInfo]
    backend: str
    message: str

    @property
    def found(self) -> bool:
        return bool(self.cameras)

    def as_dict(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "backend": self.backend,
            "cameras": [asdict(c) for c in self.cameras],
            "message": self.message,
        }


def _linux_video_nodes(dev: str = "/dev") -> list[tuple[int, str]]:
    nodes = []
    for path in glob.glob(os.path.join(dev, "video*")):
        suffix = os.path.basename(path)[len("video") :]
        if suffix.isdigit():
            nodes.append((int(suffix), path))
    return sorted(nodes)


def list_cameras(backend: int | None = None, max_index: int = 4) -> CameraScan:
    """Cameras that open, probed by index. On Linux only the /dev/video* nodes are probed."""
    backend = default_backend() if backend is None else backend
    name = backend_name(backend)
    if sys.platform.startswith("linux"):
        candidates: list[tuple[int, str | None]] = list(_linux_video_nodes())
        if not candidates:
            return CameraScan([], name, "No camera found: there is no /dev/video* device.")
    else:
        candidates = [(i, None) for i in range(max_index)]
    cameras = []
    for index, device in candidates:
        with quiet_opencv():
            cap = cv2.VideoCapture(index, backend)
            try:
                if cap.isOpened():
                    w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
                    h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
                    cameras.append(CameraInfo(index, name, w, h, device))
            finally:
                cap.release()
    if not cameras:
        tried = ", ".join(str(i) for i, _ in candidates)
        return CameraScan([], name, f"No camera found (tried index {tried} with {name}).")
    n = len(cameras)
    return CameraScan(cameras, name, f"{n} camera{'s' if n > 1 else ''} found.")
