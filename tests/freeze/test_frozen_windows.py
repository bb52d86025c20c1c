"""The Windows build, the installer's payload, made and tried here (scripts/wine_windows.py):
PyInstaller run by a Windows CPython under wine builds ``packaging/ektp-station.spec`` from the
Windows wheels (about two minutes, in the background from the session's start:
tests/support/windows_build.py), then the technician's smoke list of scripts/try_frozen.py runs
the ``.exe`` programs through wine, one test a step, the GUI demo to its sign-in window in this
file's Xvfb; the size budget is the Windows one. The steps also check the signing key is kept
by DPAPI (wine's: the same key in every prefix, so only that it is used is shown here).

``EKTP_WINE_WORK=DIR`` tries what ``python scripts/wine_windows.py --work DIR --freeze`` made
instead of making it again.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.store.db import DB_NAME
from tests.freeze.conftest import load_script, run_step, try_frozen
from tests.installer.conftest import DATA_DIR, INSTALL_DIR, Wine, compile_installer
from tests.support import windows_build as background_build
from tests.support.components import require_binary

wine_windows = load_script("wine_windows")


@pytest.fixture(scope="module")
def windows_build(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Any]]:
    """The one-folder Windows build and the wine prefix with the Windows Python that made it:
    the one the session started in the background (tests/support/windows_build.py), else
    made here."""
    wine = require_binary("wine", "wine wine64")
    require_binary("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")
    given = os.environ.get("EKTP_WINE_WORK")
    background = background_build.build_dir(request.config)
    if given or (background / "started").exists():
        work = Path(given).resolve() if given else background / "work"
        if not given:
            _wait_for_background_build(background)
        prefix = work / "prefix"
        wp = wine_windows.WindowsPython(
            prefix, work / "python" / "python.exe", wine_windows.wine_env(prefix), wine
        )
        yield work / "dist" / "ektp-station", wp
        wp.stop()  # the session removes the background build's folder at its end
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


def _wait_for_background_build(folder: Path, timeout: float = 1200) -> None:
    deadline = time.monotonic() + timeout
    while not (folder / "rc").exists():
        if time.monotonic() > deadline:
            pytest.fail(f"the background Windows build did not end within {timeout:.0f} s")
        time.sleep(1)
    if (folder / "rc").read_text().strip() != "0":
        log = (folder / "build.log").read_text(errors="replace")
        pytest.fail(f"the background Windows build failed:\n{log[-6000:]}", pytrace=False)


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


@pytest.mark.wine
@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_installer_over_the_windows_build_keeps_a_waiting_record_through_a_reinstall(
    windows_build: tuple[Path, Any], tmp_path: Path
) -> None:
    """The installer wraps the real build (uncompressed: seconds instead of 2.5 min of solid
    LZMA here; the release's size is docs/installer.md's and the Windows workflow's), installs it
    silently, the installed program keeps its station in the data folder, and an uninstall and
    a reinstall, as a technician does, lose no waiting record."""
    dist, wp = windows_build
    version = try_frozen.project_version()
    setup = tmp_path / f"ektp-station-{version}-setup.exe"
    built = compile_installer(version, dist, setup, fast=True)
    assert built.returncode == 0, built.stdout + built.stderr
    machine = Wine(wp.prefix, wp.env, wp.wine, require_binary("wineserver", "wine wine64"))
    machine.reset()
    station = str(INSTALL_DIR / "ektp-station.exe")

    def installed(*args: str, input: str = "") -> str:
        res = wp.run(station, *args, input=input, cwd=tmp_path, timeout=180)
        assert res.returncode == 0, f"{args}: {res.returncode}\n{res.stdout}\n{res.stderr}"
        return res.stdout.strip()

    try:
        assert machine.install(setup) == 0
        assert (machine.host(INSTALL_DIR) / "_internal" / "base_library.zip").is_file()
        assert installed("status", "--pending") == "none"
        # The installed station, with its data in the data folder (no --home), records one.
        key = try_frozen._server_key(tmp_path / "server.pem")
        installed("init", "--server-key", str(key), "--kecamatan", try_frozen.KECAMATAN)
        name, password = try_frozen.OPERATOR
        installed("operator", "add", "--username", name, "--role", "operator", input=password)
        bio = tmp_path / "resident.json"
        bio.write_text(json.dumps(try_frozen.RESIDENT), encoding="utf-8")
        photo = try_frozen._photo(tmp_path / "face.jpg")
        installed(
            "enroll", "--operator", name, "--biodata", str(bio), "--photo", str(photo),
            input=password,
        )  # fmt: skip
        assert installed("status", "--pending") == "1"
        assert (machine.host(DATA_DIR) / DB_NAME).is_file()

        assert machine.uninstall(in_place=True) == 0
        assert not (machine.host(INSTALL_DIR) / "ektp-station.exe").exists()
        assert (machine.host(DATA_DIR) / DB_NAME).is_file()
        assert machine.install(setup) == 0
        assert installed("status", "--pending") == "1"
    finally:
        machine.reset()
