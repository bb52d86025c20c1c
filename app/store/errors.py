"""Typed store errors and the split of SQLite failures into "known" and "bug".

Known failures (disk full, database locked, I/O error, read-only or unopenable file) are
conditions of the machine, not of the code: callers show them as one plain message. Anything
else (a constraint we did not expect, a syntax error) is a bug and is re-raised unchanged.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import exc as sa_exc


class StoreError(Exception):
    """Base of every error the store raises on purpose."""


class NotInitialized(StoreError):
    """The station has no identity yet (run ``init`` or ``provision``)."""

    def __init__(self, message: str = "station is not initialized: run `init` or `provision`"):
        super().__init__(message)


class AlreadyInitialized(StoreError):
    """``init`` on a home that already holds a station identity."""


class StorageError(StoreError):
    """A known machine condition: ``kind`` is disk_full, locked, read_only or io."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


# Primary result codes (extended codes carry them in the low byte).
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6
_SQLITE_READONLY = 8
_SQLITE_IOERR = 10
_SQLITE_CORRUPT = 11
_SQLITE_FULL = 13
_SQLITE_CANTOPEN = 14
_SQLITE_NOTADB = 26

_MESSAGES = {
    "disk_full": "the disk is full: free some space (or export and purge) and try again",
    "read_only": "the station's data folder cannot be written (a read-only disk or no "
    "permission): check the drive and the folder's permissions",
    "locked": "the database is locked by another program: close it and try again",
    "io": "the disk reported an input/output error: check the drive",
}


def _sqlite_error(error: BaseException) -> sqlite3.Error | None:
    if isinstance(error, sa_exc.DBAPIError) and isinstance(error.orig, sqlite3.Error):
        return error.orig
    if isinstance(error, sqlite3.Error):
        return error
    return None


# SQLite reports a failed write as an I/O error (SQLITE_IOERR_WRITE, _SHMSIZE, ...) when the
# disk fills while it grows the WAL or shared-memory file; below this much free space next to
# the database such an I/O error is reported as "disk full", which is what it is.
NEARLY_FULL_BYTES = 4 * 1024 * 1024


def _nearly_full(path: Path | None) -> bool:
    if path is None:
        return False
    try:
        return shutil.disk_usage(path).free < NEARLY_FULL_BYTES
    except OSError:
        return False


def classify(error: BaseException, path: Path | None = None) -> StorageError | None:
    """A StorageError for a known failure (SQLite or OS), else None (a bug).

    ``path`` (the store's directory) lets an I/O error on a full disk be named as such."""
    known = _classify(error)
    if known is not None and known.kind == "io" and _nearly_full(path):
        return StorageError("disk_full", _MESSAGES["disk_full"])
    if known is not None and known.kind == "io" and _not_writable(path):
        # SQLite says "unable to open database file" or "attempt to write a readonly
        # database"; "check the drive" would send the technician after a healthy disk.
        return StorageError("read_only", f"{_MESSAGES['read_only']} ({path})")
    return known


def _not_writable(path: Path | None) -> bool:
    if path is None:
        return False
    try:
        return path.is_dir() and not os.access(path, os.W_OK)
    except OSError:
        return False


def _classify(error: BaseException) -> StorageError | None:
    if isinstance(error, StorageError):
        return error
    if isinstance(error, OSError):
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            return StorageError("disk_full", _MESSAGES["disk_full"])
        if error.errno == errno.EROFS:
            return StorageError("read_only", f"{_MESSAGES['read_only']} ({error.strerror})")
        if error.errno in (errno.EIO, errno.EACCES, errno.EPERM):
            return StorageError("io", f"{_MESSAGES['io']} ({error.strerror})")
        return None
    err = _sqlite_error(error)
    if err is None:
        return None
    code = getattr(err, "sqlite_errorcode", None)
    text = str(err).lower()
    primary = code & 0xFF if isinstance(code, int) else None
    if primary == _SQLITE_FULL or "database or disk is full" in text:
        return StorageError("disk_full", _MESSAGES["disk_full"])
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED) or "database is locked" in text:
        return StorageError("locked", _MESSAGES["locked"])
    if primary in (_SQLITE_IOERR, _SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_CORRUPT) or (
        primary == _SQLITE_NOTADB or "file is not a database" in text
    ):
        return StorageError("io", f"{_MESSAGES['io']} ({err})")
    if "disk i/o error" in text or "unable to open database" in text:
        return StorageError("io", f"{_MESSAGES['io']} ({err})")
    return None


@contextmanager
def known_errors(path: Path | None = None) -> Iterator[None]:
    """Translate known SQLite/OS failures into StorageError; let bugs through unchanged."""
    try:
        yield
    except StoreError:
        raise
    except (sa_exc.DBAPIError, sqlite3.Error, OSError) as exc:
        known = classify(exc, path)
        if known is None:
            raise
        raise known from exc
