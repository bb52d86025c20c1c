"""``ektp-station demo`` as a process: it starts its local server, shows the window, and a
SIGTERM (or Ctrl+C) closes everything it started."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.support.cli import ROOT, env_with_source


def test_demo_command_starts_and_stops_cleanly(tmp_path: Path):
    env = env_with_source({"QT_QPA_PLATFORM": "offscreen"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "app", "--home", str(tmp_path / "home"), "demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        lines: list[str] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if "office web page" in line:
                break
        text = "".join(lines)
        assert "sign in as demo / demo-12345" in text, text
        url = re.search(r"local ektp-server on (http://127\.0\.0\.1:\d+)", text)
        assert url is not None, text
        assert requests.get(url.group(1) + "/api/v1/health", timeout=5).status_code == 200
        # The office page's address and demo account, printed for the newcomer: the address
        # answers with the sign-in page, and the account signs in (issue 13).
        office = re.search(r"office web page: (http://\S+)/ \(sign in as (\S+) / (\S+)\)", text)
        assert office is not None, text
        assert office.group(1) == url.group(1)
        with requests.Session() as browser:
            page = browser.get(office.group(1) + "/", timeout=5)
            assert page.status_code == 200 and "/masuk" in page.url, page.url
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf is not None, page.text
            form = {"username": office.group(2), "password": office.group(3), "csrf": csrf[1]}
            signed = browser.post(office.group(1) + "/masuk", data=form, timeout=5)
            assert signed.status_code == 200 and signed.url.endswith("/cakupan"), signed.url
        assert (tmp_path / "home" / "demo" / "station").is_dir()
        time.sleep(1.0)  # the window is up and its loops are running
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(60) == 0
        try:
            requests.get(url.group(1) + "/api/v1/health", timeout=2)
            server_alive = True
        except requests.RequestException:
            server_alive = False
        assert not server_alive, "the demo server outlived the app"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
