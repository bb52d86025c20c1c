"""The admin CLI of the server: import, open-packet, bad input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.support.cli import run_server
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, server_cli, sqlite_only


@sqlite_only
def test_import_open_packet_and_listing(server: ServerProcess, tmp_path: Path) -> None:
    st = TestStation.enroll(server)
    export = tmp_path / "export"
    export.mkdir()
    packets = [st.seal(nama=f"WARGA {i}", photo_bytes=1000 + i) for i in range(3)]
    for p in packets:
        (export / f"{p.uuid}.ektp").write_bytes(p.data)
    # one was uploaded already: import must see it as a duplicate, not a conflict
    assert st.put(packets[0]).status_code == 201
    # a packet from a station this server has never seen: kept, marked unverified
    stranger = TestStation(
        st.url, "stranger-1", Ed25519PrivateKey.generate(), st.server_key, "36.03.07"
    )
    sp = stranger.seal(nama="TAMU")
    (export / f"{sp.uuid}.ektp").write_bytes(sp.data)
    (export / "junk.ektp").write_bytes(b"not a packet")

    res = server_cli(server, "import", str(export), "--json")
    assert res.returncode == 1, res.stderr  # junk.ektp was rejected
    doc = json.loads(res.stdout)
    assert (doc["imported"], doc["duplicates"], doc["unverified"]) == (3, 1, 1)
    assert [r["file"] for r in doc["rejected"]] == ["junk.ektp"]

    again = json.loads(server_cli(server, "import", str(export), "--json").stdout)
    assert (again["imported"], again["duplicates"]) == (0, 4)

    listed = json.loads(server_cli(server, "packets", "--json").stdout)
    assert listed["count"] == 4
    by_uuid = {p["uuid"]: p for p in listed["packets"]}
    for p in packets:
        assert by_uuid[p.uuid]["sha256"] == hashlib.sha256(p.data).hexdigest()
        assert by_uuid[p.uuid]["verified"] is True
    assert by_uuid[sp.uuid]["verified"] is False

    out = tmp_path / "opened"
    res = server_cli(server, "open-packet", packets[2].uuid, "--out", str(out))
    assert res.returncode == 0, res.stderr
    manifest = json.loads(res.stdout)
    assert manifest["biodata"]["nama"] == "WARGA 2"
    assert manifest["biodata"]["nik"] == "3603321208900007"
    assert (out / "face.jpg").stat().st_size == 1002


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["station", "add", "--name", "X", "--kecamatan", "banten"], "--kecamatan"),
        (["station", "add", "--kecamatan", "36.03.32"], "--name"),
        (["station", "assign", "nope", "--kecamatan", "36.03.32"], "ID"),
        (["open-packet", "0190a000-0000-7000-8000-000000000000"], "UUID"),
        (["import", "/nonexistent/dir"], "DIR"),
        (["--db", "mysql://x/y", "packets"], "--db"),
        (["serve", "--port", "70000"], "--port"),
        (["serve", "--upstream", "http://127.0.0.1:9"], "--upstream"),
    ],
)
def test_bad_input_one_line_exit_2(tmp_path: Path, args: list[str], field: str) -> None:
    res = run_server("--home", str(tmp_path / "h"), *args)
    assert res.returncode == 2, (res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], res.stderr
    assert "Traceback" not in res.stderr
    if field not in ("ID", "UUID", "--upstream"):  # those need the database to know
        assert not (tmp_path / "h").exists(), "bad input must write nothing"
