"""The kit detail page's "Audit kit" in a real headless Chromium: a real station program,
provisioned against a real server (``serve --process``), moved to another kecamatan on the kit
with a supervisor's approval and synced; the page then shows the kit's own audit events as the
kit uploaded them (issue 12's ``kit_audit``), the move with who approved it, and the move in
the assignment history. A kit that has uploaded nothing is said to have reported nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import app
from app.store.db import open_store
from app.store.operators import add_operator
from tests.support.cli import run_station
from tests.support.server import ServerProcess
from tests.support.server_fixtures import add_station, server_cli
from tests.web.conftest import VIEWER, sign_in

KRONJO = "36.03.07"


def test_kit_detail_shows_the_audit_the_kit_uploaded(
    office_server: ServerProcess, browser: Any, tmp_path: Path
) -> None:
    home = tmp_path / "kit"

    def station(*args: str, input: str | None = None) -> Any:
        return run_station("--home", str(home), *args, input=input, timeout=120)

    code = add_station(office_server, name="Kit audit", kecamatan="36.03.32")
    res = station("provision", "--server", office_server.url, "--code", code)
    assert res.returncode == 0, res.stderr
    station_id = res.stdout.strip().splitlines()[-1]
    silent = add_station(office_server, name="Kit belum aktif", kecamatan="36.03.32")
    assert silent

    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.set_default_timeout(10_000)
    try:
        page = sign_in(context, office_server.url, VIEWER)
        # Provisioned, but the kit has not synced yet: no audit held, and the page says so.
        page.goto(office_server.url + f"/kit/{station_id}")
        assert page.locator("[data-kit-audit=none]").count() == 1
        assert page.locator("table.kit-audit").count() == 0

        # On the kit: a technician moves it to Kronjo with a supervisor's approval, then it syncs.
        with open_store(home) as store:
            add_operator(store, "andi", "technician", "andi-password")
            add_operator(store, "rina", "supervisor", "rina-password")
        res = station(
            "assign", "--kecamatan", KRONJO, "--technician", "andi", "--supervisor", "rina",
            "--reason", "dipinjam Kronjo", input="andi-password\nrina-password\n",
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        res = station("sync", "--once")
        assert res.returncode == 0, res.stdout + res.stderr

        page.reload()
        assert page.locator("[data-kit-audit=none]").count() == 0
        rows = page.locator("table.kit-audit tbody tr")
        texts = [rows.nth(i).inner_text() for i in range(rows.count())]
        assert any("station.initialized" in t for t in texts), texts
        (moved,) = [t for t in texts if "station.assigned" in t and KRONJO in t]
        cells = [c.strip() for c in moved.split("\t")]
        assert cells[1:4] == ["andi", "station.assigned", "rina"], cells
        assert "from: 36.03.32" in cells[4] and "reason: dipinjam Kronjo" in cells[4]
        # Newest first: the move comes before the kit's set-up.
        assert texts.index(moved) < next(
            i for i, t in enumerate(texts) if "station.initialized" in t
        )
        # As many events as the centre holds for the kit (`ektp-server audit`).
        held = server_cli(office_server, "audit", "--station", station_id, "--json")
        assert held.returncode == 0, held.stderr
        assert rows.count() == json.loads(held.stdout)["count"] > 1

        # The assignment history names who moved the kit and who approved the move.
        history = page.locator("table.history tbody tr")
        move = history.nth(history.count() - 1).locator("td")
        assert "Kronjo" in move.nth(1).inner_text()
        assert move.nth(3).inner_text().strip() == "andi (disetujui rina)"

        # The Kit list shows the health the kit reported with its pull (issue 12): its program
        # version and nothing pending; the kit that never synced reports nothing.
        page.goto(office_server.url + "/kit")
        cells = page.locator(f"tr[data-station='{station_id}'] td")
        assert cells.nth(7).inner_text() == app.__version__
        assert cells.nth(8).inner_text() == "0"
        assert "belum dilaporkan" not in cells.nth(11).inner_text()  # disk free
        never = page.locator("tr", has_text="Kit belum aktif").locator("td")
        assert never.nth(7).inner_text() == "belum dilaporkan"

        # A kit that never synced: nothing reported, nothing invented.
        page.click("text=Kit belum aktif")
        assert page.locator("[data-kit-audit=none]").count() == 1
    finally:
        context.close()
