"""Photo quality: one face, big enough, centred, sharp, well exposed.

The same ``assess()`` runs on live preview frames and on a photo given to ``enroll --photo``.
Every threshold lives in ``QualityConfig`` so a kit can be tuned in one place. Each failed check
becomes a ``QualityIssue`` with a machine code (for the UI to translate) and a plain English message.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]  # BGR, HxWx3, as OpenCV delivers it

# Machine codes of the checks, in the order the UI should show them.
NO_FACE = "no_face"
MANY_FACES = "many_faces"
FACE_TOO_SMALL = "face_too_small"
FACE_TOO_CLOSE = "face_too_close"
OFF_CENTRE = "off_centre"
BLURRY = "blurry"
TOO_DARK = "too_dark"
TOO_BRIGHT = "too_bright"

CODES = (
    NO_FACE,
    MANY_FACES,
    FACE_TOO_SMALL,
    FACE_TOO_CLOSE,
    OFF_CENTRE,
    BLURRY,
    TOO_DARK,
    TOO_BRIGHT,
)


@dataclass(frozen=True)
class QualityConfig:
    """All photo thresholds, in one place."""

    # Detection runs on a copy scaled so its longer side is at most this (Haar cost grows
    # with pixels: ~20 ms at 320x240, ~85 ms at 640x480 on the reference 2-core machine).
    # Measured on astronaut, lfw_subset and non-face photos: 320 finds as many faces as 480.
    detect_max_side: int = 320
    # Smallest face the detector looks for, as a fraction of the shorter image side. Smaller
    # than the "too small" limit so a small face is reported as small, not as missing.
    detect_min_face_fraction: float = 0.08
    # Haar pyramid step and vote count. 1.15/5 finds 95 of lfw_subset's 100 faces, no false
    # face on the 100 non-faces nor on coffee/chelsea/rocket, at ~60% of the cost of 1.1/6.
    detect_scale_factor: float = 1.15
    detect_min_neighbors: int = 5
    # Faces narrower than this fraction of the largest one are background, not a second person.
    secondary_face_ratio: float = 0.5
    # Face width (Haar box, brows to mouth) against the image width, and in source pixels.
    min_face_ratio: float = 0.12
    max_face_ratio: float = 0.6
    min_face_px: int = 90
    # Face centre: horizontal distance from the image centre as a fraction of the width;
    # vertical position as a fraction of the height (portraits sit high).
    max_centre_offset_x: float = 0.2
    centre_y_min: float = 0.15
    centre_y_max: float = 0.7
    # Variance of the Laplacian of the face scaled to 128 px wide (so it does not depend on
    # the face's pixel size). A sharp face measures a few hundred; Gaussian blur sigma 1 ~30.
    min_sharpness: float = 45.0
    sharpness_face_px: int = 128
    # Exposure of the face (of the whole image when no face): mean grey level and the share
    # of blown-out pixels.
    min_brightness: float = 60.0
    max_brightness: float = 210.0
    max_clipped_fraction: float = 0.3
    # Portrait crop: 3:4, crop width = face width x factor, face centre at this height.
    crop_face_factor: float = 2.0
    crop_min_face_factor: float = 1.4
    crop_face_centre_y: float = 0.45
    # Output JPEG: at most this size (downscaled if larger, never upscaled), at least the
    # minimum, under the byte budget by choosing the quality first.
    output_max_width: int = 480
    output_min_width: int = 180
    jpeg_budget_bytes: int = 40_000
    jpeg_quality_max: int = 95
    jpeg_quality_min: int = 50
    # Input limits for a photo file.
    max_input_bytes: int = 20_000_000
    max_input_pixels: int = 40_000_000
    # Auto-capture: the frame must have been good for this long.
    auto_capture_seconds: float = 1.0


@dataclass(frozen=True)
class QualityIssue:
    code: str
    message: str


@dataclass(frozen=True)
class FaceBox:
    x: int
    y: int
    w: int
    h: int

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x + self.w / 2, self.y + self.h / 2)


@dataclass(frozen=True)
class QualityReport:
    """What the checks found on one image (coordinates in that image's pixels)."""

    width: int
    height: int
    faces: list[FaceBox]
    face: FaceBox | None
    sharpness: float | None
    brightness: float
    clipped_fraction: float
    reasons: list[QualityIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.reasons

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (for the packet manifest's quality figures and ``--json`` output)."""
        d = asdict(self)
        d["ok"] = self.ok
        return d


_local = threading.local()


def _cascade() -> cv2.CascadeClassifier:
    # CascadeClassifier is not safe to share between threads: one per thread.
    c = getattr(_local, "cascade", None)
    if c is None:
        path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"  # type: ignore[attr-defined]
        c = cv2.CascadeClassifier(path)
        if c.empty():
            raise RuntimeError(f"cannot load the Haar face cascade from {path}")
        _local.cascade = c
    return c


def to_grey(image: Frame) -> npt.NDArray[np.uint8]:
    if image.ndim == 2:
        return image
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)  # type: ignore[return-value]


def detect_faces(grey: npt.NDArray[np.uint8], config: QualityConfig) -> list[FaceBox]:
    """Faces in a grey image, largest first, in that image's coordinates."""
    h, w = grey.shape[:2]
    scale = min(1.0, config.detect_max_side / max(h, w))
    small: npt.NDArray[Any] = grey
    if scale < 1.0:
        small = cv2.resize(grey, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    # No histogram equalisation: it finds a few more dim faces but adds false faces
    # (a second "face" on the astronaut's suit) and loses ~15% of lfw_subset's faces.
    min_side = max(20, round(min(small.shape[:2]) * config.detect_min_face_fraction))
    found = _cascade().detectMultiScale(
        small,
        scaleFactor=config.detect_scale_factor,
        minNeighbors=config.detect_min_neighbors,
        minSize=(min_side, min_side),
    )
    boxes = [
        FaceBox(round(x / scale), round(y / scale), round(fw / scale), round(fh / scale))
        for (x, y, fw, fh) in found
    ]
    return sorted(boxes, key=lambda b: b.w * b.h, reverse=True)


def _sharpness(grey: npt.NDArray[np.uint8], face: FaceBox, config: QualityConfig) -> float:
    region: npt.NDArray[Any] = grey[face.y : face.y + face.h, face.x : face.x + face.w]
    side = config.sharpness_face_px
    interp = cv2.INTER_AREA if face.w >= side else cv2.INTER_LINEAR
    region = cv2.resize(region, (side, side), interpolation=interp)
    return float(cv2.Laplacian(region, cv2.CV_64F).var())


def assess(image: Frame, config: QualityConfig | None = None) -> QualityReport:
    """Run every check on one BGR (or grey) image; all failed checks are reported."""
    config = config or QualityConfig()
    grey = to_grey(image)
    h, w = grey.shape[:2]
    faces = detect_faces(grey, config)
    reasons: list[QualityIssue] = []
    main = faces[0] if faces else None
    if main is None:
        reasons.append(
            QualityIssue(
                NO_FACE,
                "No face was found in the picture (it must be a frontal face, "
                "large enough and well lit).",
            )
        )
        region = grey
    else:
        others = [f for f in faces[1:] if f.w >= main.w * config.secondary_face_ratio]
        if others:
            reasons.append(
                QualityIssue(
                    MANY_FACES, f"{len(others) + 1} faces were found; exactly one is needed."
                )
            )
        ratio = main.w / w
        if ratio < config.min_face_ratio or main.w < config.min_face_px:
            reasons.append(
                QualityIssue(
                    FACE_TOO_SMALL,
                    f"The face is too small ({main.w} px, {ratio:.0%} of the width); "
                    f"move closer or use a larger picture.",
                )
            )
        elif ratio > config.max_face_ratio or crop_box(main, w, h, config) is None:
            reasons.append(
                QualityIssue(FACE_TOO_CLOSE, "The face is too close: head and shoulders must fit.")
            )
        cx, cy = main.centre
        if abs(cx / w - 0.5) > config.max_centre_offset_x or not (
            config.centre_y_min <= cy / h <= config.centre_y_max
        ):
            reasons.append(QualityIssue(OFF_CENTRE, "The face is not centred in the picture."))
        region = grey[main.y : main.y + main.h, main.x : main.x + main.w]
    sharpness = None
    if main is not None:
        sharpness = _sharpness(grey, main, config)
        if sharpness < config.min_sharpness:
            reasons.append(QualityIssue(BLURRY, f"The face is blurry (sharpness {sharpness:.0f})."))
    brightness = float(region.mean())
    clipped = float(np.count_nonzero(region >= 250) / region.size)
    if brightness < config.min_brightness:
        reasons.append(
            QualityIssue(TOO_DARK, f"The picture is too dark (brightness {brightness:.0f}).")
        )
    elif brightness > config.max_brightness or clipped > config.max_clipped_fraction:
        reasons.append(
            QualityIssue(
                TOO_BRIGHT,
                f"The picture is too bright (brightness {brightness:.0f}, {clipped:.0%} blown out).",
            )
        )
    return QualityReport(
        width=w,
        height=h,
        faces=faces,
        face=main,
        sharpness=sharpness,
        brightness=brightness,
        clipped_fraction=clipped,
        reasons=reasons,
    )


def crop_box(face: FaceBox, width: int, height: int, config: QualityConfig) -> FaceBox | None:
    """The 3:4 portrait crop around a face, inside the image; None when it cannot fit.

    The crop is ``crop_face_factor`` face widths wide, shrunk (down to
    ``crop_min_face_factor``) when the image is too small, then shifted to stay inside.
    """
    cw = face.w * config.crop_face_factor
    # Largest 3:4 box the image can hold.
    cw = min(cw, width, height * 3 / 4)
    if cw < face.w * config.crop_min_face_factor:
        return None
    # Whole pixels in an exact 3:4 ratio.
    iw = int(cw) // 3 * 3
    ih = iw * 4 // 3
    cx, cy = face.centre
    cw, ch = float(iw), float(ih)
    x = cx - cw / 2
    y = cy - ch * config.crop_face_centre_y
    x = min(max(x, 0.0), width - cw)
    y = min(max(y, 0.0), height - ch)
    return FaceBox(int(x), int(y), iw, ih)
