"""``ektp-station demo``: the whole loop on one machine.

Starts a local ``ektp-server`` (SQLite) as a child process on loopback (``python -m server``
from the source tree, the station's own executable when frozen: app/programs.py), provisions a demo
station against it with a one-time code (first run), seeds demo accounts, and offers the
shipped face video as a camera when no camera exists. Everything lives under
``<home>/demo/`` so the demo never touches a real station's data; a second run reuses it.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests

from app.programs import child_env, command
from app.ui.services import Operator
from app.ui.station import DEMO_VIDEO, StationServices

DEMO_USER = ("demo", "demo-12345")
DEMO_TECHNICIAN = ("teknisi", "teknisi-12345")
DEMO_SUPERVISOR = ("supervisor", "supervisor-12345")
DEMO_KECAMATAN = "36.03.32"  # Gunung Kaler, Kabupaten Tangerang
DEMO_OFFICE = ("kantor", "kantor-12345")  # the office web page's demo account (admin)
DEMO_WAJIB_KTP = "kode_wilayah,wajib_ktp\n36.03.32,34262\n"  # Gunung Kaler's, as in the story
PREFERRED_PORT = 8765


class DemoError(RuntimeError):
    """The demo server did not start or the demo station could not be set up."""


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _free_port() -> int:
    if _port_free(PREFERRED_PORT):
        return PREFERRED_PORT
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_cmd(server_home: Path, *args: str) -> list[str]:
    return command("ektp-server", "--home", str(server_home), *args)


def start_server(server_home: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    """``ektp-server --home SERVER_HOME ARGS`` as a child process, its output appended to
    ``log``; the caller stops it (``_stop``)."""
    logf = open(log, "ab")  # noqa: SIM115 - the child owns it
    try:
        return subprocess.Popen(
            _server_cmd(server_home, *args),
            stdout=logf,
            stderr=subprocess.STDOUT,
            env=child_env(),
        )
    finally:
        logf.close()


@dataclass
class DemoRun:
    root: Path
    services: StationServices
    server: subprocess.Popen[bytes]
    url: str

    @classmethod
    def start(cls, home: Path, *, timeout: float = 60.0, log: bool = True) -> DemoRun:
        root = Path(home) / "demo"
        server_home = root / "server"
        server_home.mkdir(parents=True, exist_ok=True)
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        say = (
            (lambda m: print(f"ektp-station demo: {m}", file=sys.stderr))
            if log
            else (lambda m: None)
        )
        say(f"starting a local ektp-server on {url} (data in {root})")
        # --process: the back office opens each record, so the demo shows it "processed".
        proc = start_server(
            server_home,
            root / "server.log",
            "serve",
            "--process",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        )
        try:
            _wait_health(url, proc, timeout)
            services = StationServices(
                root / "station",
                demo_hint=DEMO_USER,
                camera_sources=[(f"file:{DEMO_VIDEO}", "Video demo (resources/demo/face.avi)")],
                sync_interval_s=5.0,
            )
            _provision(services, server_home, url, say)
            _office(server_home, root)
        except BaseException:
            _stop(proc)
            raise
        say(
            f"sign in as {DEMO_USER[0]} / {DEMO_USER[1]} (technician: {DEMO_TECHNICIAN[0]} / {DEMO_TECHNICIAN[1]})"
        )
        say(f"office web page: {url}/ (sign in as {DEMO_OFFICE[0]} / {DEMO_OFFICE[1]})")
        return cls(root, services, proc, url)

    def stop(self) -> None:
        self.services.close()
        _stop(self.server)


def _wait_health(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DemoError(f"the demo server exited with {proc.returncode}: see server.log")
        try:
            if requests.get(url + "/api/v1/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise DemoError(f"the demo server did not answer on {url} within {timeout:.0f} s")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()  # SIGTERM; on Windows TerminateProcess
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()  # Windows has no SIGKILL
            proc.wait(10)


def _office(server_home: Path, root: Path) -> None:
    """First run: the office page's demo account and Gunung Kaler's wajib KTP (34,262)."""
    marker = root / "office-ready"
    if marker.exists():
        return
    targets = root / "wajib_ktp.csv"
    targets.write_text(DEMO_WAJIB_KTP)
    for args, stdin in (
        (("admin", "add", "--username", DEMO_OFFICE[0], "--role", "admin"), DEMO_OFFICE[1]),
        (("targets", "import", str(targets), "--by", "demo"), ""),
    ):
        done = subprocess.run(
            _server_cmd(server_home, *args),
            input=stdin + "\n",
            capture_output=True,
            text=True,
            env=child_env(),
            timeout=60,
        )
        if done.returncode != 0 and "exists already" not in done.stderr:
            raise DemoError(f"{args[0]} {args[1]} failed: {done.stderr.strip()}")
    marker.touch()


def _provision(
    services: StationServices, server_home: Path, url: str, say: Callable[[str], None]
) -> None:
    from app import packet
    from app.store.operators import add_operator, get_operator
    from app.store.station import get_identity, update_server

    store = services.store
    for (name, password), role in (
        (DEMO_USER, "operator"),
        (DEMO_TECHNICIAN, "technician"),
        (DEMO_SUPERVISOR, "supervisor"),
    ):
        if get_operator(store, name) is None:
            add_operator(store, name, role, password, actor="demo")
    ident = get_identity(store)
    if ident is None:
        result = subprocess.run(
            _server_cmd(
                server_home,
                "station",
                "add",
                "--name",
                "Kit demo",
                "--kecamatan",
                DEMO_KECAMATAN,
                "--json",
            ),
            capture_output=True,
            text=True,
            env=child_env(),
            timeout=60,
        )
        if result.returncode != 0:
            raise DemoError(f"station add failed: {result.stderr.strip()}")
        code = str(json.loads(result.stdout)["code"])
        services.provision(Operator(DEMO_TECHNICIAN[0], "technician"), url, code)
        say("demo station provisioned")
    elif ident.server_url != url:  # the server came up on another port this time
        pem = packet.sealing_public_key_pem(ident.server_public_key)
        update_server(store, url, pem, ident.station_id)
