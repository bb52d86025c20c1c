"""Run the real command-line programs as subprocesses, as a technician or script would."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The programs the tests start (thousands of them) keep their compiled bytecode here, outside
# the checkout, even where the environment says not to write any (PYTHONDONTWRITEBYTECODE):
# compiling the project's modules again at each start was a tenth of every command's time.
PYCACHE = Path(tempfile.gettempdir()) / "ektp-tests-pycache"


def env_with_source(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env.pop("EKTP_STATION_HOME", None)
    env.pop("EKTP_SERVER_HOME", None)
    env.pop("EKTP_SEALING_KEY_FILE", None)  # a host's key comes from what the test gives it
    env.pop("EKTP_SEALING_KEY", None)
    if extra:
        env.update(extra)
    return env


def _run(
    module: str,
    args: tuple[str, ...],
    input: str | bytes | None,
    timeout: float,
    env: dict[str, str] | None,
    cwd: Path | None,
) -> subprocess.CompletedProcess[str]:
    if isinstance(input, bytes):
        input = input.decode()
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        input=input,
        # Nothing given: an empty stdin, never the terminal pytest runs in (a password
        # prompt would wait on it).
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env_with_source(env),
        cwd=cwd or ROOT,
    )


def run_station(
    *args: str,
    input: str | bytes | None = None,
    timeout: float = 60,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """``ektp-station ARGS`` (as ``python -m app``), text mode, run in ``cwd`` (the repo)."""
    return _run("app", args, input, timeout, env, cwd)


def run_server(
    *args: str, input: str | None = None, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``ektp-server ARGS`` (as ``python -m server``), text mode."""
    return _run("server", args, input, timeout, env, None)
