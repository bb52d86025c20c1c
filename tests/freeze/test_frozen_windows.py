"""The Windows build, the installer's payload, made and tried here (scripts/wine_windows.py):
PyInstaller run by a Windows CPython under wine builds ``packaging/ektp-station.spec`` from the
Windows wheels (a few minutes), then the technician's smoke list of scripts/try_frozen.py runs
the ``.exe`` programs through wine, one test a step, the GUI demo to its sign-in window in this
file's Xvfb; the size budget is the Windows one. The steps also check the signing key is kept
by DPAPI (wine's: the same key in every prefix, so only that it is used is shown here).

``EKTP_WINE_WORK=DIR`` tries what ``python scripts/wine_windows.py --work DIR --freeze`` made
instead of making it again.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.freeze.conftest import load_script, run_step, try_frozen
from tests.support.components import require_binary

wine_windows = load_script("wine_windows")


@pytest.fixture(scope="module")
def windows_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Any]]:
    """The one-folder Windows build and the wine prefix with the Windows Python that made it."""
    wine = require_binary("wine", "wine wine64")
    require_binary("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")
    given = os.environ.get("EKTP_WINE_WORK")
    if given:
        work = Path(given).resolve()
        prefix = work / "prefix"
        python = work / "python" / "python.exe"
        yield (
            work / "dist" / "ektp-station",
            wine_windows.WindowsPython(prefix, python, wine_windows.wine_env(prefix), wine),
        )
        return
    work = tmp_path_factory.mktemp("wine-windows")
    try:
        wp = wine_windows.windows_python(work)
        dist = wine_windows.freeze(wp, work)
    except wine_windows.WineError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield dist, wp
    finally:
        wp.stop()
        shutil.rmtree(work, ignore_errors=True)  # ~1 GB: prefix, Python, wheels, build


@pytest.fixture(scope="module")
def frozen(
    windows_build: tuple[Path, Any], display: str, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    dist, wp = windows_build
    work = tmp_path_factory.mktemp("frozen-windows-work")
    return try_frozen.Frozen(
        dist,
        work,
        work / "shots",
        # (the tests run Qt offscreen; the Windows build draws through wine on this Xvfb)
        extra_env={**wp.env, "DISPLAY": display, "QT_QPA_PLATFORM": "windows"},
        launcher=[wp.wine],
    )


@pytest.mark.wine
@pytest.mark.xvfb
@pytest.mark.slow  # the Windows Python, the freeze under wine and the smoke list
@pytest.mark.timeout(1200)  # the first step's time includes the freeze
@pytest.mark.parametrize("step", try_frozen.STEPS, ids=lambda step: step.__name__)
def test_windows_build_under_wine_as_a_technician_would(frozen: Any, step: Any) -> None:
    run_step(step, frozen, frozen.out)
