"""One parser for wilayah codes (issue 17): dotted or not, at the station and the server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.domain.regions import BadRegionCode, parse_code
from tests.support.cli import run_server, run_station
from tests.support.station import make_server_key


@pytest.mark.parametrize("written", ["36.03.32", "360332", " 360332 "])
def test_the_parser_takes_both_forms(written: str) -> None:
    assert parse_code(written, 3) == "36.03.32"


@pytest.mark.parametrize("written", ["3603", "36.03", "36033", "36.03.99", "3603322001", "banten"])
def test_the_parser_refuses_other_levels_and_unknown_codes(written: str) -> None:
    with pytest.raises(BadRegionCode):
        parse_code(written, 3)


def test_station_and_server_take_the_code_without_dots(tmp_path: Path) -> None:
    _, key = make_server_key(tmp_path / "keys")
    home = tmp_path / "station"
    r = run_station(
        "--home", str(home), "init", "--server-key", str(key), "--kecamatan", "360332"
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    status = json.loads(run_station("--home", str(home), "status", "--json").stdout)
    assert status["kecamatan"] == "36.03.32"

    # `ektp-server station add --kecamatan 360332` was refused (it wanted 36.03.32).
    srv = tmp_path / "server"
    added = run_server(
        "--home", str(srv), "station", "add", "--name", "X", "--kecamatan", "360332", "--json"
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    sid = json.loads(added.stdout)["station_id"]
    moved = run_server("--home", str(srv), "station", "assign", sid, "--kecamatan", "360307")
    assert moved.returncode == 0, moved.stderr
    listed = json.loads(run_server("--home", str(srv), "station", "list", "--json").stdout)
    assert [s["kecamatan"] for s in listed["stations"]] == ["36.03.07"]
