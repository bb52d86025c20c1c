"""More bad input to ``ektp-server``: paths that are not what they claim, unknown kecamatan
codes, an export directory holding junk, an unreachable database. One line, no traceback."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.support.cli import run_server


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


@pytest.mark.parametrize("args", [["keys", "public"], ["station", "list", "--json"]])
def test_home_that_is_a_file(tmp_path: Path, args: list[str]) -> None:
    home = tmp_path / "home"
    home.write_text("not a folder")
    res = run_server("--home", str(home), *args)
    assert res.returncode == 2, res.stderr
    assert "--home" in _one_line(res.stderr)
    assert home.read_text() == "not a folder"


@pytest.mark.parametrize("code", ["99.99.99", "36.03.99"])
def test_unknown_kecamatan_refused(tmp_path: Path, code: str) -> None:
    home = tmp_path / "h"
    res = run_server("--home", str(home), "station", "add", "--name", "X", "--kecamatan", code)
    assert res.returncode == 2, res.stderr
    assert "--kecamatan" in _one_line(res.stderr) and "not a known kecamatan" in res.stderr
    assert not home.exists(), "bad input must write nothing"


def test_assign_unknown_kecamatan_keeps_the_old_one(tmp_path: Path) -> None:
    home = tmp_path / "h"
    added = run_server(
        "--home", str(home), "station", "add", "--name", "X", "--kecamatan", "36.03.32", "--json"
    )
    assert added.returncode == 0, added.stderr
    sid = json.loads(added.stdout)["station_id"]
    res = run_server("--home", str(home), "station", "assign", sid, "--kecamatan", "99.99.99")
    assert res.returncode == 2 and "--kecamatan" in _one_line(res.stderr)
    listed = json.loads(run_server("--home", str(home), "station", "list", "--json").stdout)
    assert [s["kecamatan"] for s in listed["stations"]] == ["36.03.32"]


def test_open_packet_out_is_a_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("x")
    res = run_server(
        "--home", str(tmp_path / "h"), "open-packet", "0190a000-0000-7000-8000-000000000000",
        "--out", str(out),
    )  # fmt: skip
    assert res.returncode == 2 and "--out" in _one_line(res.stderr)
    assert not (tmp_path / "h").exists()


def test_import_dir_with_junk_rejects_each_and_goes_on(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    (export / "a.ektp").write_bytes(b"junk")
    (export / "sub.ektp").mkdir()  # a folder named like a packet
    (export / "notes.txt").write_text("ignored: not *.ektp")
    res = run_server("--home", str(tmp_path / "h"), "import", str(export), "--json")
    assert res.returncode == 1, res.stderr
    assert "Traceback" not in res.stderr
    doc = json.loads(res.stdout)
    assert doc["files"] == 2 and doc["imported"] == 0
    assert sorted(r["file"] for r in doc["rejected"]) == ["a.ektp", "sub.ektp"]


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    # Port 1 on loopback: nothing listens there, the connection is refused at once.
    res = run_server(
        "--home", str(tmp_path / "h"), "--db", "postgresql://u@127.0.0.1:1/x", "packets", "--json"
    )
    assert res.returncode == 1, res.stderr
    assert _one_line(res.stderr).startswith("ektp-server: database:")
    assert res.stdout == ""


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["station", "add", "--name", "X", "--kecamatan", "36.03.32", "--expires-hours", "nan"],
         "--expires-hours"),
        (["station", "code", "some-id", "--expires-hours", "-1"], "--expires-hours"),
        (["serve", "--max-body", "-5"], "--max-body"),
        (["serve", "--max-inflight", "0"], "--max-inflight"),
    ],
)  # fmt: skip
def test_numbers_out_of_range(tmp_path: Path, args: list[str], field: str) -> None:
    home = tmp_path / "h"
    res = run_server("--home", str(home), *args, timeout=30)
    assert res.returncode == 2, res.stderr
    assert field in _one_line(res.stderr)
    assert not home.exists(), "bad input must write nothing"


def test_serve_on_a_busy_port(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        home = tmp_path / "h"
        res = run_server("--home", str(home), "serve", "--port", str(port), timeout=60)
    assert res.returncode == 2, res.stderr
    line = _one_line(res.stderr)
    assert line.startswith("ektp-server: --port:") and f"port {port}" in line, line
    assert "already in use" in line
    assert not home.exists(), "bad input must write nothing"
