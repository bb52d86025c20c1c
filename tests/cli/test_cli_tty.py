"""Passwords typed at a real terminal (a pty) are not echoed; piped ones work as before."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

from app.store.db import open_store
from app.store.operators import add_operator, verify_password
from tests.support.cli import ROOT, env_with_source
from tests.support.station import make_station


def _typed_at_a_terminal(args: list[str], lines: list[str]) -> tuple[int, str, str]:
    """Run ``python -m app ARGS`` with a pty as stdin and type ``lines`` the way a person
    does: each once the program asked for it (its n-th "Password" prompt, echo off), or
    after a deadline if it never asks. Returns (exit code, what the terminal showed, stderr).
    """
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", *args],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env_with_source(),
        cwd=ROOT,
        start_new_session=True,  # no controlling terminal: the pty on stdin is the one
    )
    os.close(slave)
    assert proc.stderr is not None
    err_fd = proc.stderr.fileno()
    os.set_blocking(err_fd, False)
    shown = err = b""

    def collect(seconds: float) -> None:
        nonlocal shown, err
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([master, err_fd], [], [], 0.02)
            for fd in ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:  # EIO: the program closed the terminal (it ended)
                    chunk = b""
                if fd == master:
                    shown += chunk
                else:
                    err += chunk

    try:
        for n, line in enumerate(lines, 1):
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and not (
                err.count(b"Password") >= n and not termios.tcgetattr(master)[3] & termios.ECHO
            ):
                collect(0.02)
            os.write(master, line.encode() + b"\n")
            collect(0.3)  # an echo (if any) comes as the line is typed
        out, rest = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return proc.returncode, shown.decode(errors="replace") + out.decode(), (err + rest).decode()


def test_operator_password_typed_at_a_terminal_is_not_shown(tmp_path: Path) -> None:
    home = tmp_path / "home"
    secret = "tidak-terlihat-42"
    code, shown, err = _typed_at_a_terminal(
        ["--home", str(home), "operator", "add", "--username", "budi", "--role", "operator"],
        [secret],
    )
    assert code == 0, err
    assert secret not in shown and secret not in err, shown + err
    with open_store(home) as store:
        assert verify_password(store, "budi", secret).username == "budi"


def test_assign_passwords_typed_at_a_terminal_are_not_shown(tmp_path: Path) -> None:
    st = make_station(tmp_path, operator="andi", role="technician", password="andi-rahasia-1")
    with st.open() as store:
        add_operator(store, "rina", "supervisor", "rina-rahasia-2")
    code, shown, err = _typed_at_a_terminal(
        ["--home", str(st.home), "assign", "--kecamatan", "36.03.07", "--technician", "andi",
         "--supervisor", "rina", "--reason", "dipinjam"],
        ["andi-rahasia-1", "rina-rahasia-2"],
    )  # fmt: skip
    assert code == 0, err
    assert "36.03.32 -> 36.03.07" in shown
    for secret in ("andi-rahasia-1", "rina-rahasia-2"):
        assert secret not in shown and secret not in err, shown + err
