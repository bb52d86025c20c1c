"""Real server processes and a throwaway PostgreSQL cluster for tests and benchmarks.

``ServerProcess`` runs ``python -m server --home H serve --port P`` on loopback and waits for
``/api/v1/health``; it is stopped (or ``kill -9``-ed) by its PID. ``PostgresCluster`` runs
``initdb`` + ``pg_ctl`` as the ``postgres`` user in a temp dir on a free port.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import requests

from app import packet as pkt
from tests.support.cli import ROOT, env_with_source


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(
    url: str,
    timeout: float = 30.0,
    proc: subprocess.Popen[bytes] | None = None,
    accept: Callable[[requests.Response], bool] | None = None,
) -> None:
    """Until ``url`` answers 200 (and ``accept`` takes the answer); fails when ``proc`` exits."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            resp = requests.get(url, timeout=1)
            if resp.status_code == 200 and (accept is None or accept(resp)):
                return
        except requests.RequestException:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout} s")


class _PortTaken(Exception):
    pass


class ServerProcess:
    def __init__(
        self,
        home: Path,
        db_url: str | None = None,
        *,
        upstream: str | None = None,
        port: int | None = None,
        extra: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.home = Path(home)
        self.db_url = db_url
        self.upstream = upstream
        self._own_port = port is None  # a free port picked here may be taken before use
        self.port = port or free_port()
        self.extra = list(extra or [])
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = self.home.parent / f"{self.home.name}-server-{self.port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def args(self) -> list[str]:
        a = [sys.executable, "-m", "server", "--home", str(self.home)]
        if self.db_url:
            a += ["--db", self.db_url]
        a += ["serve", "--host", "127.0.0.1", "--port", str(self.port), *self.extra]
        if self.upstream:
            a += ["--upstream", self.upstream]
        return a

    def start(self, timeout: float = 30.0) -> ServerProcess:
        if self.proc is not None and self.proc.poll() is None:
            # A second process would leave the first running after the test, unseen.
            raise RuntimeError(f"the server at {self.url} is running already")
        # free_port() closes its probe socket, and another process's connection may take the
        # port as its local one before the server binds it: pick another and try again.
        for _ in range(3):
            try:
                return self._start(timeout)
            except _PortTaken:
                self.port = free_port()
        return self._start(timeout)

    def _start(self, timeout: float) -> ServerProcess:
        self.home.mkdir(parents=True, exist_ok=True)
        log_start = self.log.stat().st_size if self.log.exists() else 0
        logf = open(self.log, "ab")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(
            self.args(),
            stdout=logf,
            stderr=subprocess.STDOUT,
            env=env_with_source(self.env),
            cwd=ROOT,
        )
        logf.close()
        try:
            wait_http(self.url + "/api/v1/health", timeout, self.proc, self._answers_for_home)
        except Exception:
            self.stop()
            text = self.log.read_bytes().decode(errors="replace")
            recent = self.log.read_bytes()[log_start:].decode(errors="replace")
            if self._own_port and "already in use" in recent.lower():
                raise _PortTaken() from None
            raise RuntimeError(f"server did not start: {text[-2000:]}") from None
        return self

    def _answers_for_home(self, health: requests.Response) -> bool:
        """The server on our port is this one (its sealing key is the home's), not another
        process's that got the same free port: ours then fails to bind and exits."""
        given = (self.env or {}).get("EKTP_SEALING_KEY_FILE")  # the cluster's key, given
        try:
            pem = (
                Path(given.split(os.pathsep)[0]) if given else self.home / "sealing_key.pem"
            ).read_bytes()
        except FileNotFoundError:
            return False  # this server has not even made its key yet
        try:
            key = pkt.load_sealing_private_key(pem)
        except pkt.PacketError:
            return False  # written half-way: read again
        return bool(health.json().get("server_key_id") == pkt.key_id(key.public_key()))

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout)
        self.proc = None

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.proc = None

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PostgresCluster:
    """A throwaway PostgreSQL cluster owned by the ``postgres`` user, on a free port."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="ektp-pg-"))
        os.chmod(self.dir, 0o755)
        self.data = self.dir / "data"
        self.started = False

    def _as_postgres(self, *cmd: str, timeout: float = 60) -> None:
        run = [*cmd]
        if os.geteuid() == 0:
            run = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(run, check=True, capture_output=True, timeout=timeout)

    def start(self) -> PostgresCluster:
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self._as_postgres(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
        )
        # The free port may be taken before PostgreSQL binds it: then another one, twice.
        for attempt in range(3):
            log = self.dir / f"pg-{attempt}.log"
            opts = (
                f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                "-c max_connections=200 -c shared_buffers=128MB"
            )
            try:
                self._as_postgres(
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-o",
                    opts,
                    "-l",
                    str(log),
                    "-w",
                    "start",
                )
            except subprocess.CalledProcessError:
                text = log.read_text(errors="replace") if log.exists() else ""
                if attempt == 2 or "already in use" not in text:
                    raise
                self.port = free_port()
                continue
            self.started = True
            return self
        raise AssertionError("unreachable")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, prefix: str = "t") -> str:
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.started:
            try:
                self._as_postgres(
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "immediate",
                    "-w",
                    "stop",
                )
            finally:
                self.started = False
        shutil.rmtree(self.dir, ignore_errors=True)


def find_pg_bindir() -> Path | None:
    base = Path("/usr/lib/postgresql")
    if not base.is_dir():
        return None
    for version in sorted(base.iterdir(), key=lambda p: p.name, reverse=True):
        if (version / "bin" / "initdb").exists():
            return version / "bin"
    return None
