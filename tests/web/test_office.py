"""The office web page in a real headless Chromium against a real server (``serve --process``):
sign-in, the coverage tree down to a desa, the coverage CSV against ``coverage --json``, a kit
added (its code and QR) and revoked (its next upload refused), and the refusals: no page or CSV
without a session, a viewer's POST, a POST without the CSRF token, a kit's name as text, the
sign-in lock. One browser and one server for the module; each test opens its own context."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import cv2
import numpy as np
import pytest
import requests
from sqlalchemy import select

from server import db
from tests.support.cli import run_server
from tests.support.office import Tables, office_json, person, seal_record
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, add_station
from tests.web.conftest import ADMIN, VIEWER, screenshot_dir, sign_in

PAGES = ["/", "/cakupan", "/cakupan?wilayah=36.03.32", "/kit", "/kit/baru", "/catatan",
         "/laporan", "/unduh"]  # fmt: skip
CSVS = ["/cakupan.csv", "/cakupan.csv?wilayah=36.03.32", "/laporan.csv", "/kit.csv",
        "/kit.csv?dari=2026-01-01"]  # fmt: skip


def _stations(srv: ServerProcess) -> list[dict[str, Any]]:
    """The stations table, read directly (cheaper than a CLI process per check)."""
    tables = Tables(srv.home, None)
    try:
        with tables.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(db.stations)).mappings()]
    finally:
        tables.close()


def _server_cli(srv: ServerProcess, *args: str, input: str | None = None) -> Any:
    return run_server("--home", str(srv.home), *args, input=input)


@pytest.fixture(scope="module")
def recorded(office_server: ServerProcess) -> dict[str, Any]:
    """A Gunung Kaler kit sends 7 residents (5 in desa 2001, 2 in desa 2002), one of them a
    second time (a duplicate) and one without a signature (a re-record); processed."""
    kit = TestStation.enroll(
        office_server, add_station(office_server, name="Gunung Kaler 1", kecamatan="36.03.32")
    )
    packets = [seal_record(kit, person(i)) for i in range(1, 6)]
    packets += [seal_record(kit, person(i, kode_wilayah="36.03.32.2002")) for i in (6, 7)]
    packets.append(seal_record(kit, person(3)))  # the same resident again
    packets.append(seal_record(kit, person(8), with_signature=False))
    for p in packets:
        assert kit.put(p).status_code == 201
    tables = Tables(office_server.home, None)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(tables.fates()) < len(packets):
            time.sleep(0.1)
        assert len(tables.fates()) == len(packets)
        assert tables.terekam() == 7
    finally:
        tables.close()
    return {"kit": kit, "uuids": [p.uuid for p in packets]}


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(
        viewport={"width": 1366, "height": 768}, accept_downloads=True, locale="id-ID"
    )
    ctx.set_default_timeout(10_000)
    yield ctx
    ctx.close()


def _figure(page: Any, name: str) -> str:
    return str(page.locator(f"[data-figure={name}]").inner_text())


def test_no_page_or_csv_without_a_session(office_server: ServerProcess, context: Any) -> None:
    for path in PAGES + CSVS:
        resp = requests.get(office_server.url + path, allow_redirects=False, timeout=10)
        assert resp.status_code == 303, path
        assert resp.headers["location"].startswith("/masuk?next="), path
        assert "34" not in resp.text
    # In the browser: a bookmark of a deep page lands on the sign-in form, then back on it.
    page = context.new_page()
    page.goto(office_server.url + "/cakupan?wilayah=36.03.32")
    assert "/masuk" in page.url
    page.fill("input[name=username]", ADMIN[0])
    page.fill("input[name=password]", ADMIN[1])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/cakupan\?wilayah=36\.03\.32$"))
    assert _figure(page, "wajib_ktp") == "34.262"
    # After signing in, only a path of this site: never another host (an open redirect).
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        with requests.Session() as anon:
            form = anon.get(office_server.url + "/masuk", timeout=10).text
            token = re.search(r'name="csrf" value="([^"]+)"', form)
            assert token is not None
            resp = anon.post(
                office_server.url + "/masuk",
                data={"csrf": token.group(1), "username": ADMIN[0], "password": ADMIN[1],
                      "next": evil},
                allow_redirects=False,
                timeout=10,
            )  # fmt: skip
            assert resp.status_code == 303 and resp.headers["location"] == "/cakupan", evil
    # The station API keeps its JSON errors beside the page.
    resp = requests.get(office_server.url + "/api/v1/nothing", timeout=10)
    assert resp.status_code == 404 and resp.json()["error"] == "not_found"


def test_session_cookie_is_httponly_and_samesite(
    office_server: ServerProcess, context: Any
) -> None:
    sign_in(context, office_server.url, VIEWER)
    (cookie,) = [c for c in context.cookies() if c["name"] == "ektp_office"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    page = context.new_page()
    page.goto(office_server.url + "/cakupan")
    assert page.evaluate("document.cookie") == ""  # no script can read the session


def test_coverage_tree_down_to_a_desa(
    office_server: ServerProcess, recorded: dict[str, Any], context: Any
) -> None:
    page = sign_in(context, office_server.url, VIEWER)
    assert _figure(page, "terekam") == "7"  # the country
    page.click("text=Banten")
    page.click("text=Kabupaten Tangerang")
    page.click("tr[data-kode='36.03.32'] a")
    page.wait_for_url(re.compile(r".*wilayah=36\.03\.32$"))
    # 34,262 wajib KTP, 7 recorded, 34,255 left: in Indonesian figures.
    assert _figure(page, "wajib_ktp") == "34.262"
    assert _figure(page, "target") == "30.000"
    assert _figure(page, "terekam") == "7"
    assert _figure(page, "sisa") == "34.255"
    assert _figure(page, "persen") == "0,02 %"
    assert _figure(page, "duplicate") == "1"
    assert _figure(page, "rerecord") == "1"
    row = page.locator("tr[data-kode='36.03.32.2001'] td")
    assert row.nth(4).inner_text() == "5"  # terekam
    assert row.nth(8).inner_text() == "1"  # the duplicate: person 3, of desa 2001
    assert page.locator("tr[data-kode='36.03.32.2002'] td").nth(4).inner_text() == "2"
    # Today's bar of the 30-day chart holds the 7 recorded and the 9 received.
    bars = page.locator("svg.chart rect.processed")
    assert bars.count() == 30
    assert bars.nth(29).get_attribute("data-value") == "7"
    assert page.locator("svg.chart rect.received").nth(29).get_attribute("data-value") == "9"
    page.click("tr[data-kode='36.03.32.2002'] a")
    page.wait_for_url(re.compile(r".*wilayah=36\.03\.32\.2002$"))
    assert page.locator("h1").inner_text().startswith("Cakupan: Sidoko")
    assert _figure(page, "terekam") == "2"
    # English on request.
    page.click("text=English")
    assert page.locator("h1").inner_text().startswith("Coverage: Sidoko")
    page.click("text=Bahasa Indonesia")


def test_coverage_csv_matches_the_cli(
    office_server: ServerProcess, recorded: dict[str, Any], context: Any
) -> None:
    page = sign_in(context, office_server.url, VIEWER)
    page.goto(office_server.url + "/cakupan?wilayah=36.03.32")
    with page.expect_download() as info:
        page.click("text=Unduh CSV")
    path = info.value.path()
    rows = list(csv.DictReader(io.StringIO(open(path, encoding="utf-8").read())))
    doc = office_json(office_server.home, None, "coverage", "--json", "--wilayah", "36.03.32")
    expected = [doc["wilayah"], *doc["areas"]]
    assert [r["kode"] for r in rows] == [f["kode"] for f in expected]
    for row, fig in zip(rows, expected, strict=True):
        for key in ("wajib_ktp", "target", "terekam", "sisa", "persen"):
            want = "" if fig[key] is None else str(fig[key])
            assert row[key] == want, (fig["kode"], key)
    assert rows[0]["terekam"] == "7" and rows[0]["wajib_ktp"] == "34262"
    # A kabupaten's CSV holds its kecamatan and their desa, and agrees with the CLI too.
    kab = requests.get(
        office_server.url + "/cakupan.csv?wilayah=36.03",
        cookies={c["name"]: c["value"] for c in context.cookies()},
        timeout=30,
    )
    assert kab.status_code == 200 and kab.headers["content-type"].startswith("text/csv")
    kab_rows = {r["kode"]: r for r in csv.DictReader(io.StringIO(kab.text))}
    kab_doc = office_json(office_server.home, None, "coverage", "--json", "--wilayah", "36.03")
    for fig in kab_doc["areas"]:
        assert kab_rows[fig["kode"]]["terekam"] == str(fig["terekam"])
    assert kab_rows["36.03.32.2002"]["tingkat"] == "desa"


def test_add_a_kit_see_its_code_and_revoke_it(
    office_server: ServerProcess, recorded: dict[str, Any], context: Any
) -> None:
    page = sign_in(context, office_server.url, ADMIN)
    page.click("text=Kit")
    page.click("text=Tambah kit")
    page.fill("input[name=name]", "Kronjo pinjaman")
    page.fill("input[name=kecamatan]", "36.03.32")
    page.click("main button[type=submit]")
    code = page.locator("#one-time-code").inner_text().strip()
    assert re.fullmatch(r"[A-Z0-9]{4}(-[A-Z0-9]{4}){3}", code), code
    # The QR code, as the technician's phone sees it on the screen, reads back as the code.
    shot = page.locator(".qr").screenshot()
    image = cv2.imdecode(np.frombuffer(shot, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert cv2.QRCodeDetector().detectAndDecode(image)[0] == code
    # The technician provisions the kit with that code; it uploads.
    kit = TestStation.enroll(office_server, code)
    assert kit.put(seal_record(kit, person(20))).status_code == 201
    # Revoked on the page as stolen, with a note ...
    page.click("text=Ke halaman kit")
    page.check("input[name=stolen]")
    page.fill("input[name=note]", "dicuri dari kantor kecamatan")
    page.check("input[name=confirm]")
    page.click("button.danger")
    page.wait_for_url(re.compile(r".*selesai=cabut$"))
    assert page.locator("[data-state]").get_attribute("data-state") == "revoked"
    audit = page.locator("table.audit").inner_text()
    assert "kit_stolen" in audit and ADMIN[0] in audit and "dicuri dari kantor" in audit
    # ... and refused at its next upload.
    refused = kit.put(seal_record(kit, person(21)))
    assert refused.status_code == 403, refused.text
    (st,) = [s for s in _stations(office_server) if s["id"] == kit.station_id]
    assert st["revoked_at"] is not None
    # The kit list shows it red, revoked.
    page.goto(office_server.url + "/kit")
    row = page.locator(f"tr[data-station='{kit.station_id}']")
    assert row.locator(".light.red").count() == 1
    assert "dicabut" in row.inner_text()
    with page.expect_download() as info:
        page.click("text=Unduh CSV")
    listed = {r["station_id"]: r for r in csv.DictReader(open(info.value.path(), encoding="utf-8"))}
    assert listed[kit.station_id]["status"] == "revoked"
    assert listed[kit.station_id]["peringatan"] == "revoked"
    assert listed[kit.station_id]["versi"] == ""  # not reported yet (issue 12)
    assert listed[recorded["kit"].station_id]["diterima_hari_ini"] == "9"


def test_assign_a_kit_to_another_kecamatan(
    office_server: ServerProcess, recorded: dict[str, Any], context: Any
) -> None:
    kit: TestStation = recorded["kit"]
    page = sign_in(context, office_server.url, ADMIN)
    page.goto(office_server.url + f"/kit/{kit.station_id}")
    page.fill("input[name=kecamatan]", "36.03.07")
    page.click("text=Tugaskan >> nth=-1")
    page.wait_for_url(re.compile(r".*selesai=tugaskan$"))
    assert "Kronjo" in page.locator("dl.facts").inner_text()
    history = page.locator("table.history tbody tr")
    assert "penugasan pertama" in history.nth(0).inner_text()
    move = history.nth(1).locator("td")
    assert move.nth(2).inner_text() == "Gunung Kaler 36.03.32 → Kronjo"
    assert move.nth(3).inner_text() == ADMIN[0]  # who moved it, from the office audit
    # Its records by fate, and the recent fates with the re-record and the duplicate.
    assert page.locator("[data-total=received]").inner_text() == "9"
    assert page.locator("[data-total=processed]").inner_text() == "7"
    fates = page.locator("table.fates").inner_text()
    assert "signature_missing" in fates and "ganda dari" in fates
    # This kit has uploaded no audit of its own (a bare test identity): said, not invented.
    assert page.locator("[data-kit-audit=none]").count() == 1
    assert "36.03.32 -> 36.03.07" in page.locator("table.audit").inner_text()
    # A kecamatan that does not exist: refused, named, nothing changed.
    page.fill("input[name=kecamatan]", "99.99.99")
    page.click("text=Tugaskan >> nth=-1")
    assert "kecamatan" in page.locator(".alert").inner_text()
    (st,) = [s for s in _stations(office_server) if s["id"] == kit.station_id]
    assert st["kecamatan"] == "36.03.07"


def test_a_kit_named_like_a_script_is_shown_as_text(
    office_server: ServerProcess, context: Any
) -> None:
    name = "<script>alert(1)</script>"
    page = sign_in(context, office_server.url, ADMIN)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(office_server.url + "/kit/baru")
    page.fill("input[name=name]", name)
    page.fill("input[name=kecamatan]", "36.03.32")
    page.click("main button[type=submit]")
    assert name in page.locator("h1").inner_text()
    page.goto(office_server.url + "/kit")
    assert page.locator("table.kits a", has_text=name).count() == 1
    assert page.locator("table.kits script").count() == 0
    assert dialogs == []


def test_a_viewer_cannot_act(office_server: ServerProcess, context: Any) -> None:
    page = sign_in(context, office_server.url, VIEWER)
    page.goto(office_server.url + "/kit")
    assert page.locator("text=Tambah kit").count() == 0
    before = _stations(office_server)
    # The form's POST with the viewer's own session and CSRF token: refused.
    csrf = page.locator("header input[name=csrf]").get_attribute("value")
    resp = page.request.post(
        office_server.url + "/kit/baru",
        form={"csrf": csrf, "name": "Kit liar", "kecamatan": "36.03.32"},
    )
    assert resp.status == 403
    assert "viewer" in resp.text()
    first = before[0]["id"]
    for path, form in (
        (f"/kit/{first}/cabut", {"csrf": csrf, "confirm": "ya"}),
        (f"/kit/{first}/tugaskan", {"csrf": csrf, "kecamatan": "36.03.31"}),
    ):
        assert page.request.post(office_server.url + path, form=form).status == 403
    assert _stations(office_server) == before
    assert page.goto(office_server.url + "/kit/baru").status == 403


def test_a_post_without_the_csrf_token_is_refused(
    office_server: ServerProcess, context: Any
) -> None:
    page = sign_in(context, office_server.url, ADMIN)
    before = _stations(office_server)
    for form in ({"name": "Kit X", "kecamatan": "36.03.32"},
                 {"csrf": "wrong", "name": "Kit X", "kecamatan": "36.03.32"}):  # fmt: skip
        resp = page.request.post(office_server.url + "/kit/baru", form=form)
        assert resp.status == 403
    assert _stations(office_server) == before
    # Signing out needs it too; the sign-in form has its own.
    assert page.request.post(office_server.url + "/keluar", form={}).status == 403
    anon = requests.post(
        office_server.url + "/masuk",
        data={"username": ADMIN[0], "password": ADMIN[1]},
        allow_redirects=False,
        timeout=10,
    )
    assert anon.status_code == 403 and "ektp_office" not in anon.cookies


def test_sign_in_is_slowed_then_locked(office_server: ServerProcess, context: Any) -> None:
    name, password = "operator-lama", "rahasia-lama-123"
    res = _server_cli(
        office_server, "admin", "add", "--username", name, "--role", "viewer",
        input=password + "\n",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    page = context.new_page()
    took = []
    for _ in range(5):
        page.goto(office_server.url + "/masuk")
        page.fill("input[name=username]", name)
        page.fill("input[name=password]", "tebakan-salah")
        start = time.monotonic()
        page.click("button[type=submit]")
        page.wait_for_selector(".alert")
        took.append(time.monotonic() - start)
    assert took[3] >= 0.9  # the 4th failure waits 4 x 0.25 s
    assert "dikunci" in page.locator(".alert").inner_text()
    # Locked: the right password is refused too.
    page.goto(office_server.url + "/masuk")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector(".alert")
    assert "/masuk" in page.url and "dikunci" in page.locator(".alert").inner_text()


def test_admin_cli_and_a_disabled_account(office_server: ServerProcess, context: Any) -> None:
    bad = [
        (["--username", "x", "--role", "admin"], "rahasia-panjang-1", "--username"),
        (["--username", "budi", "--role", "root"], "rahasia-panjang-1", "--role"),
        (["--username", "budi", "--role", "admin"], "pendek", "password"),
        (["--username", ADMIN[0], "--role", "admin"], "rahasia-panjang-1", "exists"),
    ]
    for args, password, field in bad:
        res = _server_cli(office_server, "admin", "add", *args, input=password + "\n")
        assert res.returncode == 2, res
        assert field in res.stderr and len(res.stderr.strip().splitlines()) == 1
    res = _server_cli(office_server, "admin", "disable", "nobody")
    assert res.returncode == 2 and "USERNAME" in res.stderr
    name, password = "staf-sementara", "rahasia-staf-123"
    res = _server_cli(
        office_server, "admin", "add", "--username", name, "--role", "viewer",
        input=password + "\n",
    )  # fmt: skip
    assert res.returncode == 0
    page = sign_in(context, office_server.url, (name, password))
    listed = json.loads(_server_cli(office_server, "admin", "list", "--json").stdout)
    assert {a["username"]: a["role"] for a in listed["accounts"]}[name] == "viewer"
    assert all("password" not in json.dumps(a) for a in listed["accounts"])
    assert _server_cli(office_server, "admin", "disable", name).returncode == 0
    page.goto(office_server.url + "/cakupan")  # the session ended with the account
    assert "/masuk" in page.url


def test_rerecord_and_duplicate_lists_and_the_daily_report(
    office_server: ServerProcess, recorded: dict[str, Any], context: Any
) -> None:
    page = sign_in(context, office_server.url, VIEWER)
    page.click("text=Rekam ulang / Ganda")
    table = page.locator("table.fates").inner_text()
    assert "signature_missing" in table and recorded["uuids"][-1] in table
    page.click(".tabs >> text=Ganda")
    table = page.locator("table.fates").inner_text()
    assert recorded["uuids"][7] in table and recorded["uuids"][2] in table  # dup and original
    page.fill("input[name=wilayah]", "36.03.32.2002")
    page.click("text=Saring")
    assert "Tidak ada" in page.locator("table.fates").inner_text()
    page.click("text=Laporan harian")
    assert "Gunung Kaler 1" in page.locator("body").inner_text()
    with page.expect_download() as info:
        page.click("text=Unduh CSV")
    text = open(info.value.path(), encoding="utf-8").read()
    assert text.splitlines()[0] == "date,per,kode,received,processed,duplicate,rerecord,rejected"
    total = [r for r in csv.reader(io.StringIO(text)) if r[1] == "total"][0]
    assert int(total[3]) >= 9 and int(total[5]) == 1 and int(total[6]) == 1


def test_downloads_with_a_date_filter(
    office_server: ServerProcess, recorded: dict[str, Any], context: Any
) -> None:
    """Unduh: the coverage and Kit CSVs for a period (WIB days received); a bad period is
    refused on the page, naming the field, and nothing is downloaded."""
    page = sign_in(context, office_server.url, VIEWER)
    page.click("header >> text=Unduh")
    today = str(page.locator("#unduh-cakupan input[name=sampai]").get_attribute("max"))
    yesterday = (date.fromisoformat(today) - timedelta(days=1)).isoformat()

    def download(form: str, **fields: str) -> list[dict[str, str]]:
        page.goto(office_server.url + "/unduh")
        for name, value in fields.items():
            page.fill(f"#{form} input[name={name}]", value)
        with page.expect_download() as info:
            page.click(f"#{form} button[type=submit]")
        return list(csv.DictReader(open(info.value.path(), encoding="utf-8")))

    # Today: the figures of coverage --json, and the period's own beside them.
    rows = download("unduh-cakupan", wilayah="36.03.32", dari=today, sampai=today)
    doc = office_json(office_server.home, None, "coverage", "--json", "--wilayah", "36.03.32")
    expected = {f["kode"]: f for f in [doc["wilayah"], *doc["areas"]]}
    assert [r["kode"] for r in rows] == list(expected)
    for r in rows:
        fig = expected[r["kode"]]
        assert (r["terekam"], r["sisa"]) == (str(fig["terekam"]), "" if fig["sisa"] is None
                                             else str(fig["sisa"]))  # fmt: skip
        assert r["terekam_periode"] == r["terekam"]  # every record arrived today
        assert (r["dari"], r["sampai"]) == (today, today)
    assert int(rows[0]["diterima_periode"]) >= 9 and rows[0]["ganda_periode"] == "1"
    # Up to yesterday nothing was recorded yet: 34,262 left.
    rows = download("unduh-cakupan", wilayah="36.03.32", sampai=yesterday)
    assert (rows[0]["terekam"], rows[0]["sisa"], rows[0]["diterima_periode"]) == (
        "0", "34262", "0")  # fmt: skip
    assert rows[0]["dari"] == ""
    # The Kit list for today: each kit's packets of the period, by fate.
    kit = recorded["kit"].station_id
    kits = {r["station_id"]: r for r in download("unduh-kit", dari=today)}
    assert kits[kit]["diterima_periode"] == kits[kit]["diterima_hari_ini"] == "9"
    assert (kits[kit]["terekam_periode"], kits[kit]["rekam_ulang_periode"]) == ("7", "1")
    # From after To: refused on the page, the field named, no file.
    page.goto(office_server.url + "/unduh")
    page.fill("#unduh-kit input[name=dari]", today)
    page.fill("#unduh-kit input[name=sampai]", yesterday)
    with page.expect_response(lambda r: "/kit.csv" in r.url) as answer:
        page.click("#unduh-kit button[type=submit]")
    assert answer.value.status == 400
    assert page.locator(".alert").inner_text() == f"Dari ({today}) sesudah Sampai ({yesterday})."
    assert page.locator("#unduh-kit input[name=dari]").input_value() == today
    # Not a date (typed into the address bar): the same, in one line.
    cookies = {c["name"]: c["value"] for c in context.cookies()}
    bad = requests.get(office_server.url + "/cakupan.csv?sampai=7-12-2026", cookies=cookies,
                       timeout=10)  # fmt: skip
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("text/html")
    assert "Sampai: bukan tanggal (YYYY-MM-DD): 7-12-2026" in bad.text


def test_screenshots_of_each_page(
    office_server: ServerProcess, recorded: dict[str, Any], context: Any
) -> None:
    """Each page at 1366x768 renders (and, with EKTP_OFFICE_SCREENSHOTS=1, is saved to
    docs/screenshots/office-*.png for the README)."""
    out = screenshot_dir()
    signin = context.new_page()
    signin.goto(office_server.url + "/masuk")
    shots = [("office-01-masuk", signin)]
    page = sign_in(context, office_server.url, ADMIN)
    kit: TestStation = recorded["kit"]
    for name, path in (
        ("office-02-cakupan", "/cakupan?wilayah=36.03.32"),
        ("office-03-kit", "/kit"),
        ("office-04-kit-detail", f"/kit/{kit.station_id}"),
        ("office-06-ganda", "/catatan?jenis=duplicate"),
        ("office-07-laporan", "/laporan"),
        ("office-08-unduh", "/unduh"),
    ):
        p = context.new_page()
        assert p.goto(office_server.url + path).status == 200
        shots.append((name, p))
    page.goto(office_server.url + "/kit/baru")
    page.fill("input[name=name]", "Gunung Kaler 2")
    page.fill("input[name=kecamatan]", "36.03.32")
    page.click("main button[type=submit]")
    shots.append(("office-05-kit-kode", page))
    for name, p in shots:
        png = p.screenshot(full_page=False)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        if out is not None:
            (out / f"{name}.png").write_bytes(png)
