"""Real small filesystems for disk-full tests (tmpfs, mounted as root)."""

from __future__ import annotations

import errno
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.components import missing


@contextmanager
def small_tmpfs(path: Path, size: str = "4m") -> Iterator[Path]:
    """Mount a tmpfs of ``size`` at ``path`` for the duration; unmounted afterwards."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        missing("tmpfs mount", "disk-full tests mount a small tmpfs and need root")
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        missing("tmpfs mount", f"mount failed: {r.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(directory: Path, name: str = "filler") -> Path:
    """Write a file until the filesystem is full (ENOSPC); returns its path."""
    target = directory / name
    chunk = b"\0" * 4096
    with target.open("wb", buffering=0) as f:
        try:
            while True:
                f.write(chunk)
        except OSError as exc:
            if exc.errno != errno.ENOSPC:
                raise
    return target
