"""app.single_instance off Windows: a lock object that holds nothing and releases cleanly.

The Windows side (CreateMutexW) is exercised by installer.nsi's mutex check under wine with a
stand-in holding the same name (tests/installer), not by a Windows Python: none runs here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from app import single_instance
from app.single_instance import MUTEX_NAME, acquire

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the no-op side")


def test_name_is_global_and_one_line() -> None:
    # Global\ so another operator's session counts; installer.nsi parses the source line.
    assert MUTEX_NAME.startswith("Global\\")
    source = Path(single_instance.__file__).read_text(encoding="utf-8")
    assert f'MUTEX_NAME = r"{MUTEX_NAME}"' in source.splitlines()


def test_lock_is_uniform_and_releases_twice() -> None:
    lock = acquire()
    assert lock.name == MUTEX_NAME
    assert lock.held and not lock.already_running
    lock.release()
    assert not lock.held
    lock.release()
    assert not lock.held


def test_context_manager_releases() -> None:
    with acquire("Global\\another") as lock:
        assert lock.held and lock.name == "Global\\another"
    assert not lock.held
