"""A station home on a read-only disk: one line that says so (not "check the drive")."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support.cli import run_station
from tests.support.fs import small_tmpfs
from tests.support.station import StationHome


def test_home_on_a_read_only_disk(station: StationHome, tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "ro", size="16m") as mount:
        home = mount / "station"
        shutil.copytree(station.home, home)
        r = subprocess.run(
            ["mount", "-o", "remount,ro", str(mount)], capture_output=True, text=True
        )
        assert r.returncode == 0, r.stderr
        for args in (["status", "--json"], ["sync", "--once"]):
            res = run_station("--home", str(home), *args)
            assert res.returncode == 1, (args, res.stdout, res.stderr)
            assert "Traceback" not in res.stderr
            lines = res.stderr.strip().splitlines()
            assert len(lines) == 1, res.stderr
            assert "storage (read_only)" in lines[0] and "cannot be written" in lines[0]
            assert res.stdout == ""
