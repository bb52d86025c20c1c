"""The mirror directory: a second copy of every packet on other media, written at seal time.

A copy is complete or absent: bytes go to a temp file in the same directory, are fsynced,
renamed into place, and the directory is fsynced so the rename itself survives a power cut.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

PACKET_SUFFIX = ".ektp"
# Temp names start with a dot and end in .tmp: never mistaken for a packet (*.ektp).
TEMP_SUFFIX = ".tmp"
# Below this much free space the mirror is reported as nearly full.
LOW_SPACE_BYTES = 50 * 1024 * 1024


class MirrorError(Exception):
    """The mirror copy could not be written (missing, read-only or full media)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def fsync_dir(path: Path) -> None:
    if os.name == "nt":  # Windows cannot open a directory for fsync; NTFS journals renames
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` as ``directory/name`` durably and atomically; returns the path.

    Raises OSError; the temp file is removed on failure.
    """
    final = directory / name
    tmp = directory / f".{name}.{os.getpid()}{TEMP_SUFFIX}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(directory)
    return final


def packet_name(uuid: str) -> str:
    return f"{uuid}{PACKET_SUFFIX}"


def mirror_packet(directory: Path, uuid: str, data: bytes) -> Path:
    """Write one packet to the mirror; MirrorError with a plain reason when it cannot."""
    if not directory.is_dir():
        raise MirrorError(f"mirror directory {directory} is missing (is the drive plugged in?)")
    try:
        return write_atomic(directory, packet_name(uuid), data)
    except OSError as exc:
        if exc.errno in (28, 122):  # ENOSPC, EDQUOT
            raise MirrorError(f"mirror directory {directory} is full") from exc
        raise MirrorError(f"cannot write to mirror directory {directory}: {exc.strerror}") from exc


def remove_packet(directory: Path, uuid: str) -> None:
    try:
        (directory / packet_name(uuid)).unlink(missing_ok=True)
        fsync_dir(directory)
    except OSError:
        pass  # best effort: an orphan copy is complete ciphertext, reported by doctor


@dataclass(frozen=True)
class MirrorCheck:
    ok: bool
    message: str
    free_bytes: int | None = None


def check_mirror(directory: Path | None) -> MirrorCheck:
    """Is the mirror usable right now: present, writable, with space?"""
    if directory is None:
        return MirrorCheck(True, "no mirror configured")
    if not directory.is_dir():
        return MirrorCheck(False, f"mirror directory {directory} is missing")
    try:
        write_atomic(directory, ".probe", b"ok")
        (directory / ".probe").unlink()
    except OSError as exc:
        return MirrorCheck(False, f"mirror directory {directory} is not writable: {exc.strerror}")
    free = shutil.disk_usage(directory).free
    if free < LOW_SPACE_BYTES:
        return MirrorCheck(False, f"mirror directory {directory} is nearly full", free)
    return MirrorCheck(True, f"mirror directory {directory} is writable", free)


# What write_atomic leaves after a crash: ``.<name>.<pid>.tmp`` for a packet, the export's
# manifest or the mirror's probe. Nothing else is ours (an export folder may hold the user's
# own files).
_OUR_TEMP = re.compile(
    r"\.(?:[0-9a-fA-F-]{36}" + re.escape(PACKET_SUFFIX) + r"|manifest\.json|\.probe)"
    r"\.\d+" + re.escape(TEMP_SUFFIX)
)


def clean_temp_files(directory: Path) -> int:
    """Remove the temp files of our own writes that a crash left behind (never complete
    packets, never other files)."""
    removed = 0
    if directory.is_dir():
        for path in directory.glob(f".*{TEMP_SUFFIX}"):
            if _OUR_TEMP.fullmatch(path.name):
                path.unlink(missing_ok=True)
                removed += 1
    return removed


# --- reconciliation (app.store.reconcile) ------------------------------------------------------

UNCONFIRMED_DIR = "unconfirmed"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def packet_uuids(directory: Path) -> list[str]:
    """UUIDs of the packets (``<uuid>.ektp``) directly in ``directory``, sorted."""
    out = []
    with os.scandir(directory) as entries:
        for entry in entries:
            name = entry.name
            if name.endswith(PACKET_SUFFIX) and entry.is_file(follow_symlinks=False):
                stem = name[: -len(PACKET_SUFFIX)]
                if _UUID.fullmatch(stem):
                    out.append(stem)
    return sorted(out)


def stale_packet_temps(directory: Path) -> list[Path]:
    """Temp files of packet writes (``.<uuid>.ektp.<pid>.tmp``) in ``directory``."""
    return sorted(directory.glob(f".*{PACKET_SUFFIX}.*{TEMP_SUFFIX}"))


def unconfirmed_count(directory: Path | None) -> int:
    """How many packets wait in ``<mirror>/unconfirmed/`` for a technician's decision."""
    if directory is None:
        return 0
    try:
        return len(packet_uuids(directory / UNCONFIRMED_DIR))
    except OSError:  # no such directory (the usual case) or an unplugged drive
        return 0


def move_to_unconfirmed(directory: Path, uuids: list[str]) -> None:
    """Move ``<uuid>.ektp`` files into ``<directory>/unconfirmed/`` durably (never deleted)."""
    target = directory / UNCONFIRMED_DIR
    target.mkdir(mode=0o700, exist_ok=True)
    for uuid in uuids:
        os.replace(directory / packet_name(uuid), target / packet_name(uuid))
    fsync_dir(target)
    fsync_dir(directory)
