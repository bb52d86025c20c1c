"""Export sealed packets to a directory (removable media): ``<uuid>.ektp`` files + a manifest.

One implementation for ``ektp-station export --to DIR`` and the queue screen's export button.
Each file is written atomically and fsynced; ``manifest.json`` lists uuid + sha256 + size of
every packet in the directory. Idempotent: a re-export skips files that already hold the same
bytes, and never overwrites a file of the same name with different bytes (ExportConflict).
"""

from __future__ import annotations

import errno
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.store.audit import record_event
from app.store.db import Store
from app.store.mirror import clean_temp_files, packet_name, write_atomic
from app.store.outbox import Outbox
from app.store.reconcile import reconcile_quietly

MANIFEST = "manifest.json"
FORMAT = "ektp-export-1"

Progress = Callable[[int, int], None]  # (done, total), called from the exporting thread
# Records are marked exported in groups (one short write transaction each), after their
# files are fsynced: a group lost to a crash is only exported again, never marked unseen.
MARK_GROUP = 64


class ExportConflict(Exception):
    """A file of the same name holds different bytes: never overwritten."""


class ExportMediaError(Exception):
    """The target media failed: full, not there, unplugged, read-only or failing. The
    ``copied`` packets already there are complete and fsynced; an export again skips them."""

    def __init__(self, message: str, copied: int) -> None:
        super().__init__(message)
        self.message = message
        self.copied = copied


_GONE = (errno.ENOENT, errno.ENODEV, errno.ENXIO, errno.EIO)


def _media_error(target: Path, exc: OSError, copied: int) -> ExportMediaError:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        what = f"the drive holding {target} is full"
    elif exc.errno in _GONE and not target.parent.is_dir():
        what = (
            f"{target.parent} does not exist (is the drive plugged in?)"
            if copied == 0
            else f"{target} is gone (was the drive unplugged?)"
        )
    elif exc.errno in _GONE:
        what = f"{target} is gone or failing (was the drive unplugged?)"
    else:
        what = f"cannot write to {target}: {exc.strerror or exc}"
    return ExportMediaError(
        f"{what}; {copied} packet(s) were copied there completely (exporting again skips them)",
        copied,
    )


class ExportStopped(Exception):
    """``should_stop`` said stop (the app is closing): what was copied is complete, listed in
    the manifest and marked exported; the rest was not copied."""


@dataclass(frozen=True)
class Exported:
    to: str
    written: int  # packets written now
    skipped: int  # packets already there with the same bytes
    total: int  # packets the manifest lists (this export's and earlier ones in the folder)

    @property
    def packets(self) -> int:
        """Packets of this station now in the folder (written + skipped)."""
        return self.written + self.skipped


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _read_manifest(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    try:
        return {str(e["uuid"]): e for e in json.loads(path.read_text())["packets"]}
    except (ValueError, KeyError, TypeError):
        return {}  # rebuilt from what is exported now


def export_packets(
    store: Store,
    target: Path,
    actor: str = "cli",
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Exported:
    """Copy every packet that still has its payload (any status) to ``target``, and mark
    each record exported (it then leaves the falling-behind limits; it is still uploaded).

    ``progress(done, total)`` is called once before the first packet and after each one
    (``total`` may grow if records are sealed meanwhile). ``should_stop()`` is asked after
    each packet. Raises ExportConflict, ExportStopped, ExportMediaError (the target media:
    full, not there, unplugged) or StorageError (the station's own store).
    """
    # First the mirror: a packet a killed seal left there without a commit goes to
    # unconfirmed/ before anything leaves the station (see app/store/reconcile.py).
    reconcile_quietly(store, actor)
    written = skipped = 0
    try:
        # Only the last component is made: a missing parent is a drive that is not there
        # (making it would put the "export" on the station's own disk).
        target.mkdir(exist_ok=True)
        clean_temp_files(target)
        manifest_path = target / MANIFEST
        entries = _read_manifest(manifest_path)
    except OSError as exc:
        raise _media_error(target, exc, 0) from exc
    outbox = Outbox(store)
    total = sum(n for status, n in outbox.counts().items() if status != "purged")
    if progress is not None:
        progress(0, total)
    unmarked: list[str] = []
    stopped = False
    for uuid, data in outbox.iter_packets():
        sha = hashlib.sha256(data).hexdigest()
        path = target / packet_name(uuid)
        try:
            if path.exists():
                if path.stat().st_size != len(data) or _sha256_file(path) != sha:
                    raise ExportConflict(f"{path} exists with different content; not overwritten")
                skipped += 1
            else:
                write_atomic(target, packet_name(uuid), data)
                written += 1
        except OSError as exc:
            raise _media_error(target, exc, written + skipped) from exc
        entries[uuid] = {"uuid": uuid, "sha256": sha, "size": len(data)}
        unmarked.append(uuid)
        if len(unmarked) >= MARK_GROUP:
            outbox.mark_exported(unmarked)
            unmarked.clear()
        if progress is not None:
            done = written + skipped
            progress(done, max(total, done))
        if should_stop is not None and should_stop():
            stopped = True
            break
    doc = {"format": FORMAT, "packets": sorted(entries.values(), key=lambda e: e["uuid"])}
    try:
        write_atomic(target, MANIFEST, json.dumps(doc, indent=1, sort_keys=True).encode())
    except OSError as exc:
        raise _media_error(target, exc, written + skipped) from exc
    outbox.mark_exported(unmarked)
    if written:
        record_event(store, actor, "records.exported", {"to": str(target), "written": written})
    if stopped:
        raise ExportStopped(f"export to {target} stopped after {written + skipped} packet(s)")
    return Exported(str(target), written, skipped, len(entries))


__all__ = [
    "MANIFEST",
    "ExportConflict",
    "ExportMediaError",
    "ExportStopped",
    "Exported",
    "export_packets",
]
