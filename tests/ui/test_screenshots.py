"""The real app in a real X window (Xvfb): demo mode, a whole recording from the keyboard to
"sent", and a screenshot of every screen (scripts/screenshots.py, run as a subprocess)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from tests.support.cli import ROOT, env_with_source
from tests.support.components import require_binary

SCRIPT = ROOT / "scripts" / "screenshots.py"


def _script_shots() -> list[str]:
    """The script's own list of screenshot names (one list, not two)."""
    spec = importlib.util.spec_from_file_location("screenshots_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shots = module.SHOTS
    assert isinstance(shots, list) and len(shots) == len(set(shots)) >= 10, shots
    return [str(name) for name in shots]


@pytest.mark.xvfb
def test_real_window_under_xvfb_records_and_saves_screenshots(tmp_path: Path):
    xvfb_run = require_binary("xvfb-run", "xvfb")
    require_binary("Xvfb", "xvfb")
    require_binary("xauth", "xauth")
    env = env_with_source({"QT_QPA_PLATFORM": "xcb"})
    env.pop("DISPLAY", None)
    out = tmp_path / "shots"
    result = subprocess.run(
        [
            xvfb_run,
            "-a",
            "-s",
            "-screen 0 1024x768x24",
            sys.executable,
            str(SCRIPT),
            "--out",
            str(out),
            "--home",
            str(tmp_path / "home"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    shots = _script_shots()
    assert sorted(p.stem for p in out.glob("*.png")) == sorted(shots)
    for name in shots:
        image = QImage(str(out / f"{name}.png"))
        assert not image.isNull(), name
        assert image.width() >= 1000 and image.height() >= 700, name
        # Not a blank frame: many distinct colours across a coarse grid.
        colours = {
            image.pixel(x, y)
            for x in range(0, image.width(), 37)
            for y in range(0, image.height(), 29)
        }
        assert len(colours) >= 4, name
    # The demo server was stopped by the app (by PID) when the window closed.
    assert "sign in as demo" in result.stderr
