"""The named mutex that says "the station is running".

The Windows installer checks this very name (installer.nsi reads ``MUTEX_NAME`` from this file
at compile time with ``!searchparse``) and refuses to upgrade or uninstall while the mutex
exists. The app creates it at startup and keeps the returned lock for its whole life.

In ``Global\\`` so that a station left open in another operator's Windows session counts too.
Elsewhere than Windows this is a no-op: the lock object exists, nothing is locked.
"""

from __future__ import annotations

import sys
from types import TracebackType

# Keep this a raw string on one line: installer.nsi parses it with !searchparse.
MUTEX_NAME = r"Global\ektp-station-running"

_ERROR_ALREADY_EXISTS = 183


class InstanceLock:
    """Holds the mutex handle until :meth:`release` (or the end of a ``with`` block).

    ``already_running`` is True when another process had created the mutex first; the
    handle is held either way (Windows keeps the mutex alive while any handle is open).
    """

    def __init__(self, name: str, handle: int | None, already_running: bool) -> None:
        self.name = name
        self.handle = handle
        self.already_running = already_running

    @property
    def held(self) -> bool:
        return self.handle is not None

    def release(self) -> None:
        """Close the handle; safe to call twice."""
        handle, self.handle = self.handle, None
        if handle and sys.platform == "win32":
            _close_handle(handle)

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class MutexError(OSError):
    """CreateMutexW failed (not "already exists": that is a normal answer)."""


def acquire(name: str = MUTEX_NAME) -> InstanceLock:
    """Create (or open) the named mutex and return the lock that keeps it alive."""
    if sys.platform == "win32":
        handle, existed = _create_mutex(name)
        return InstanceLock(name, handle, existed)
    # No installer to tell on other platforms: a handle-less lock keeps callers uniform.
    return InstanceLock(name, 0, False)


if sys.platform == "win32":
    import ctypes
    from ctypes import wintypes

    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    _kernel32.CreateMutexW.argtypes = [wintypes.LPVOID, wintypes.BOOL, wintypes.LPCWSTR]
    _kernel32.CreateMutexW.restype = wintypes.HANDLE
    _kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
    _kernel32.CloseHandle.restype = wintypes.BOOL

    def _create_mutex(name: str) -> tuple[int, bool]:
        handle = _kernel32.CreateMutexW(None, False, name)
        error = ctypes.get_last_error()
        if not handle:
            raise MutexError(error, f"CreateMutexW({name!r}) failed")
        return int(handle), error == _ERROR_ALREADY_EXISTS

    def _close_handle(handle: int) -> None:
        _kernel32.CloseHandle(handle)
