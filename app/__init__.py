"""e-KTP enrollment station: domain, store, sync and capture (headless) plus the Qt UI."""

from __future__ import annotations

import functools


@functools.cache
def program_version() -> str:
    """The installed version (read on first use: importlib.metadata costs every command
    start a fifteenth of its time)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("ektp-station")
    except PackageNotFoundError:  # running from a source tree without an install
        return "0.1.0"


def __getattr__(name: str) -> str:
    if name == "__version__":
        return program_version()
    raise AttributeError(f"module 'app' has no attribute {name!r}")
