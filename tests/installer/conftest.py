"""Real parts for the installer tests: makensis, a stand-in payload built with mingw-w64, and a
64-bit wine prefix made once per session.

The stand-in ``ektp-station.exe`` (standin/ektp_station_standin.c) answers ``status --pending``
as the app does (``none`` without a station database, else the answer a test wrote), records
``provision`` arguments, and can hold the app's named mutex on a test's cue, which the real
program cannot be made to do. The real Windows build, made under wine, goes through the installer
in tests/freeze/test_frozen_windows.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PureWindowsPath

import pytest

from app.commands.status import NO_STATION
from app.paths import APP_DIR_NAME
from app.single_instance import MUTEX_NAME
from app.store.db import DB_NAME
from tests.support.components import require_binary

ROOT = Path(__file__).resolve().parents[2]
STANDIN_SOURCE = Path(__file__).with_name("standin") / "ektp_station_standin.c"
UNINSTALL_KEY = rf"Software\Microsoft\Windows\CurrentVersion\Uninstall\{APP_DIR_NAME}"
INSTALL_DIR = PureWindowsPath(r"C:\Program Files") / APP_DIR_NAME
DATA_DIR = PureWindowsPath(r"C:\ProgramData") / APP_DIR_NAME
SHORTCUT_DIR = PureWindowsPath(
    r"C:\ProgramData\Microsoft\Windows\Start Menu\Programs\e-KTP Station"
)
OLD_VERSION = "1.0.0"
NEW_VERSION = "1.1.0"


def compile_installer(
    version: str,
    payload: Path,
    out: Path,
    script: Path = ROOT / "installer.nsi",
    *,
    fast: bool = False,
) -> subprocess.CompletedProcess[str]:
    """makensis with warnings as errors, as scripts/build-installer.sh and CI run it; ``fast``:
    no compression (installer.nsi's NO_COMPRESSION), for a real-size payload."""
    makensis = require_binary("makensis", "nsis")
    return subprocess.run(
        [
            makensis,
            "-WX",
            "-V2",
            *(["-DNO_COMPRESSION=1"] if fast else []),
            f"-DVERSION={version}",
            f"-DPAYLOAD={payload}",
            f"-DOUTFILE={out}",
            str(script),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _c_wide_string(value: str) -> str:
    return "L" + json.dumps(value)  # ASCII constants: JSON escaping is C escaping


@pytest.fixture(scope="session")
def standin_exe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The stand-in station program, built with the app's own constants."""
    gcc = require_binary("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")
    build = tmp_path_factory.mktemp("standin")
    (build / "standin_config.h").write_text(
        f"#define APP_DIR_NAME {_c_wide_string(APP_DIR_NAME)}\n"
        f"#define MUTEX_NAME {_c_wide_string(MUTEX_NAME)}\n"
        f"#define DB_NAME {_c_wide_string(DB_NAME)}\n"
        f"#define NO_STATION {_c_wide_string(NO_STATION)}\n"
    )
    exe = build / "ektp-station.exe"
    subprocess.run(
        [gcc, "-O2", "-municode", "-static", f"-I{build}", "-o", str(exe), str(STANDIN_SOURCE)],
        check=True,
        timeout=120,
    )
    return exe


def make_payload(root: Path, version: str, standin: Path) -> Path:
    """A one-folder layout like PyInstaller's: two programs on top, the rest in _internal."""
    payload = root / f"payload-{version}"
    (payload / "_internal" / "resources").mkdir(parents=True)
    shutil.copy(standin, payload / "ektp-station.exe")
    shutil.copy(standin, payload / "ektp-station-gui.exe")
    (payload / "_internal" / "resources" / "version.txt").write_text(version)
    (payload / "_internal" / f"only-in-{version}.txt").write_text(version)
    return payload


@pytest.fixture(scope="session")
def installers(tmp_path_factory: pytest.TempPathFactory, standin_exe: Path) -> dict[str, Path]:
    """setup.exe for an old and a newer version, each with its own stand-in payload."""
    out = tmp_path_factory.mktemp("installers")
    built = {}
    for version in (OLD_VERSION, NEW_VERSION):
        payload = make_payload(out, version, standin_exe)
        exe = out / f"ektp-station-{version}-setup.exe"
        result = compile_installer(version, payload, exe)
        assert result.returncode == 0, result.stdout + result.stderr
        built[version] = exe
    return built


@dataclass
class Wine:
    """One 64-bit wine prefix; every step ends with ``wineserver -w`` (also flushes the registry)."""

    prefix: Path
    env: dict[str, str]
    wine: str
    wineserver: str

    def run(self, *args: str, settle: bool = True, timeout: float = 120) -> int:
        """``wine ARGS``; its exit code. ``settle=False`` while another wine process must
        stay alive (wineserver -w would wait for it)."""
        result = subprocess.run(
            [self.wine, *args], env=self.env, capture_output=True, timeout=timeout
        )
        if settle:
            self.settle()
        return result.returncode

    def settle(self) -> None:
        subprocess.run([self.wineserver, "-w"], env=self.env, check=True, timeout=120)

    def host(self, path: PureWindowsPath) -> Path:
        """The Linux path of a C:\\ path inside the prefix."""
        assert path.drive.upper() == "C:", path
        return self.prefix / "drive_c" / Path(*path.parts[1:])

    def install(self, setup: Path, *switches: str, settle: bool = True) -> int:
        return self.run(str(setup), "/S", *switches, settle=settle)

    def run_batch(self, *lines: str) -> int:
        """Run lines as a .bat file in wine's cmd, the way a technician scripts an install;
        the exit code is the last command's."""
        batch = self.prefix / "drive_c" / "technician.bat"
        body = ["@echo off", *lines, "exit /b %errorlevel%"]
        batch.write_bytes(("\r\n".join(body) + "\r\n").encode("ascii"))
        return self.run("cmd", "/c", r"C:\technician.bat")

    def uninstall(self, *switches: str, in_place: bool = False, settle: bool = True) -> int:
        """Run the installed uninstaller silently.

        ``in_place`` adds ``_?=<install dir>`` so it runs synchronously and its exit code is
        ours to read; otherwise it copies itself to %TEMP% and the copy does the work (as when
        Windows runs QuietUninstallString), and ``wineserver -w`` waits for it.
        """
        args = [str(INSTALL_DIR / "uninstall.exe"), "/S", *switches]
        if in_place:
            # NSIS wants _?= unquoted and last; wine quotes an argv item holding spaces, but
            # joins items with single spaces: hand it the path in pieces.
            args += f"_?={INSTALL_DIR}".split(" ")
        return self.run(*args, settle=settle)

    def registry_key(self, key: str) -> dict[str, str] | None:
        """Values of an HKLM key (64-bit view) as written in system.reg, or None if absent."""
        header = "[" + key.replace("\\", "\\\\") + "]"
        values: dict[str, str] | None = None
        for line in (self.prefix / "system.reg").read_text(encoding="utf-8").splitlines():
            if values is None:
                if line.split("] ")[0] + "]" == header:
                    values = {}
                continue
            if not line.strip():
                break
            if line.startswith('"'):
                name, _, raw = line.partition("=")
                values[_unescape(name[1:-1])] = _unescape(raw[1:-1]) if raw.startswith('"') else raw
        return values

    def reset(self) -> None:
        """Back to an empty machine: uninstall what is there, then remove what is left."""
        key = self.registry_key(UNINSTALL_KEY) or {}
        installed = PureWindowsPath(key.get("InstallLocation", str(INSTALL_DIR)))
        if self.host(installed / "uninstall.exe").exists():
            self.run(str(installed / "uninstall.exe"), "/S")
        for path in (installed, INSTALL_DIR, DATA_DIR, SHORTCUT_DIR):
            shutil.rmtree(self.host(path), ignore_errors=True)
        if self.registry_key(UNINSTALL_KEY) is not None:
            self.run("reg", "delete", "HKLM\\" + UNINSTALL_KEY, "/f", "/reg:64")


def _unescape(text: str) -> str:
    return text.replace('\\"', '"').replace("\\\\", "\\")


@pytest.fixture(scope="session")
def wine_prefix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Wine]:
    wine = require_binary("wine", "wine wine64")
    wineserver = require_binary("wineserver", "wine wine64")
    prefix = tmp_path_factory.mktemp("wine") / "prefix"
    env = dict(os.environ)
    env.pop("DISPLAY", None)  # headless: an Xvfb started by other tests is not for wine
    env.update(
        WINEPREFIX=str(prefix),
        WINEARCH="win64",
        WINEDEBUG="-all",
        WINEDLLOVERRIDES="mscoree,mshtml=",
    )
    box = Wine(prefix=prefix, env=env, wine=wine, wineserver=wineserver)
    try:
        subprocess.run(
            [wine, "wineboot", "--init"], env=env, capture_output=True, check=True, timeout=180
        )
        box.settle()
        yield box
    finally:
        subprocess.run([wineserver, "-k"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(prefix, ignore_errors=True)  # ~700 MB


@pytest.fixture
def machine(wine_prefix: Wine) -> Iterator[Wine]:
    """The session's prefix, with nothing of ours installed before and after the test."""
    wine_prefix.reset()
    yield wine_prefix
    wine_prefix.reset()


@dataclass
class RunningStation:
    """The stand-in holding the app's mutex, as the running station does."""

    process: subprocess.Popen[bytes]
    flag_dir: Path

    def stop(self) -> None:
        (self.flag_dir / "mutex-release").touch()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def running_station(machine: Wine, standin: Path) -> Iterator[RunningStation]:
    """Run the stand-in with ``hold-mutex`` until the block ends (300 s at most)."""
    flag_dir = machine.host(PureWindowsPath(r"C:\standin-mutex"))
    shutil.rmtree(flag_dir, ignore_errors=True)
    shutil.copy(standin, machine.prefix / "drive_c" / "standin-mutex-holder.exe")
    process = subprocess.Popen(
        [machine.wine, r"C:\standin-mutex-holder.exe", "hold-mutex", r"C:\standin-mutex"],
        env=machine.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    station = RunningStation(process, flag_dir)
    try:
        deadline = time.monotonic() + 60
        while not (flag_dir / "mutex-held").exists():
            assert process.poll() is None, "the stand-in exited before holding the mutex"
            assert time.monotonic() < deadline, "the stand-in never took the mutex"
            time.sleep(0.1)
        yield station
    finally:
        station.stop()
        machine.settle()


@pytest.fixture(scope="session")
def command_recorder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A program that records its command line (standin/command_recorder.c): put in place of
    icacls.exe and net.exe, whose wine versions are stubs."""
    gcc = require_binary("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")
    exe = tmp_path_factory.mktemp("recorder") / "command_recorder.exe"
    source = Path(__file__).with_name("standin") / "command_recorder.c"
    subprocess.run(
        [gcc, "-O2", "-municode", "-static", "-o", str(exe), str(source)], check=True, timeout=120
    )
    return exe


@contextmanager
def recorded_commands(machine: Wine, recorder: Path, *names: str) -> Iterator[Wine]:
    """``machine`` with the recorder as each of ``names`` (in system32, preferred to wine's
    builtin ones); the originals come back afterwards."""
    system32 = machine.prefix / "drive_c" / "windows" / "system32"
    saved = {n: (system32 / n).read_bytes() for n in names}
    for n in names:
        shutil.copy(recorder, system32 / n)
    env = dict(machine.env)
    env["WINEDLLOVERRIDES"] += ";" + ",".join(names) + "=n"
    try:
        yield Wine(machine.prefix, env, machine.wine, machine.wineserver)
    finally:
        for n, data in saved.items():
            (system32 / n).write_bytes(data)
        for leftover in ("recorded-commands.txt", "recorder-fails"):
            (machine.prefix / "drive_c" / leftover).unlink(missing_ok=True)
