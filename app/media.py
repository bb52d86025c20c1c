"""Where a file naming a resident may go: removable media, never the station's own disk.

A receipt PDF names the resident; the station must hold no personal data in clear after
sealing. ``removable_dirs`` finds the mounted sticks to offer first; ``on_station_disk``
tells whether a target lies on the disk that holds the station's data or the system (same
device as the station home, the system root or the user's home), where it is refused unless
a supervisor has allowed it (setting ``receipt_pdf_on_station``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def _device(path: Path) -> int | None:
    """The device of ``path``, or of its nearest existing parent (a file not written yet)."""
    for candidate in (path, *path.parents):
        try:
            return os.stat(candidate).st_dev
        except OSError:
            continue
    return None


def _station_anchors(home: Path) -> list[Path]:
    anchors = [home, Path.home()]
    if sys.platform == "win32":
        anchors.append(Path(os.environ.get("SystemDrive", "C:") + "\\"))
    else:
        anchors.append(Path("/"))
    return anchors


def on_station_disk(target: Path, home: Path) -> bool:
    """Whether ``target`` lies on the station's own disk (see the module docstring)."""
    device = _device(target.absolute())
    if device is None:
        return True  # nothing of it exists: treat as the station's own, never as a stick
    return any(_device(a) == device for a in _station_anchors(home))


def removable_dirs() -> list[Path]:
    """Mounted removable media, for the save dialog to start in (may be empty)."""
    if sys.platform == "win32":  # pragma: no cover - Windows only
        import ctypes

        drive_removable = 2
        found = []
        for letter in "DEFGHIJKLMNOPQRSTUVWXYZ":
            root = f"{letter}:\\"
            if ctypes.windll.kernel32.GetDriveTypeW(root) == drive_removable:  # type: ignore[attr-defined]
                found.append(Path(root))
        return found
    found = []
    try:
        with open("/proc/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                parts = line.split()
                if len(parts) < 2:
                    continue
                mount = parts[1].replace("\\040", " ")
                if mount.startswith(("/media/", "/run/media/")) and os.access(mount, os.W_OK):
                    found.append(Path(mount))
    except OSError:
        pass
    return found
