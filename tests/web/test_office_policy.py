"""The kit page's central policy in a real headless Chromium against a real server (``serve
--process``) and a real station program provisioned against it: the page shows each key's
value in force and where it comes from; an admin sets a key for the kit and another for its
kecamatan, and the kit, at its next sync, reports both as central (``status --json``); unset
on the page, the kit's own default returns. Bad input is answered on the page naming the field
and writes nothing; a viewer, or a POST without the CSRF token, changes nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from tests.support.cli import run_station
from tests.support.server import ServerProcess
from tests.support.server_fixtures import add_station, server_cli
from tests.web.conftest import ADMIN, VIEWER, sign_in


def _values_set(srv: ServerProcess) -> list[dict[str, Any]]:
    res = server_cli(srv, "policy", "show", "--json")
    assert res.returncode == 0, res.stderr
    return list(json.loads(res.stdout)["values"])


def _row(page: Any, key: str) -> Any:
    return page.locator(f"table.policy tr[data-policy-key={key}]")


def _submit(page: Any, key: str, value: str, scope: str, action: str) -> Any:
    """Fill the policy form and press Set or Unset; the response of the POST."""
    page.select_option("select[name=key]", key)
    page.fill("input[name=value]", value)
    page.select_option("select[name=scope]", scope)
    with page.expect_response(lambda r: r.url.endswith("/kebijakan")) as info:
        page.click(f"button[name=action][value={action}]")
    page.wait_for_load_state()
    return info.value


def test_policy_set_on_the_kit_page_reaches_the_kit(
    office_server: ServerProcess, browser: Any, tmp_path: Path
) -> None:
    home = tmp_path / "kit"

    def station(*args: str) -> Any:
        res = run_station("--home", str(home), *args, timeout=120)
        assert res.returncode == 0, res.stdout + res.stderr
        return res

    def kit_policy() -> dict[str, Any]:
        return dict(json.loads(station("status", "--json").stdout)["policy"])

    code = add_station(office_server, name="Kit kebijakan", kecamatan="36.03.32")
    res = station("provision", "--server", office_server.url, "--code", code)
    station_id = res.stdout.strip().splitlines()[-1]
    assert kit_policy()["backlog_max_unsent"] == {"value": 2000, "source": "default"}

    context = browser.new_context(viewport={"width": 1366, "height": 768})
    context.set_default_timeout(10_000)
    try:
        page = sign_in(context, office_server.url, ADMIN)
        page.goto(office_server.url + f"/kit/{station_id}")
        # Nothing set yet: every key is the kit's own, its default shown.
        rows = page.locator("table.policy tbody tr")
        assert rows.count() == 6
        assert page.locator("table.policy tr[data-source=central]").count() == 0
        assert _row(page, "backlog_max_unsent").locator("[data-value]").inner_text() == "2000"

        # A value out of range: answered on the page naming the field, nothing written.
        resp = _submit(page, "backlog_max_unsent", "0", "kit", "set")
        assert resp.status == 400
        error = page.locator("[data-error]").inner_text()
        assert error.startswith("Nilai:") and "backlog_max_unsent" in error, error
        assert "1 sampai 100000" in error
        assert page.input_value("input[name=value]") == "0"  # the form keeps what was typed
        csrf = page.locator("form[action$=kebijakan] input[name=csrf]").get_attribute("value")
        for form, field in (
            ({"key": "tidak_ada", "value": "1", "scope": "kit", "action": "set"}, "Kunci:"),
            ({"key": "retention_days", "value": "7", "scope": "desa", "action": "set"}, "Untuk:"),
            ({"key": "mirror_policy", "value": "maybe", "scope": "kit", "action": "set"}, "Nilai:"),
            ({"key": "retention_days", "value": "", "scope": "kit", "action": "unset"}, "Kunci:"),
        ):  # fmt: skip
            r = page.request.post(
                office_server.url + f"/kit/{station_id}/kebijakan", form={"csrf": csrf, **form}
            )
            assert r.status == 400, form
            assert re.search(rf"data-error>{field}", r.text()), (form, r.text()[-2000:])
        assert _values_set(office_server) == []
        assert "policy_" not in page.locator("table.audit").inner_text()

        # Set for the kit, and for its kecamatan: shown with where each comes from.
        resp = _submit(page, "backlog_max_unsent", "3", "kit", "set")
        assert resp.status == 303
        page.wait_for_url(re.compile(r".*selesai=kebijakan$"))
        _submit(page, "retention_days", "7", "kecamatan", "set")
        page.wait_for_url(re.compile(r".*selesai=kebijakan$"))
        row = _row(page, "backlog_max_unsent")
        assert row.get_attribute("data-source") == "central"
        assert row.locator("[data-value]").inner_text() == "3"
        assert "pusat: kit ini" in row.inner_text()
        row = _row(page, "retention_days")
        assert row.locator("[data-value]").inner_text() == "7"
        assert "pusat: kecamatan 36.03.32" in row.inner_text()
        assert _row(page, "idle_lock_minutes").get_attribute("data-source") == "default"
        shown = {(v["scope"], v["target"], v["key"], v["value"], v["set_by"])
                 for v in _values_set(office_server)}  # fmt: skip
        assert shown == {
            ("station", station_id, "backlog_max_unsent", "3", ADMIN[0]),
            ("kecamatan", "36.03.32", "retention_days", "7", ADMIN[0]),
        }
        audit = page.locator("table.audit").inner_text()
        assert "policy_set\tbacklog_max_unsent = 3 (kit ini)" in audit
        assert "policy_set\tretention_days = 7 (kecamatan 36.03.32)" in audit

        # The kit at its next sync: both from the centre.
        station("sync", "--once")
        now = kit_policy()
        assert now["backlog_max_unsent"] == {"value": 3, "source": "central"}
        assert now["retention_days"] == {"value": 7, "source": "central"}
        assert now["idle_lock_minutes"]["source"] == "default"

        # Unset the kit's key on the page: the kit's own default returns at its next sync.
        resp = _submit(page, "backlog_max_unsent", "", "kit", "unset")
        assert resp.status == 303
        page.wait_for_url(re.compile(r".*selesai=kebijakan$"))
        assert _row(page, "backlog_max_unsent").get_attribute("data-source") == "default"
        assert (
            "policy_unset\tbacklog_max_unsent (kit ini)" in page.locator("table.audit").inner_text()
        )
        station("sync", "--once")
        now = kit_policy()
        assert now["backlog_max_unsent"] == {"value": 2000, "source": "default"}
        assert now["retention_days"] == {"value": 7, "source": "central"}

        # Without the CSRF token: refused, nothing changed.
        before = _values_set(office_server)
        r = page.request.post(
            office_server.url + f"/kit/{station_id}/kebijakan",
            form={"key": "retention_days", "value": "9", "scope": "kit", "action": "set"},
        )
        assert r.status == 403

        # A viewer sees the policy but has no form, and its POST is refused.
        viewer = sign_in(context.browser.new_context(), office_server.url, VIEWER)
        viewer.goto(office_server.url + f"/kit/{station_id}")
        assert _row(viewer, "retention_days").locator("[data-value]").inner_text() == "7"
        assert viewer.locator("form[action$=kebijakan]").count() == 0
        token = viewer.locator("header input[name=csrf]").get_attribute("value")
        r = viewer.request.post(
            office_server.url + f"/kit/{station_id}/kebijakan",
            form={"csrf": token, "key": "retention_days", "value": "9", "scope": "kit",
                  "action": "set"},
        )  # fmt: skip
        assert r.status == 403 and "viewer" in r.text()
        assert _values_set(office_server) == before
        viewer.context.close()
    finally:
        context.close()
