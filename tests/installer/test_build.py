"""installer.nsi compiles with warnings as errors, from one version source and one set of
constants (the app's), and never blocks a silent run."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from app.commands.status import NO_STATION
from app.paths import APP_DIR_NAME
from app.single_instance import MUTEX_NAME
from tests.installer.conftest import ROOT, compile_installer, make_payload

pytestmark = pytest.mark.wine


def _version_info_has(exe: Path, text: str) -> bool:
    # VS_VERSIONINFO strings are UTF-16 in the (uncompressed) resource section.
    return text.encode("utf-16-le") in exe.read_bytes()


def test_compiles_with_warnings_as_errors(installers: dict[str, Path]) -> None:
    for version, exe in installers.items():
        data = exe.read_bytes()
        assert data[:2] == b"MZ"
        assert _version_info_has(exe, version)


def test_refuses_to_compile_without_version_or_program(tmp_path: Path, standin_exe: Path) -> None:
    payload = make_payload(tmp_path, "1.0.0", standin_exe)
    makensis = shutil.which("makensis")
    assert makensis
    no_version = subprocess.run(
        [makensis, "-WX", f"-DPAYLOAD={payload}", str(ROOT / "installer.nsi")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert no_version.returncode != 0
    assert "Pass the version" in no_version.stdout + no_version.stderr

    (payload / "ektp-station.exe").unlink()
    no_program = compile_installer("1.0.0", payload, tmp_path / "station-installer.exe")
    assert no_program.returncode != 0
    assert "ektp-station.exe is missing" in no_program.stdout + no_program.stderr
    assert not (tmp_path / "station-installer.exe").exists()


def test_constants_are_read_from_the_app_sources(tmp_path: Path, standin_exe: Path) -> None:
    """Change the constants in (a copy of) the Python sources: the installer follows."""
    tree = tmp_path / "tree"
    (tree / "app" / "commands").mkdir(parents=True)
    shutil.copy(ROOT / "installer.nsi", tree)
    status = (ROOT / "app" / "commands" / "status.py").read_text()
    assert f'NO_STATION = "{NO_STATION}"' in status
    (tree / "app" / "commands" / "status.py").write_text(
        status.replace(f'NO_STATION = "{NO_STATION}"', 'NO_STATION = "renamed-no-station"')
    )
    paths = (ROOT / "app" / "paths.py").read_text()
    single = (ROOT / "app" / "single_instance.py").read_text()
    assert f'APP_DIR_NAME = "{APP_DIR_NAME}"' in paths
    assert f'MUTEX_NAME = r"{MUTEX_NAME}"' in single
    (tree / "app" / "paths.py").write_text(
        paths.replace(f'APP_DIR_NAME = "{APP_DIR_NAME}"', 'APP_DIR_NAME = "renamed-station"')
    )
    (tree / "app" / "single_instance.py").write_text(
        single.replace(f'MUTEX_NAME = r"{MUTEX_NAME}"', r'MUTEX_NAME = r"Global\renamed-mutex"')
    )
    payload = make_payload(tmp_path, "1.0.0", standin_exe)
    result = subprocess.run(
        [
            "makensis",
            "-WX",
            "-V4",
            "-DVERSION=1.0.0",
            f"-DPAYLOAD={payload}",
            f"-DOUTFILE={tmp_path / 'station-installer.exe'}",
            str(tree / "installer.nsi"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    log = result.stdout
    assert 'InstallDir: "$PROGRAMFILES64\\renamed-station"' in log
    assert "Uninstall\\renamed-station\\DisplayVersion" in log
    assert 'StrCpy $1 "Global\\renamed-mutex"' in log
    assert f"Uninstall\\{APP_DIR_NAME}\\" not in log
    assert MUTEX_NAME not in log
    assert '"renamed-no-station"' in log


def test_every_message_box_has_a_silent_default() -> None:
    script = (ROOT / "installer.nsi").read_text()
    boxes = [line.strip() for line in script.splitlines() if line.strip().startswith("MessageBox")]
    assert len(boxes) >= 8
    for line in boxes:
        assert re.search(r"\s/SD\s+ID(OK|CANCEL|NO|YES)\b", line), line


def test_build_script_takes_the_version_from_pyproject(tmp_path: Path, standin_exe: Path) -> None:
    with open(ROOT / "pyproject.toml", "rb") as f:
        version = tomllib.load(f)["project"]["version"]
    payload = make_payload(tmp_path, "any", standin_exe)
    out = tmp_path / "out" / "station-installer.exe"
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-installer.sh"), str(payload), str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == str(out)
    assert _version_info_has(out, version)


def test_build_script_rejects_a_missing_payload(tmp_path: Path) -> None:
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "build-installer.sh"), str(tmp_path / "nope")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"PAYLOAD_DIR: not a directory: {tmp_path / 'nope'}"
