"""Accept a photo: decode, check its quality, crop a 3:4 portrait, encode a JPEG under budget.

``accept_photo`` is what ``ektp-station enroll --photo FILE`` and the camera's "take" button
both end in. It returns an ``AcceptedPhoto`` or raises ``PhotoUnreadable`` (not an image, too
big) or ``PhotoRejected`` (an image that fails the quality checks, with every reason).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np

from app.capture.quality import (
    FACE_TOO_SMALL,
    FaceBox,
    Frame,
    QualityConfig,
    QualityIssue,
    QualityReport,
    assess,
    crop_box,
)


class PhotoError(Exception):
    """Base of the photo errors."""


class PhotoUnreadable(PhotoError):
    """The bytes are not an image we can decode, or are too large to try."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PhotoRejected(PhotoError):
    """The image decoded but fails the quality checks."""

    def __init__(self, reasons: list[QualityIssue], report: QualityReport | None = None) -> None:
        super().__init__("; ".join(r.message for r in reasons))
        self.reasons = reasons
        self.report = report

    @property
    def codes(self) -> list[str]:
        return [r.code for r in self.reasons]


@dataclass(frozen=True)
class AcceptedPhoto:
    jpeg: bytes
    width: int
    height: int
    report: QualityReport
    quality: int  # the JPEG quality that met the budget
    crop: FaceBox  # the crop, in the source image's pixels


def declared_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG or JPEG header without decoding, else None.

    Lets a decompression bomb (a small file declaring a huge image) be refused before
    OpenCV allocates the pixels.
    """
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24 and data[12:16] == b"IHDR":
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 4 <= len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            if marker == 0xFF:  # fill byte
                i += 1
                continue
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                i += 2
                continue
            (length,) = struct.unpack(">H", data[i + 2 : i + 4])
            # SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC) carry the frame size.
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                if i + 9 > len(data):
                    return None
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(w), int(h)
            i += 2 + length
    return None


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"


def decode_image(data: bytes, config: QualityConfig | None = None) -> Frame:
    """Decode a JPEG or PNG photo to BGR, within limits.

    Only those two, recognized by their first bytes (never by a file name): OpenCV decodes
    some other formats (Radiance .hdr, some TIFF) through a temporary file, which would put
    a resident's photo in clear on the disk. The image size is read from the header and
    checked before any pixel is decoded.
    """
    config = config or QualityConfig()
    if not data:
        raise PhotoUnreadable("The file is empty.")
    if len(data) > config.max_input_bytes:
        raise PhotoUnreadable(
            f"The file is too large ({len(data):,} bytes; limit {config.max_input_bytes:,})."
        )
    if not (data.startswith(PNG_MAGIC) or data.startswith(JPEG_MAGIC)):
        raise PhotoUnreadable("The file is not a JPEG or PNG photo (only those are accepted).")
    size = declared_size(data)
    if size is None:
        raise PhotoUnreadable("The image size cannot be read from the file's header.")
    if size[0] * size[1] > config.max_input_pixels:
        raise PhotoUnreadable(
            f"The image is too large ({size[0]}x{size[1]} pixels; "
            f"limit {config.max_input_pixels:,} pixels)."
        )
    try:
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    except cv2.error as e:  # some codecs, and OpenCV's pixel cap, raise instead of returning None
        raise PhotoUnreadable("The file is not a readable image, or is too large to decode.") from e
    if image is None or image.size == 0:
        raise PhotoUnreadable("The file is not a readable image.")
    h, w = image.shape[:2]
    if w * h > config.max_input_pixels:
        raise PhotoUnreadable(
            f"The image is too large ({w}x{h} pixels; limit {config.max_input_pixels:,} pixels)."
        )
    return image  # type: ignore[return-value]


def encode_within_budget(image: Frame, config: QualityConfig) -> tuple[bytes, int, int, int]:
    """JPEG under the byte budget: highest quality that fits, shrinking only as a last resort.

    Returns (jpeg, width, height, quality). Raises PhotoRejected if even the minimum size at
    the minimum quality does not fit (a budget set absurdly low).
    """
    h, w = image.shape[:2]
    if w > config.output_max_width:
        nw = config.output_max_width
        image = cv2.resize(image, (nw, round(h * nw / w)), interpolation=cv2.INTER_AREA)  # type: ignore[assignment]
    while True:
        h, w = image.shape[:2]
        best: tuple[bytes, int] | None = None
        lo, hi = config.jpeg_quality_min, config.jpeg_quality_max
        while lo <= hi:  # binary search on quality: size grows with quality
            q = (lo + hi) // 2
            ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, q])
            if not ok:
                raise RuntimeError("OpenCV could not encode a JPEG")
            if len(buf) <= config.jpeg_budget_bytes:
                best = (buf.tobytes(), q)
                lo = q + 1
            else:
                hi = q - 1
        if best is not None:
            return best[0], w, h, best[1]
        nw = int(w * 0.85) // 3 * 3  # a multiple of 3: the height stays exactly 4/3 of it
        if nw < config.output_min_width:
            raise PhotoRejected(
                [
                    QualityIssue(
                        "over_budget",
                        f"The photo cannot be encoded under {config.jpeg_budget_bytes:,} bytes "
                        f"at {config.output_min_width} px wide or more.",
                    )
                ]
            )
        image = cv2.resize(image, (nw, nw * 4 // 3), interpolation=cv2.INTER_AREA)  # type: ignore[assignment]


def accept_image(image: Frame, config: QualityConfig | None = None) -> AcceptedPhoto:
    """Check a decoded BGR image (a file's or a camera frame) and make the portrait JPEG."""
    config = config or QualityConfig()
    report = assess(image, config)
    if not report.ok:
        raise PhotoRejected(report.reasons, report)
    assert report.face is not None  # ok implies exactly one face
    h, w = image.shape[:2]
    box = crop_box(report.face, w, h, config)
    if box is None:  # assess() already refuses this as face_too_close
        raise PhotoRejected(report.reasons, report)
    if box.w < config.output_min_width:
        reason = QualityIssue(
            FACE_TOO_SMALL,
            f"The portrait would be only {box.w}x{box.h} px; at least "
            f"{config.output_min_width} px wide is needed: use a larger picture.",
        )
        raise PhotoRejected([reason], report)
    crop = np.ascontiguousarray(image[box.y : box.y + box.h, box.x : box.x + box.w])
    jpeg, ow, oh, q = encode_within_budget(crop, config)
    return AcceptedPhoto(jpeg=jpeg, width=ow, height=oh, report=report, quality=q, crop=box)


def accept_photo(data: bytes, config: QualityConfig | None = None) -> AcceptedPhoto:
    """Decode a photo file's bytes, check it, and return the cropped portrait JPEG."""
    config = config or QualityConfig()
    return accept_image(decode_image(data, config), config)
