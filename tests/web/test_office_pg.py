"""The office page on PostgreSQL: the same pages, CSVs, sign-in lock and kit actions run their
queries against a real PostgreSQL (the production database), in the browser."""

from __future__ import annotations

import csv
import io
import re
import time
from typing import Any

import pytest
import requests

from tests.support.office import Tables, office, office_json, person, seal_record
from tests.support.server import PostgresCluster, ServerProcess
from tests.support.server_fixtures import TestStation, add_station
from tests.web.conftest import ADMIN, add_account, sign_in

pytestmark = pytest.mark.postgres


def test_office_page_on_postgresql(
    tmp_path: Any, pg_cluster: PostgresCluster, browser: Any
) -> None:
    url = pg_cluster.create_database()
    srv = ServerProcess(tmp_path / "server", url, extra=["--process"]).start()
    context = browser.new_context(viewport={"width": 1366, "height": 768}, accept_downloads=True)
    context.set_default_timeout(10_000)
    try:
        targets = tmp_path / "t.csv"
        targets.write_text("kode_wilayah,wajib_ktp\n36.03.32,34262\n")

        assert office(srv.home, url, "targets", "import", str(targets)).returncode == 0
        add_account(srv, ADMIN[0], "admin", ADMIN[1])
        kit = TestStation.enroll(srv, add_station(srv, name="GK PG", kecamatan="36.03.32"))
        for p in [seal_record(kit, person(i)) for i in (1, 2, 3)] + [seal_record(kit, person(1))]:
            assert kit.put(p).status_code == 201
        tables = Tables(srv.home, url)
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and len(tables.fates()) < 4:
                time.sleep(0.1)
        finally:
            tables.close()

        page = sign_in(context, srv.url, ADMIN)
        page.goto(srv.url + "/cakupan?wilayah=36.03.32")
        assert page.locator("[data-figure=terekam]").inner_text() == "3"
        assert page.locator("[data-figure=duplicate]").inner_text() == "1"
        assert page.locator("svg.chart rect.processed").nth(29).get_attribute("data-value") == "3"
        with page.expect_download() as info:
            page.click("text=Unduh CSV")
        rows = list(csv.DictReader(open(info.value.path(), encoding="utf-8")))
        doc = office_json(srv.home, url, "coverage", "--json", "--wilayah", "36.03.32")
        assert [(r["kode"], r["terekam"], r["sisa"]) for r in rows] == [
            (f["kode"], str(f["terekam"]), "" if f["sisa"] is None else str(f["sisa"]))
            for f in [doc["wilayah"], *doc["areas"]]
        ]
        for path in ("/kit", f"/kit/{kit.station_id}", "/catatan?jenis=duplicate", "/laporan"):
            assert page.goto(srv.url + path).status == 200, path
        cookies = {c["name"]: c["value"] for c in context.cookies()}
        kits = requests.get(srv.url + "/kit.csv", cookies=cookies, timeout=10)
        assert kit.station_id in kits.text
        recap = requests.get(srv.url + "/laporan.csv", cookies=cookies, timeout=10)
        total = [r for r in csv.reader(io.StringIO(recap.text)) if r[1] == "total"][0]
        assert total[3:6] == ["4", "3", "1"]

        page.goto(srv.url + f"/kit/{kit.station_id}")
        page.fill("input[name=kecamatan]", "36.03.07")
        page.click("text=Tugaskan >> nth=-1")
        page.wait_for_url(re.compile(r".*selesai=tugaskan$"))
        page.check("input[name=stolen]")
        page.fill("input[name=since]", "2026-01-01T08:00")
        page.check("input[name=confirm]")
        page.click("button.danger")
        page.wait_for_url(re.compile(r".*selesai=cabut$"))
        assert "kit_stolen" in page.locator("table.audit").inner_text()
        assert kit.put(seal_record(kit, person(9))).status_code == 403

        # Sign-in failures counted in PostgreSQL: the 5th locks the name.
        anon = context.browser.new_context()
        try:
            p2 = anon.new_page()
            for _ in range(5):
                p2.goto(srv.url + "/masuk")
                p2.fill("input[name=username]", ADMIN[0])
                p2.fill("input[name=password]", "salah-salah-salah")
                p2.click("button[type=submit]")
                p2.wait_for_selector(".alert")
            assert "dikunci" in p2.locator(".alert").inner_text()
        finally:
            anon.close()
    finally:
        context.close()
        srv.stop()
