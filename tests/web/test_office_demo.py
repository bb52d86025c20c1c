"""The issue's Done-when with the demo: ``ektp-station demo`` starts its server with the office
page, a demo office account and Gunung Kaler's wajib KTP; signed in with that account, the page
shows Gunung Kaler's coverage move when a record is sealed and synced on the demo station, and
the kit revoked on the page is refused at its next upload."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from app.ui.demo import DEMO_OFFICE, DEMO_USER, DemoRun
from tests.support.cli import run_station
from tests.support.office import person
from tests.support.station import face_jpeg, signature_png
from tests.web.conftest import sign_in


def test_demo_office_sees_gunung_kaler_move_and_revokes_the_kit(
    tmp_path: Path, browser: Any
) -> None:
    run = DemoRun.start(tmp_path, log=False)
    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.set_default_timeout(10_000)
    try:
        station = ["--home", str(run.root / "station")]
        page = sign_in(context, run.url, DEMO_OFFICE)
        page.goto(run.url + "/cakupan?wilayah=36.03.32")
        assert page.locator("[data-figure=wajib_ktp]").inner_text() == "34.262"
        assert page.locator("[data-figure=terekam]").inner_text() == "0"

        photo, sig = tmp_path / "face.jpg", tmp_path / "ttd.png"
        photo.write_bytes(face_jpeg())
        sig.write_bytes(signature_png())

        def enroll(serial: int) -> None:
            bio = tmp_path / f"bio{serial}.json"
            bio.write_text(json.dumps(person(serial)))
            res = run_station(
                *station, "enroll", "--operator", DEMO_USER[0], "--biodata", str(bio),
                "--photo", str(photo), "--signature", str(sig), input=DEMO_USER[1] + "\n",
            )  # fmt: skip
            assert res.returncode == 0, res.stderr

        enroll(1)
        assert run_station(*station, "sync", "--once").returncode == 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            page.reload()
            if page.locator("[data-figure=terekam]").inner_text() == "1":
                break
            time.sleep(0.3)
        assert page.locator("[data-figure=terekam]").inner_text() == "1"
        assert page.locator("[data-figure=sisa]").inner_text() == "34.261"

        # The demo kit, revoked on the page, is refused at its next upload.
        page.goto(run.url + "/kit")
        page.click("text=Kit demo")
        page.check("input[name=confirm]")
        page.click("button.danger")
        page.wait_for_url(re.compile(r".*selesai=cabut$"))
        enroll(2)
        res = run_station(*station, "sync", "--once")
        assert res.returncode == 1, res.stdout + res.stderr
        status = json.loads(run_station(*station, "status", "--json").stdout)
        assert status["records"]["uploaded"] == 1
        assert status["records"].get("rejected", 0) + status["pending"] >= 1
    finally:
        context.close()
        run.stop()
