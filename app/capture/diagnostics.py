"""What the station's devices look like right now, for ``ektp-station doctor``.

``device_report()`` never raises and returns plain JSON-ready data; ``doctor --json`` embeds
its two parts under ``"camera"`` and ``"reader"``. Each part has ``ok`` and a plain English
``message`` a technician can act on.
"""

from __future__ import annotations

from typing import Any

import cv2

from app.capture import reader
from app.capture.camera import list_cameras

_SERVICE = {
    reader.ReaderStatus.OK: "running",
    reader.ReaderStatus.NO_READER: "running",
    reader.ReaderStatus.NO_SERVICE: "not_running",
    reader.ReaderStatus.UNAVAILABLE: "unavailable",
    reader.ReaderStatus.ERROR: "error",
}


def camera_report() -> dict[str, Any]:
    try:
        scan = list_cameras()
        d = scan.as_dict()
        d["ok"] = scan.found
    except Exception as e:  # a broken driver must not break doctor
        d = {"ok": False, "found": False, "cameras": [], "message": f"Camera check failed: {e!r}"}
    d["opencv"] = cv2.__version__
    return d


def reader_report(read_timeout: float = 3.0) -> dict[str, Any]:
    try:
        scan = reader.scan(timeout=read_timeout)
        d = scan.as_dict()
        d["ok"] = scan.status == reader.ReaderStatus.OK
        d["service"] = _SERVICE[scan.status]
    except Exception as e:
        d = {
            "ok": False,
            "status": "error",
            "service": "error",
            "readers": [],
            "card_present": False,
            "cards": [],
            "message": f"Card reader check failed: {e!r}",
        }
    return d


def device_report(read_timeout: float = 3.0) -> dict[str, Any]:
    """``{"camera": {...}, "reader": {...}}``: cameras found, PC/SC service state, readers,
    and the card present on each reader with its ATR and UID."""
    return {"camera": camera_report(), "reader": reader_report(read_timeout)}
