"""Try a frozen station (the PyInstaller one-folder build) as a technician would.

    python scripts/try_frozen.py DIST_DIR [--out DIR]
    WINEPREFIX=... python scripts/try_frozen.py DIST_DIR --wine   # a Windows build on Linux

DIST_DIR is the folder holding ``ektp-station`` and ``ektp-station-gui`` (``.exe`` on
Windows, or with ``--wine``: a Windows build run through wine, scripts/wine_windows.py). Each
step runs the frozen programs as subprocesses, from a folder outside the source tree and without PYTHONPATH, and prints ``ok  STEP  (seconds)``; the first failure prints the
program's output and exits 1. Steps (``STEPS``): ``--version``; ``status --pending`` before
set-up; offline ``init`` from a key file; ``operator add``; ``enroll`` with a photo; ``status
--json``; ``doctor --json``; ``provision`` against a real server (``python -m server`` from this
checkout) and ``sync --once`` to it; the GUI ``demo`` until its sign-in window shows
(a screenshot of it in OUT on Linux), closed cleanly, then again in English. On Linux the
GUI steps need an X display: run it under ``xvfb-run -a``.

tests/freeze/ runs the same steps on the Windows build under wine; the Windows workflow runs
this script on the Windows build on Windows (docs/installer.md).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WINDOWS = sys.platform == "win32"
# A made-up resident of Gunung Kaler (tests/support/residents.py: BUDI_LAKI).
RESIDENT = {
    "nik": "3603321208900007",
    "nama": "BUDI SANTOSO WIRAHADI",
    "tempat_lahir": "TANGERANG",
    "tanggal_lahir": "1990-08-12",
    "jenis_kelamin": "LAKI-LAKI",
    "golongan_darah": "O",
    "alamat": "JL. RAYA KRESEK NO. 17",
    "rt": "003",
    "rw": "005",
    "kode_wilayah": "36.03.32.2001",
    "agama": "ISLAM",
    "status_perkawinan": "KAWIN",
    "pekerjaan": "PETANI/PEKEBUN",
    "kewarganegaraan": "WNI",
    "no_kk": "3603321001150003",
}
KECAMATAN = "36.03.32"
OPERATOR = ("siti", "rahasia-siti-123")
# The main window's title, in Bahasa Indonesia and in English (resources/translations).
TITLE_ID = "Perekaman KTP-el"
TITLE_EN = "e-KTP recording"


class SmokeFailure(Exception):
    """A step failed: the message names it and holds the program's output."""


@dataclass
class Frozen:
    """The frozen build under test and the scratch folder the steps share."""

    dist: Path
    work: Path
    out: Path
    extra_env: dict[str, str] = field(default_factory=dict)  # e.g. DISPLAY of a test's Xvfb
    figures: dict[str, float] = field(default_factory=dict)
    # What runs the programs: [] on their own system, ["wine"] for a Windows build on Linux.
    launcher: list[str] = field(default_factory=list)

    @property
    def windows(self) -> bool:
        """A Windows build (on Windows, or under wine)."""
        return WINDOWS or bool(self.launcher)

    def exe(self, name: str = "ektp-station") -> Path:
        return self.dist / f"{name}{'.exe' if self.windows else ''}"

    def command(self, *args: str, program: str = "ektp-station") -> list[str]:
        return [*self.launcher, str(self.exe(program)), *args]

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The technician's environment: nothing that points at the source tree."""
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("PYTHONPATH", "PYTHONHOME", "EKTP_STATION_HOME", "EKTP_SERVER_HOME")
        }
        env.update(self.extra_env)
        env.update(extra or {})
        return env

    def run(
        self, *args: str, input: str | None = None, ok: tuple[int, ...] = (0,), timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """``ektp-station ARGS`` from the frozen build; fails unless its exit code is in ``ok``."""
        res = subprocess.run(
            self.command(*args),
            # wine gives a Windows program an invalid handle for an inherited terminal: pipes
            input=input if input is not None or not self.launcher else "",
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env(),
            cwd=self.work,
        )
        if res.returncode not in ok:
            raise SmokeFailure(
                f"ektp-station {' '.join(args)}: exit {res.returncode}\n"
                f"stdout: {res.stdout[-2000:]}\nstderr: {res.stderr[-4000:]}"
            )
        return res

    def home(self, name: str) -> Path:
        return self.work / name

    def close_gui(self) -> Callable[[subprocess.Popen[str], object], None] | None:
        """How a test closes the GUI: None for the system's own way (SIGTERM, or WM_CLOSE on
        Windows); under wine, wine's ``taskkill`` without /F, which posts WM_CLOSE to the
        program's windows as the close button would."""
        if not self.launcher:
            return None
        launcher = self.launcher

        def close(proc: subprocess.Popen[str], window: object) -> None:
            subprocess.run(
                [*launcher, "taskkill", "/im", "ektp-station-gui.exe"],
                env=self.env(),
                input="",
                capture_output=True,
                timeout=60,
            )

        return close


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise SmokeFailure(message)


def project_version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return str(tomllib.load(f)["project"]["version"])


def _server_key(path: Path) -> Path:
    # A hybrid key (ML-KEM-768 + X25519), as a new server makes: the frozen program's
    # OpenSSL must seal with it. (Run as a script, the checkout is not on sys.path.)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from app.packet import HybridPrivateKey, sealing_public_key_pem

    path.write_bytes(sealing_public_key_pem(HybridPrivateKey.generate().public_key()))
    return path


def _photo(path: Path) -> Path:
    """A frame of the demo camera video (a face the quality checks accept) as a JPEG."""
    import cv2

    cap = cv2.VideoCapture(str(ROOT / "resources" / "demo" / "face.avi"))
    try:
        cap.set(cv2.CAP_PROP_POS_FRAMES, int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) // 2)
        ok, frame = cap.read()
    finally:
        cap.release()
    _check(ok and cv2.imwrite(str(path), frame), "could not take a photo from face.avi")
    return path


# --- the steps ----------------------------------------------------------------------------

# The one-folder build's size budget in MiB. Windows is what the installer ships. The Linux
# freeze (the tests') carries what the Windows one gets from the system or does without: ICU
# (37 MiB), OpenCV's OpenBLAS (37 MiB) and its FFmpeg in 15 libraries, CUPS with GnuTLS and
# Kerberos for printing (docs/installer.md).
SIZE_BUDGET_MIB = {"win32": 250, "linux": 355}
# Found at the same place relative to the code as in the source tree (paths in _internal/).
NEEDED = [
    "resources/translations/ektp_en.qm",
    "resources/demo/face.avi",
    "cv2/data/haarcascade_frontalface_default.xml",
    "app/store/migrations/env.py",
    "app/store/migrations/versions",
    "server/migrations/env.py",
    "server/migrations/versions",
    "server/web/templates/base.html",
    "server/web/static",
    "app/domain/pekerjaan_v1.json",
    "lokal/data",
]
# Left out (globs in _internal/): the server's PostgreSQL, S3 and fast-loop extras, test and
# type-check tools, Pillow, Qt's own translations, the cascades the station never loads.
LEFT_OUT = [
    "psycopg*",
    "psycopg_pool",
    "uvloop",
    "boto3",
    "botocore",
    "hypothesis",
    "mypy",
    "PIL",
    "PySide6/**/qt_*.qm",
    "PySide6/**/*wayland*",
    "cv2/data/haarcascade_eye.xml",
    "PySide6/**/libQt6Network*",
    "PySide6/**/libQt6Svg*",
    "PySide6/Qt6Network.dll",
    "PySide6/Qt6Svg.dll",
    "PySide6/opengl32sw.dll",
    "PySide6/QtDBus*",
]


def bundle_mib(dist: Path) -> float:
    """The one-folder build's size: every file, symbolic links as links."""
    total = sum(p.lstat().st_size for p in dist.rglob("*") if p.is_symlink() or p.is_file())
    return total / 2**20


def step_bundle(fz: Frozen) -> None:
    """What the station needs is in the build, what it never uses is not, within budget."""
    inner = fz.dist / "_internal"
    missing = [p for p in NEEDED if not (inner / p).exists()]
    _check(not missing, f"missing from {inner}: {missing}")
    present = [p for p in LEFT_OUT if next(inner.glob(p), None) is not None]
    _check(not present, f"should have been left out of {inner}: {present}")
    size = bundle_mib(fz.dist)
    fz.figures["bundle_mib"] = round(size, 1)
    budget = SIZE_BUDGET_MIB["win32" if fz.windows else "linux"]
    _check(size <= budget, f"the build is {size:.0f} MiB, over its {budget} MiB budget")


def step_version(fz: Frozen) -> None:
    res = fz.run("--version")
    want = f"ektp-station {project_version()}"
    _check(res.stdout.strip() == want, f"--version: {res.stdout!r}, expected {want!r}")


def step_offline_station(fz: Frozen) -> None:
    """What the installer asks, then an offline set-up, an operator and one recording."""
    home = str(fz.home("offline"))
    res = fz.run("--home", home, "status", "--pending")
    _check(res.stdout.strip() == "none", f"status --pending before init: {res.stdout!r}")
    fz.run(
        "--home",
        home,
        "init",
        "--server-key",
        str(_server_key(fz.work / "server.pem")),
        "--kecamatan",
        KECAMATAN,
    )
    _check_key_at_rest(fz, Path(home))
    _add_operator(fz, home)
    uuid = _enroll(fz, home)  # signs with the key: unwrapped again
    status = json.loads(fz.run("--home", home, "status", "--json").stdout)
    _check(status["pending"] == 1, f"status --json: {status}")
    res = fz.run("--home", home, "status", "--pending")
    _check(res.stdout.strip() == "1", f"status --pending after a recording: {res.stdout!r}")
    # doctor: 1 only for "unhealthy"; no camera, reader or server here is a warning.
    doctor = json.loads(fz.run("--home", home, "doctor", "--json", ok=(0, 1)).stdout)
    checks = {c["name"]: c["status"] for c in doctor["checks"]}
    for name in ("database", "schema", "audit", "station", "disk"):
        _check(checks.get(name) == "ok", f"doctor: {name} is {checks.get(name)}: {doctor}")
    _check(uuid != "", "enroll printed no record id")


def _check_key_at_rest(fz: Frozen, home: Path) -> None:
    """The station's signing key is stored wrapped (app/store/keystore.py): by DPAPI in a
    Windows build, else by the key file beside the database."""
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(home / "station.db")) as db:
        (stored,) = db.execute("SELECT signing_key_pem FROM station").fetchone()
    form = b"dpapi:" if fz.windows else b"file:"
    _check(
        bytes(stored).startswith(b"ektp-wrapped-key:1:" + form) and b"PRIVATE KEY" not in stored,
        f"the signing key is stored as {bytes(stored)[:40]!r}, not wrapped by {form.decode()}",
    )
    key_file = (home / "station.key").exists()
    _check(key_file != fz.windows, f"station.key {'exists' if key_file else 'is missing'}")


def _add_operator(fz: Frozen, home: str) -> None:
    name, password = OPERATOR
    fz.run(
        "--home",
        home,
        "operator",
        "add",
        "--username",
        name,
        "--role",
        "operator",
        input=password + "\n",
    )


def _enroll(fz: Frozen, home: str) -> str:
    bio = fz.work / "resident.json"
    bio.write_text(json.dumps(RESIDENT), encoding="utf-8")
    photo = fz.work / "face.jpg"
    if not photo.exists():
        _photo(photo)
    res = fz.run(
        "--home",
        home,
        "enroll",
        "--operator",
        OPERATOR[0],
        "--biodata",
        str(bio),
        "--photo",
        str(photo),
        input=OPERATOR[1] + "\n",
    )
    return res.stdout.strip().splitlines()[-1]


def step_provision_and_sync(fz: Frozen) -> None:
    """``provision`` against a real server (this checkout's), a recording, ``sync --once``."""
    server = SourceServer(fz.work / "server-home")
    server.start()
    try:
        code = server.add_station("Kit 1", KECAMATAN)
        home = str(fz.home("online"))
        fz.run("--home", home, "provision", "--server", server.url, "--code", code)
        _add_operator(fz, home)
        uuid = _enroll(fz, home)
        fz.run("--home", home, "sync", "--once")
        listed = json.loads(server.cli("packets", "--json").stdout)
        _check(
            [p["uuid"] for p in listed["packets"]] == [uuid],
            f"server packets after sync --once: {listed}, expected {uuid}",
        )
        status = json.loads(fz.run("--home", home, "status", "--json").stdout)
        _check(status["pending"] == 0, f"status after sync --once: {status}")
    finally:
        server.stop()


def step_demo(fz: Frozen) -> None:
    """``ektp-station-gui demo``: its server starts, the sign-in window shows, SIGTERM (or the
    window's close button on Windows) closes it and its server with exit code 0."""
    fz.figures["demo_sign_in_s"] = gui_until_sign_in(
        fz.command("--home", str(fz.home("demo")), "demo", program="ektp-station-gui"),
        fz.env({"EKTP_LANG": "id"}),
        fz.work,
        TITLE_ID,
        screenshot=fz.out / "frozen-demo-sign-in.png",
        close=fz.close_gui(),
    )


def step_demo_english(fz: Frozen) -> None:
    """The demo again (its home is reused) in English: the translations are found."""
    gui_until_sign_in(
        fz.command("--home", str(fz.home("demo")), "demo", program="ektp-station-gui"),
        fz.env({"EKTP_LANG": "en"}),
        fz.work,
        TITLE_EN,
        screenshot=None,
        close=fz.close_gui(),
    )


STEPS: list[Callable[[Frozen], None]] = [
    step_bundle,
    step_version,
    step_offline_station,
    step_provision_and_sync,
    step_demo,
    step_demo_english,
]


# --- a server from the source tree -------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SourceServer:
    """``python -m server`` from this checkout on a loopback port: the central server."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        return env

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        res = subprocess.run(
            [sys.executable, "-m", "server", "--home", str(self.home), *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=self._env(),
        )
        if res.returncode != 0:
            raise SmokeFailure(f"ektp-server {' '.join(args)}: exit {res.returncode}: {res.stderr}")
        return res

    def add_station(self, name: str, kecamatan: str) -> str:
        res = self.cli("station", "add", "--name", name, "--kecamatan", kecamatan, "--json")
        return str(json.loads(res.stdout)["code"])

    def start(self, timeout: float = 60) -> None:
        import requests

        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.home.parent / "server.log", "ab")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "server", "--home", str(self.home), "serve"]
            + ["--host", "127.0.0.1", "--port", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self._env(),
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _check(self.proc.poll() is None, f"the server exited with {self.proc.returncode}")
            try:
                if requests.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise SmokeFailure(f"the server did not answer on {self.url} within {timeout} s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(20)


# --- the GUI: find its window, screenshot it, close it ------------------------------------


def _x11_window(title: str, env: dict[str, str]) -> str | None:
    """The id of a viewable top-level X window whose name starts with ``title`` (Qt may add
    the application's name after it)."""
    tree = subprocess.run(
        ["xwininfo", "-root", "-tree"], capture_output=True, text=True, timeout=10, env=env
    ).stdout
    for wid in re.findall(r'^\s*(0x[0-9a-f]+) "' + re.escape(title), tree, re.M):
        info = subprocess.run(
            ["xwininfo", "-id", wid], capture_output=True, text=True, timeout=10, env=env
        ).stdout
        if "Map State: IsViewable" in info:
            return wid
    return None


def _windows_window(title: str, env: dict[str, str]) -> int | None:
    """The handle of a visible top-level window whose title starts with ``title``."""
    import ctypes
    from ctypes import wintypes

    user32 = ctypes.windll.user32  # type: ignore[attr-defined]
    found: list[int] = []

    @ctypes.WINFUNCTYPE(wintypes.BOOL, wintypes.HWND, wintypes.LPARAM)  # type: ignore[attr-defined]
    def visit(hwnd: int, _: int) -> bool:
        buf = ctypes.create_unicode_buffer(512)
        user32.GetWindowTextW(hwnd, buf, 512)
        if buf.value.startswith(title) and user32.IsWindowVisible(hwnd):
            found.append(hwnd)
        return True

    user32.EnumWindows(visit, 0)
    return found[0] if found else None


def _screenshot(wid: str, path: Path, env: dict[str, str], timeout: float = 20) -> None:
    """The window as the X server shows it (imagemagick's ``import``), once it is painted
    (not one colour)."""
    import cv2

    path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + timeout
    while True:
        subprocess.run(["import", "-window", wid, str(path)], check=True, timeout=30, env=env)
        image = cv2.imread(str(path))
        _check(image is not None, f"screenshot {path} is unreadable")
        h, w = image.shape[:2]
        colours = {tuple(image[y, x]) for y in range(0, h, 29) for x in range(0, w, 37)}
        if w >= 640 and h >= 480 and len(colours) >= 4:
            return
        _check(time.monotonic() < deadline, f"screenshot {path}: blank or tiny ({w}x{h})")
        time.sleep(0.2)


def _display_free(number: int) -> bool:
    """No X server of this machine uses display ``number``: neither its lock file nor its
    abstract socket (shared across /tmp namespaces: a client tries it first, so a display
    whose abstract name is another's leads clients to that other server)."""
    if Path(f"/tmp/.X{number}-lock").exists():  # noqa: S108 - the X servers' own lock
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.bind(f"\0/tmp/.X11-unix/X{number}")
        except OSError:
            return False
    return True


def start_xvfb(xvfb: str = "Xvfb") -> tuple[subprocess.Popen[bytes], str]:
    """An X server (1280x900) on a display no other X server uses; returns it and its
    ``DISPLAY``. The caller terminates it."""
    for number in range(200, 600):
        if not _display_free(number):
            continue
        read, write = os.pipe()
        proc = subprocess.Popen(
            [xvfb, f":{number}", "-displayfd", str(write), "-screen", "0", "1280x900x24"]
            + ["-nolisten", "tcp"],
            pass_fds=(write,),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(write)
        with os.fdopen(read) as f:
            ready = f.readline().strip()  # written once it listens; empty if it exited
        if ready == str(number):
            return proc, f":{number}"
        proc.kill()
        proc.wait(10)
    raise SmokeFailure("no free X display between :200 and :599")


def gui_until_sign_in(
    cmd: list[str],
    env: dict[str, str],
    cwd: Path,
    title: str,
    *,
    screenshot: Path | None,
    timeout: float = 120,
    close: Callable[[subprocess.Popen[str], object], None] | None = None,
) -> float:
    """Start the GUI ``cmd``, wait until its window ``title`` is viewable (the sign-in screen:
    nobody is signed in at start), optionally screenshot it, close it and check it ended with
    0 and, for the demo, stopped its server. Returns the seconds from start to the window.
    ``close`` closes it instead of the system's own way (under wine: Frozen.close_gui)."""
    import requests

    t0 = time.monotonic()
    # No stream inherited: wine hands a Windows program an invalid handle for a regular file
    # (pytest's captured output), and its Python then does not start.
    proc = subprocess.Popen(
        cmd,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    assert proc.stderr is not None
    reader = threading.Thread(target=lambda: lines.extend(proc.stderr or []), daemon=True)
    reader.start()
    try:
        find: Callable[[str, dict[str, str]], object] = _windows_window if WINDOWS else _x11_window
        deadline = t0 + timeout
        wid = None
        while wid is None:
            if proc.poll() is not None:
                reader.join(5)
                raise SmokeFailure(
                    f"{' '.join(cmd)} exited with {proc.returncode} before its window showed:\n"
                    + "".join(lines)[-4000:]
                )
            _check(time.monotonic() < deadline, f"no window {title!r} within {timeout} s")
            wid = find(title, env)
            if wid is None:
                time.sleep(0.1)
        elapsed = time.monotonic() - t0
        if screenshot is not None and not WINDOWS:
            _screenshot(str(wid), screenshot, env)
        if close is not None:
            close(proc, wid)
        elif WINDOWS:
            import ctypes
            from ctypes import wintypes

            post = ctypes.windll.user32.PostMessageW  # type: ignore[attr-defined]
            post.argtypes = [wintypes.HWND, wintypes.UINT, wintypes.WPARAM, wintypes.LPARAM]
            post(wid, 0x0010, 0, 0)  # WM_CLOSE: what the window's close button sends
        else:
            proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
        reader.join(10)
        text = "".join(lines)
        _check(code == 0, f"the demo ended with {code}:\n{text[-4000:]}")
        url = re.search(r"local ektp-server on (http://127\.0\.0\.1:\d+)", text)
        if url is not None:  # the windowed Windows program has no stderr to read it from
            try:
                requests.get(url.group(1) + "/api/v1/health", timeout=2)
                raise SmokeFailure("the demo server outlived the demo")
            except requests.RequestException:
                pass
        return elapsed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("dist", type=Path, help="the one-folder build (holds ektp-station)")
    p.add_argument("--out", type=Path, help="where screenshots go (default: a temp dir)")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--wine", action="store_true", help="a Windows build, run through wine")
    args = p.parse_args(argv)
    launcher = ["wine"] if args.wine else []
    exe = Frozen(args.dist, Path(), Path(), launcher=launcher).exe()
    if not exe.is_file():
        print(f"dist: no {exe.name} in {args.dist}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="ektp-frozen-") as tmp:
        out = (args.out or Path(tmp) / "shots").resolve()
        fz = Frozen(args.dist.resolve(), Path(tmp), out, launcher=launcher)
        for step in STEPS:
            t0 = time.monotonic()
            try:
                step(fz)
            except SmokeFailure as exc:
                print(f"FAIL {step.__name__}: {exc}", file=sys.stderr)
                return 1
            print(f"ok  {step.__name__}  ({time.monotonic() - t0:.1f} s)", flush=True)
        if args.json:
            args.json.write_text(json.dumps(fz.figures, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
