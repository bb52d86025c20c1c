"""The office web page's fixtures: one real server (``serve --process``) and one headless
Chromium (Debian's, driven by Playwright) per test module, shared by its tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_server
from tests.support.components import require_chromium
from tests.support.office import office
from tests.support.server import ServerProcess

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ADMIN = ("kasi-pdip", "rahasia-kasi-123")
VIEWER = ("camat-gk", "rahasia-camat-123")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


def add_account(srv: ServerProcess, username: str, role: str, password: str) -> None:
    args = ["--home", str(srv.home), *(["--db", srv.db_url] if srv.db_url else [])]
    done = run_server(
        *args, "admin", "add", "--username", username, "--role", role, input=password + "\n"
    )
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def office_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A central server with the back office running, Gunung Kaler's wajib KTP (34,262) and
    two office accounts (an admin, a viewer)."""
    tmp = tmp_path_factory.mktemp("office")
    srv = ServerProcess(tmp / "server", None, extra=["--process"]).start()
    try:
        targets = tmp / "wajib_ktp.csv"
        targets.write_text("kode_wilayah,wajib_ktp,target\n36.03.32,34262,30000\n36.72.04,12000,\n")
        res = office(srv.home, None, "targets", "import", str(targets), "--by", "test")
        assert res.returncode == 0, res.stderr
        add_account(srv, ADMIN[0], "admin", ADMIN[1])
        add_account(srv, VIEWER[0], "viewer", VIEWER[1])
        yield srv
    finally:
        srv.stop()


def sign_in(context: Any, base: str, who: tuple[str, str]) -> Any:
    """A page of ``context`` signed in as ``who`` through the sign-in form."""
    page = context.new_page()
    page.goto(base + "/masuk")
    page.fill("input[name=username]", who[0])
    page.fill("input[name=password]", who[1])
    page.click("button[type=submit]")
    page.wait_for_url(base + "/cakupan")
    return page


def screenshot_dir() -> Path | None:
    """Where screenshots go: docs/screenshots when EKTP_OFFICE_SCREENSHOTS=1, else none."""
    if os.environ.get("EKTP_OFFICE_SCREENSHOTS") == "1":
        return Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    return None
