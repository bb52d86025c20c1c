"""The issue's "Done when", with the real command-line programs only."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import func, select

from app import packet as pkt
from app.store.db import open_store
from app.store.models import PendingKey
from app.store.station import get_identity, update_server
from tests.support.cli import run_station
from tests.support.residents import BUDI_LAKI, RATNA_PEREMPUAN, resident
from tests.support.server import ServerProcess
from tests.support.server_fixtures import add_station, server_cli
from tests.support.station import face_jpeg


def test_enroll_offline_then_sync_once_delivers_exactly_those(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "server").start()
    home = tmp_path / "station"

    def station(*args: str, input: str | None = None):  # type: ignore[no-untyped-def]
        return run_station("--home", str(home), *args, input=input, timeout=120)

    try:
        code = add_station(srv, name="Gunung Kaler 1", kecamatan="36.03.32")
        res = station("provision", "--server", srv.url, "--code", code)
        assert res.returncode == 0, res.stderr
        station_id = res.stdout.strip().splitlines()[-1]
        assert (
            station(
                "operator",
                "add",
                "--username",
                "siti",
                "--role",
                "operator",
                input="rahasia-siti-123\n",
            ).returncode
            == 0
        )

        srv.stop()  # the WAN is down: recording goes on
        photo = tmp_path / "face.jpg"
        photo.write_bytes(face_jpeg())
        typed = [
            resident(BUDI_LAKI),
            resident(RATNA_PEREMPUAN),
            resident(BUDI_LAKI, nik="3603321208900015", nama="ADI NUGROHO"),
        ]
        uuids = []
        for i, bio in enumerate(typed):
            f = tmp_path / f"bio{i}.json"
            f.write_text(json.dumps(bio))
            res = station(
                "enroll", "--operator", "siti", "--biodata", str(f), "--photo", str(photo),
                input="rahasia-siti-123\n",
            )  # fmt: skip
            assert res.returncode == 0, res.stderr
            uuids.append(res.stdout.strip().splitlines()[-1])

        res = station("sync", "--once")
        assert res.returncode == 1
        assert "unreachable" in res.stderr
        status = json.loads(station("status", "--json").stdout)
        assert status["pending"] == 3 and status["sync"]["last_error"]

        srv.start()
        res = station("sync", "--once")
        assert res.returncode == 0, res.stderr
        listed = json.loads(server_cli(srv, "packets", "--json").stdout)
        assert listed["count"] == 3
        assert sorted(p["uuid"] for p in listed["packets"]) == sorted(uuids)
        assert {p["station"] for p in listed["packets"]} == {station_id}

        for uuid, bio in zip(uuids, typed, strict=True):
            res = server_cli(srv, "open-packet", uuid, "--out", str(tmp_path / uuid))
            assert res.returncode == 0, res.stderr
            manifest = json.loads(res.stdout)
            assert manifest["biodata"]["nik"] == bio["nik"]
            assert manifest["biodata"]["nama"] == bio["nama"]
            assert (tmp_path / uuid / "face.jpg").stat().st_size > 1000

        status = json.loads(station("status", "--json").stdout)
        assert status["pending"] == 0
        assert status["records"]["uploaded"] == 3
        sync = status["sync"]
        assert sync["last_success_at"] and sync["exposure_window"]["samples"] == 3
        assert sync["backlog"]["records"] == 0
        # The error of the offline try stays on record, dated: older than the success.
        assert sync["last_error_at"] < sync["last_success_at"]
        (line,) = [x for x in station("status").stdout.splitlines() if x.startswith("sync:")]
        assert f"last error at {sync['last_error_at']}: server unreachable" in line, line
        res = station("sync", "--once")  # nothing left: still 0
        assert res.returncode == 0
        doctor = json.loads(station("doctor", "--json").stdout)
        server_check = [c for c in doctor["checks"] if c["name"] == "server"]
        assert server_check and server_check[0]["status"] == "ok", server_check

        # A station whose sealing key is not the server's (say, the central server was set up
        # again): doctor says so before records are sealed to a key nobody can open.
        store = open_store(home)
        try:
            other = X25519PrivateKey.generate().public_key()
            update_server(store, srv.url, pkt.sealing_public_key_pem(other), station_id, "test")
        finally:
            store.close()
        res = station("doctor", "--json")
        server_check = [c for c in json.loads(res.stdout)["checks"] if c["name"] == "server"]
        assert res.returncode != 0 and server_check[0]["status"] == "fail", server_check
        assert pkt.key_id(other) in server_check[0]["message"], server_check
        assert "Provision again" in server_check[0]["message"], server_check
    finally:
        srv.stop()


def test_provision_bad_input_and_refused_code(tmp_path: Path) -> None:
    home = tmp_path / "station"
    res = run_station("--home", str(home), "provision", "--server", "ftp://x", "--code", "A")
    assert (
        res.returncode == 2 and "server" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    )
    assert not home.exists()
    with ServerProcess(tmp_path / "server") as srv:
        res = run_station(
            "--home", str(home), "provision", "--server", srv.url, "--code", "AAAA-BBBB-CCCC-DDDD"
        )
        assert res.returncode == 2 and "not valid" in res.stderr
    # The refused code's pending key is forgotten; the (empty) database stays, since another
    # process may have opened it meanwhile (tests/sync/test_provision_retry.py).
    with open_store(home) as store, store.read() as session:
        assert get_identity(store) is None
        assert session.execute(select(func.count()).select_from(PendingKey)).scalar() == 0


def test_provision_at_an_address_with_a_path_says_the_address_is_wrong(tmp_path: Path) -> None:
    """A path after the port (or the API's own prefix) gets the server's 404: the technician is
    told the address is wrong, not that the code was refused, and the code still works."""
    home = tmp_path / "station"
    with ServerProcess(tmp_path / "server") as srv:
        code = add_station(srv)
        for url in (srv.url + "/ektp", srv.url + "/api/v1"):
            res = run_station("--home", str(home), "provision", "--server", url, "--code", code)
            lines = res.stderr.strip().splitlines()
            assert res.returncode == 2 and len(lines) == 1, res.stderr
            assert lines[0].startswith("ektp-station: error: server: no e-KTP enrollment")
            assert "without a path" in lines[0]
        res = run_station("--home", str(home), "provision", "--server", srv.url, "--code", code)
        assert res.returncode == 0, res.stderr
