"""Real face and non-face pictures for tests, from the photos that ship with scikit-image.

All return BGR uint8 arrays (OpenCV's layout). No network: these are inside the wheel.
``astronaut()`` is one sharp frontal face (Haar finds it at about x=177, y=66, 95x95 px);
``lfw_faces()`` are 100 small (25x25) real faces, ``lfw_non_faces()`` 100 non-face patches.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt
import skimage.data

Image = npt.NDArray[np.uint8]


def _bgr(rgb: npt.NDArray[np.uint8]) -> Image:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)  # type: ignore[return-value]


def astronaut() -> Image:
    return _bgr(skimage.data.astronaut())


def non_face(name: str) -> Image:
    """``coffee``, ``chelsea`` (a cat) or ``rocket``."""
    if name not in ("coffee", "chelsea", "rocket"):
        raise ValueError(name)
    return _bgr(getattr(skimage.data, name)())


def _lfw(start: int) -> list[Image]:
    patches = skimage.data.lfw_subset()[start : start + 100]
    return [
        cv2.cvtColor((p * 255).astype(np.uint8), cv2.COLOR_GRAY2BGR)  # type: ignore[misc]
        for p in patches
    ]


def lfw_faces() -> list[Image]:
    return _lfw(0)


def lfw_non_faces() -> list[Image]:
    return _lfw(100)


def on_canvas(
    image: Image,
    size: tuple[int, int] = (640, 480),
    at: tuple[int, int] | None = None,
    scale: float = 1.0,
    fill: int = 120,
) -> Image:
    """``image`` scaled by ``scale`` and pasted on a plain ``size`` (w, h) canvas.

    ``at`` is the top-left corner (default: centred). Used to make camera-sized frames.
    """
    w, h = size
    if scale != 1.0:
        ih, iw = image.shape[:2]
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        image = cv2.resize(image, (round(iw * scale), round(ih * scale)), interpolation=interp)  # type: ignore[assignment]
    ih, iw = image.shape[:2]
    canvas = np.full((h, w, 3), fill, np.uint8)
    x, y = at if at is not None else ((w - iw) // 2, (h - ih) // 2)
    # Clip the paste to the canvas.
    sx, sy = max(0, -x), max(0, -y)
    ex, ey = min(iw, w - x), min(ih, h - y)
    canvas[y + sy : y + ey, x + sx : x + ex] = image[sy:ey, sx:ex]
    return canvas


def astronaut_frame(size: tuple[int, int] = (640, 480)) -> Image:
    """A camera-sized frame with the astronaut's portrait filling the width, top aligned.

    At 640x480 her face is about 119 px wide, centred: a frame that passes every check.
    """
    a = astronaut()
    scale = size[0] / a.shape[1]
    return on_canvas(a, size, at=(0, 0), scale=scale)


def encode(image: Image, ext: str = ".png") -> bytes:
    ok, buf = cv2.imencode(ext, image)
    assert ok
    return buf.tobytes()
