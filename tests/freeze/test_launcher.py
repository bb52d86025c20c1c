"""The frozen entry point (packaging/launcher.py) unfrozen: the same dispatch the Windows build
runs (tests/freeze/test_frozen_windows.py tries the build itself).

A Linux freeze of the same spec is not part of the suite: it is not what ships, and its smoke
list is the same script (``make freeze``, then ``python scripts/try_frozen.py
build/dist/ektp-station`` under ``xvfb-run -a``; bench/bench_freeze.py times its cold start).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.cli import ROOT, env_with_source


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
