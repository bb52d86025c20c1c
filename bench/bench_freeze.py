"""The frozen station (packaging/ektp-station.spec): how fast its GUI opens, and its size.

- Cold start of the frozen GUI to its sign-in window: ``ektp-station-gui --home H`` on an
  initialized station home, from spawning the process to its main window being viewable on an
  X server (Xvfb, ``xwininfo``: what a person would see), beside ``python -m app --home H``
  from the source tree measured the same way in the same run. Each start is closed (SIGTERM)
  before the next. Median of 5 (2 with ``--quick``), after one start of each to warm the OS
  file cache.
- The one-folder build's size (MiB), beside its budget (scripts/try_frozen.py).

The frozen build: ``$EKTP_FROZEN_DIST``, else ``build/dist/ektp-station`` (``make freeze``),
else a freeze made here (about a minute).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from bench.figures import Figure

ROOT = Path(__file__).resolve().parents[1]


def _try_frozen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("try_frozen", ROOT / "scripts" / "try_frozen.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["try_frozen"] = module
    spec.loader.exec_module(module)
    return module


def _dist(tmp: Path) -> Path:
    given = os.environ.get("EKTP_FROZEN_DIST")
    if given:
        return Path(given)
    built = ROOT / "build" / "dist" / "ektp-station"
    if built.is_dir():
        return built
    subprocess.run(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN"]
        + ["--distpath", str(tmp / "dist"), "--workpath", str(tmp / "work")]
        + [str(ROOT / "packaging" / "ektp-station.spec")],
        check=True,
        cwd=ROOT,
    )
    return tmp / "dist" / "ektp-station"


def run(quick: bool) -> list[Figure]:
    from tests.support.station import make_station

    tf = _try_frozen()
    n = 2 if quick else 5
    with tempfile.TemporaryDirectory(prefix="ektp-bench-freeze-") as tmp_name:
        tmp = Path(tmp_name)
        dist = _dist(tmp)
        home = make_station(tmp / "station").home
        xvfb, display = tf.start_xvfb()
        try:
            env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
            env.update({"DISPLAY": display, "QT_QPA_PLATFORM": "xcb", "EKTP_LANG": "id"})
            source_env = dict(env, PYTHONPATH=str(ROOT))
            frozen_cmd = [str(dist / "ektp-station-gui"), "--home", str(home)]
            source_cmd = [sys.executable, "-m", "app", "--home", str(home)]

            def start(cmd: list[str], e: dict[str, str]) -> float:
                return float(tf.gui_until_sign_in(cmd, e, tmp, tf.TITLE_ID, screenshot=None))

            start(frozen_cmd, env)
            start(source_cmd, source_env)
            frozen = [start(frozen_cmd, env) for _ in range(n)]
            source = [start(source_cmd, source_env) for _ in range(n)]
        finally:
            xvfb.terminate()
            xvfb.wait(10)
        size = tf.bundle_mib(dist)
        budget = tf.SIZE_BUDGET_MIB["linux" if sys.platform.startswith("linux") else "win32"]
        if dist.is_relative_to(tmp):
            shutil.rmtree(tmp / "dist", ignore_errors=True)
    return [
        Figure(
            "freeze",
            "cold start of the frozen GUI to its sign-in window (median)",
            "s",
            statistics.median(frozen),
            statistics.median(source),
            "python -m app from the source tree",
        ),
        Figure(
            "freeze",
            "one-folder build size",
            "MiB",
            size,
            float(budget),
            "budget",
            f"<= {budget} MiB",
            size <= budget,
        ),
    ]
