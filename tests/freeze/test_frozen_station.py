"""The program technicians install is the program the tests run: ``packaging/ektp-station.spec``
frozen once for this file (PyInstaller, one folder, about a minute), then each step of
``scripts/try_frozen.py`` (the technician's smoke list the Windows workflow runs too) as a test
of its own, in order, with the GUI steps in an Xvfb of this file's own.

``EKTP_FROZEN_DIST=DIR`` tries an existing build instead of freezing one.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.freeze.conftest import run_step, try_frozen
from tests.support.cli import ROOT, env_with_source
from tests.support.components import missing

SPEC = ROOT / "packaging" / "ektp-station.spec"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    given = os.environ.get("EKTP_FROZEN_DIST")
    if given:
        yield Path(given).resolve()
        return
    if importlib.util.find_spec("PyInstaller") is None:
        missing("PyInstaller", "pip install -e '.[freeze]'")
    out = tmp_path_factory.mktemp("freeze")
    t0 = time.monotonic()
    res = subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN"]
        + ["--distpath", str(out / "dist"), "--workpath", str(out / "work"), str(SPEC)],
        cwd=ROOT,
        env=env_with_source(),
        capture_output=True,
        text=True,
        timeout=840,
    )
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-6000:]
    print(f"froze packaging/ektp-station.spec in {time.monotonic() - t0:.0f} s")
    shutil.rmtree(out / "work")
    yield out / "dist" / "ektp-station"
    shutil.rmtree(out)  # ~360 MB: not kept among pytest's last three runs


@pytest.fixture(scope="module")
def frozen(dist: Path, display: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    work = tmp_path_factory.mktemp("frozen-work")
    return try_frozen.Frozen(
        dist, work, work / "shots", extra_env={"DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
    )


@pytest.mark.xvfb
@pytest.mark.slow  # a freeze (about a minute and a half) and the smoke list: `make test` runs it
@pytest.mark.timeout(900)  # the first step's time includes the freeze
@pytest.mark.parametrize("step", try_frozen.STEPS, ids=lambda step: step.__name__)
def test_frozen_station_as_a_technician_would(frozen: Any, step: Any) -> None:
    run_step(step, frozen, frozen.out)


def test_launcher_runs_the_server_the_demo_starts(tmp_path: Path) -> None:
    """Unfrozen too, ``launcher.py --run-program ektp-server ...`` is the server's own CLI, and
    an unknown program is one line and exit 2."""
    launcher = [sys.executable, str(ROOT / "packaging" / "launcher.py")]
    res = subprocess.run(
        [*launcher, "--run-program", "ektp-server", "--home", str(tmp_path), "keys", "public"],
        capture_output=True,
        text=True,
        env=env_with_source(),
        cwd=tmp_path,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("-----BEGIN PUBLIC KEY-----"), res.stdout
    res = subprocess.run(
        [*launcher, "--run-program", "ektp-relay"],
        capture_output=True,
        text=True,
        env=env_with_source(),
        timeout=120,
    )
    assert res.returncode == 2
    assert res.stderr.strip().splitlines() == [
        "ektp-station: error: --run-program: expected one of ektp-station, ektp-server"
    ]
