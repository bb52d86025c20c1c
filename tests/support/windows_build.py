"""The Windows build under wine (scripts/wine_windows.py), made in the background while the other
tests run: it waits on wine and pip more than it computes, and a worker making it itself sat
half idle for two minutes of the suite's budget.

The xdist controller (or the only pytest process) starts it at session start when the run
includes ``tests/freeze/test_frozen_windows.py`` (as far as the command line tells before
collection: no ``-k`` or ``-m``, and a path that holds the file); that file's fixture waits for
it, or makes the build itself when nothing started one; the controller stops what is still
running and removes the folder at the end.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILE = ROOT / "tests" / "freeze" / "test_frozen_windows.py"
SCRIPT = ROOT / "scripts" / "wine_windows.py"
_KEY = pytest.StashKey[subprocess.Popen[bytes]]()


def build_dir(config: pytest.Config) -> Path:
    """The folder shared by the controller and its workers (a worker's basetemp is
    ``<the run's basetemp>/popen-gwN``)."""
    base = config._tmp_path_factory.getbasetemp()  # type: ignore[attr-defined]
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    return Path(base) / "wine-windows"


def _wanted(config: pytest.Config) -> bool:
    if os.environ.get("PYTEST_XDIST_WORKER") or os.environ.get("EKTP_WINE_WORK"):
        return False
    if config.getoption("collectonly") or config.getoption("keyword"):
        return False
    if config.getoption("markexpr"):
        return False
    here = config.invocation_params.dir
    for arg in config.args:
        path = (here / str(arg).split("::")[0]).resolve()
        if FILE == path or path in FILE.parents:
            return True
    return False


def start(config: pytest.Config) -> None:
    """pytest_sessionstart: start the build if this run will want it."""
    if not _wanted(config):
        return
    folder = build_dir(config)
    folder.mkdir(parents=True, exist_ok=True)
    log = open(folder / "build.log", "wb")  # noqa: SIM115 - the child owns it
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--work", str(folder / "work"), "--freeze"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # stopped as a group at the end
    )
    log.close()
    config.stash[_KEY] = proc
    (folder / "started").touch()

    def record_exit() -> None:
        code = proc.wait()
        tmp = folder / "rc.tmp"
        tmp.write_text(str(code))
        tmp.replace(folder / "rc")

    threading.Thread(target=record_exit, daemon=True).start()


def finish(config: pytest.Config) -> None:
    """pytest_sessionfinish: stop the build if it still runs, and remove it all (~1 GB)."""
    proc = config.stash.get(_KEY, None)
    if proc is None:
        return
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    folder = build_dir(config)
    env = dict(os.environ, WINEPREFIX=str(folder / "work" / "prefix"))
    subprocess.run(["wineserver", "-k"], env=env, capture_output=True, timeout=60, check=False)
    shutil.rmtree(folder, ignore_errors=True)
