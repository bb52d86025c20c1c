"""One station's trouble upstream never stops a relay forwarding for the others; a relay takes
only packets the central server can open, and is made from an empty home."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import packet as pkt
from app.sync.provision import enroll
from server.core import ServerCore
from tests.server.test_station_trust import vouch
from tests.support.cli import run_server
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, add_station, server_cli, sqlite_only
from tests.support.wait import wait_for


def start_relay(tmp_path: Path, central: ServerProcess, code: str) -> tuple[str, ServerProcess]:
    """`relay provision` in a fresh home with ``code``, then `serve --upstream`: (its
    station id at the central server, the running relay)."""
    relay_home = tmp_path / "relay"
    res = run_server(
        "--home", str(relay_home), "relay", "provision", "--upstream", central.url,
        "--code", code,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    relay_id = relay_status(relay_home)["relay_station_id"]
    relay = ServerProcess(
        relay_home,
        upstream=central.url,
        extra=["--upstream-timeout", "2", "--upstream-backoff-cap", "1"],
    ).start()
    return str(relay_id), relay


def relay_status(relay_home: Path) -> dict[str, Any]:
    return dict(
        json.loads(run_server("--home", str(relay_home), "relay", "status", "--json").stdout)
    )


def enroll_as(srv: ServerProcess, station_id: str, key: Ed25519PrivateKey) -> TestStation:
    """A kit set up offline (`init`) keeps its id and key when it enrolls."""
    e = enroll(srv.url, add_station(srv, name=station_id), key.public_key(), station_id=station_id)
    assert e.station_id == station_id
    return TestStation(
        srv.url, station_id, key, pkt.load_sealing_public_key(e.server_key_pem), e.kecamatan
    )


def put_n(st: TestStation, n: int, tag: str) -> set[str]:
    uuids = set()
    for i in range(n):
        p = st.seal(nama=f"{tag} {i}")
        resp = st.put(p)
        assert resp.status_code == 201, resp.text
        uuids.add(p.uuid)
    return uuids


@sqlite_only
def test_refused_station_or_revoked_kit_holds_only_its_packets(
    tmp_path: Path, db_url: str | None
) -> None:
    central = ServerProcess(tmp_path / "central", db_url).start()
    relay = None
    try:
        relay_home = tmp_path / "relay"
        code = add_station(central, name="Relay A", kecamatan="36.03.32", relay=True)
        relay_a, relay = start_relay(tmp_path, central, code)

        # Relay X (another kecamatan) registered two kits at the central server earlier.
        x = TestStation.enroll(central, code=add_station(central, "Relay X", relay=True))
        moved_key, clash_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
        assert vouch(x, "kit-pindah-01", moved_key).status_code == 200
        assert vouch(x, "kit-bentrok-01", Ed25519PrivateKey.generate()).status_code == 200

        # At relay A: the moved kit (same key: accepted), a kit whose id the central
        # server holds with another key (refused), and two ordinary kits.
        moved = enroll_as(relay, "kit-pindah-01", moved_key)
        clash = enroll_as(relay, "kit-bentrok-01", clash_key)
        kit2 = TestStation.enroll(relay, name="Kit 2")
        kit3 = TestStation.enroll(relay, name="Kit 3")

        # A packet sealed to the relay's OWN key could never be opened centrally: refused.
        relay_core = ServerCore(relay_home)
        try:
            own = relay_core.sealing_key.public_key()
        finally:
            relay_core.close()
        wrong = TestStation(relay.url, kit2.station_id, kit2.key, own, kit2.kecamatan)
        resp = wrong.put(wrong.seal())
        assert resp.status_code == 400 and resp.json()["error"] == "wrong_server_key"

        clash_uuids = put_n(clash, 2, "BENTROK")  # oldest in the queue
        good = put_n(moved, 2, "PINDAH") | put_n(kit2, 2, "DUA") | put_n(kit3, 2, "TIGA")

        central_core = ServerCore(central.home, db_url)

        def central_uuids() -> set[str]:
            return {p["uuid"] for p in central_core.list_packets()}

        def status() -> dict[str, Any]:
            return relay_status(relay_home)

        def held_of(doc: dict[str, Any]) -> dict[str, str]:
            return {h["uuid"]: h["reason"] for h in doc["held"]}

        try:
            wait_for(lambda: good <= central_uuids(), 60, "the other stations' packets")
            wait_for(lambda: set(held_of(status())) == clash_uuids, 30, "the clash held")
            # A pass that vouched before the clash kit enrolled may hold its packets (the
            # upstream's answer) before the next pass records the refused registration.
            wait_for(lambda: len(status()["unregistered_stations"]) == 1, 30, "clash refused")
            doc = status()
            assert all("another relay" in r for r in held_of(doc).values()), doc
            [unreg] = doc["unregistered_stations"]
            assert unreg["station_id"] == "kit-bentrok-01" and "another relay" in unreg["error"]
            listed = json.loads(
                run_server("--home", str(relay_home), "station", "list", "--json").stdout
            )
            by_id = {s["station_id"]: s for s in listed["stations"]}
            assert "another relay" in by_id["kit-bentrok-01"]["upstream_error"]
            assert by_id[kit2.station_id]["upstream_error"] is None
            pk = json.loads(run_server("--home", str(relay_home), "packets", "--json").stdout)
            held_rows = [p for p in pk["packets"] if p.get("forward") == "held"]
            assert {p["uuid"] for p in held_rows} == clash_uuids
            assert all("another relay" in p["forward_error"] for p in held_rows)
            # the moved kit's packets went through relay A, but it stays registered to relay X:
            # re-registering with the same (public) key gives a relay no claim on it
            central_list = json.loads(server_cli(central, "station", "list", "--json").stdout)
            c_by_id = {s["station_id"]: s for s in central_list["stations"]}
            assert relay_a != x.station_id
            assert c_by_id["kit-pindah-01"]["vouched_by"] == x.station_id
            assert c_by_id["kit-bentrok-01"]["vouched_by"] == x.station_id

            # Kit 2 is stolen and revoked centrally; the relay does not know yet and takes
            # its packets: they are held with the reason, and Kit 3's newer ones still go.
            assert server_cli(central, "station", "revoke", kit2.station_id).returncode == 0
            stolen = put_n(kit2, 2, "CURIAN")
            later = put_n(kit3, 2, "TIGA LAGI")
            wait_for(lambda: later <= central_uuids(), 60, "kit 3 after the revoked packets")
            wait_for(lambda: set(held_of(status())) == clash_uuids | stolen, 30, "stolen held")
            assert all("revoked" in held_of(status())[u] for u in stolen)
            assert not (stolen | clash_uuids) & central_uuids()
            # The relay marks a packet uploaded only after the central server has it: wait for
            # the marks of Kit 3's last packets rather than assert at once.
            wait_for(lambda: status()["forward"] == {"uploaded": 8, "held": 4}, 30, "the marks")

            # Once the upstream said so, the relay has revoked Kit 2 too (just after holding
            # the packet, in its own transaction: waited for): its next upload is refused
            # here, as it would be centrally, and Kit 3 is untouched.
            def stations() -> dict[str, Any]:
                listed = json.loads(
                    run_server("--home", str(relay_home), "station", "list", "--json").stdout
                )
                return {s["station_id"]: s for s in listed["stations"]}

            wait_for(lambda: stations()[kit2.station_id]["revoked"], 30, "Kit 2 revoked")
            assert not stations()[kit3.station_id]["revoked"]
            refused = kit2.put(kit2.seal())
            assert refused.status_code == 403 and refused.json()["error"] == "revoked"
            assert kit3.put(kit3.seal()).status_code == 201
        finally:
            central_core.close()
    finally:
        if relay is not None:
            relay.stop()
        central.stop()


def test_relay_provision_refuses_a_home_with_stations(tmp_path: Path) -> None:
    home = tmp_path / "server"
    add = run_server(
        "--home", str(home), "station", "add", "--name", "Kit", "--kecamatan", "36.03.32"
    )
    assert add.returncode == 0, add.stderr
    res = run_server(
        "--home", str(home), "relay", "provision", "--upstream", "http://127.0.0.1:9",
        "--code", "AAAA-BBBB-CCCC-DDDD",
    )  # fmt: skip
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "already holds 1 station(s) and 0 packet(s)" in lines[0]
    assert not (home / "relay_signing_key.pem").exists()
    status = json.loads(run_server("--home", str(home), "relay", "status", "--json").stdout)
    assert status["upstream"] is None


@sqlite_only
def test_unmarked_relay_holds_then_forwards_once_marked(tmp_path: Path, db_url: str | None) -> None:
    """A relay provisioned with a plain station code may not vouch: its stations' packets are
    held with the reason; once the central office marks it a relay they all go, once."""
    central = ServerProcess(tmp_path / "central", db_url).start()
    relay = None
    try:
        relay_home = tmp_path / "relay"
        code = add_station(central, name="Relay lama", kecamatan="36.03.32")  # no --relay
        relay_id, relay = start_relay(tmp_path, central, code)
        kit = TestStation.enroll(relay, name="Kit 1")
        sent = put_n(kit, 3, "WARGA")

        def status() -> dict[str, Any]:
            return relay_status(relay_home)

        wait_for(lambda: len(status()["held"]) == 3, 30, "packets held")
        doc = status()
        assert all("not a relay" in h["reason"] for h in doc["held"]), doc
        assert "not a relay" in doc["unregistered_stations"][0]["error"]

        marked = server_cli(central, "station", "mark-relay", relay_id)
        assert marked.returncode == 0, marked.stderr
        central_core = ServerCore(central.home, db_url)
        try:
            wait_for(
                lambda: {p["uuid"] for p in central_core.list_packets()} == sent,
                60,
                "held packets forwarded after the relay was marked",
            )
            assert central_core.count_packets() == 3
        finally:
            central_core.close()
        wait_for(lambda: status()["forward"] == {"uploaded": 3}, 30, "relay queue empty")
        assert status()["held"] == [] and status()["unregistered_stations"] == []
    finally:
        if relay is not None:
            relay.stop()
        central.stop()
