"""A relay pulls the central state of the stations it vouched for: a kit the central office
moves or revokes learns it through the relay, without waiting for a forwarded packet.

Real parts: a central server and a relay as `python -m server` processes on loopback (the
central one on SQLite and on PostgreSQL), a real station home driven by `python -m app`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.sync.engine import SyncEngine
from server.core import ServerCore, Station
from server.keys import load_or_create_relay_key
from server.relay import upstream_verify_key
from server.relay_outbox import RelayOutbox
from server.relay_pull import RELAY_STATIONS_PATH, RelayPuller, apply_upstream_state, pull_status
from tests.server.test_relay_trouble import put_n, relay_status
from tests.server.test_station_trust import vouch
from tests.support.cli import run_server, run_station
from tests.support.faultproxy import FaultProxy
from tests.support.residents import BUDI_LAKI, RATNA_PEREMPUAN, resident
from tests.support.server import ServerProcess, free_port
from tests.support.server_fixtures import TestStation, add_station, server_cli, sqlite_only
from tests.support.station import face_jpeg
from tests.support.wait import wait_for

GUNUNG_KALER, KRONJO = "36.03.32", "36.03.07"
PULL_S = "0.5"


def provision_relay(tmp_path: Path, central: ServerProcess) -> tuple[Path, str]:
    home = tmp_path / "relay"
    code = add_station(central, name="Relay Gunung Kaler", kecamatan=GUNUNG_KALER, relay=True)
    res = run_server(
        "--home", str(home), "relay", "provision", "--upstream", central.url, "--code", code
    )
    assert res.returncode == 0, res.stderr
    return home, str(relay_status(home)["relay_station_id"])


def start_relay(home: Path, central: ServerProcess, pull_s: str = PULL_S) -> ServerProcess:
    return ServerProcess(
        home,
        upstream=central.url,
        extra=[
            "--upstream-timeout", "2", "--upstream-backoff-cap", "1",
            "--upstream-pull-interval", pull_s,
        ],
    ).start()  # fmt: skip


def relay_stations(home: Path) -> dict[str, dict[str, Any]]:
    doc = json.loads(run_server("--home", str(home), "station", "list", "--json").stdout)
    return {s["station_id"]: s for s in doc["stations"]}


class Look:
    """Read a running server's database in-process while waiting (a CLI call per poll
    costs a second); what matters is also checked once through the CLI."""

    def __init__(self, home: Path, db_url: str | None = None) -> None:
        self.core = ServerCore(home, db_url)

    def station(self, station_id: str) -> Station:
        return self.core.get_station(station_id)

    def pull(self) -> dict[str, Any]:
        return pull_status(self.core)

    def forward(self) -> dict[str, int]:
        return RelayOutbox(self.core).counts()

    def held(self) -> dict[str, str]:
        return {h["uuid"]: h["reason"] for h in RelayOutbox(self.core).held()}

    def packets(self) -> dict[str, dict[str, Any]]:
        return {p["uuid"]: p for p in self.core.list_packets()}

    def close(self) -> None:
        self.core.close()


# The two end-to-end runs below use a SQLite central only (time): the central's side of the
# pull on PostgreSQL is proved by test_relay_stations_endpoint.
@pytest.mark.parametrize("db_url", [None], ids=["sqlite"])
def test_central_assignment_reaches_the_kit_through_the_relay(
    tmp_path: Path, db_url: str | None
) -> None:
    """`station assign` at the central server: the relay pulls it, the kit's next assignment
    pull (from the relay) gets it, and what the kit records after that carries it."""
    central = ServerProcess(tmp_path / "central", db_url).start()
    relay = None
    looks: list[Look] = []
    kit_home = tmp_path / "kit"

    def kit(*args: str, input: str | None = None) -> Any:
        return run_station("--home", str(kit_home), *args, input=input, timeout=120)

    photo = tmp_path / "face.jpg"
    photo.write_bytes(face_jpeg())

    def record(bio: dict[str, Any]) -> str:
        f = tmp_path / f"{bio['nik']}.json"
        f.write_text(json.dumps(bio))
        res = kit(
            "enroll", "--operator", "siti", "--biodata", str(f), "--photo", str(photo),
            input="rahasia-siti-123\n",
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        return str(res.stdout.strip().splitlines()[-1])

    try:
        relay_home, _ = provision_relay(tmp_path, central)
        relay = start_relay(relay_home, central)
        here, there = Look(relay_home), Look(central.home, db_url)
        looks += [here, there]
        res = kit("provision", "--server", relay.url, "--code", add_station(relay, "Kit GK 1"))
        assert res.returncode == 0, res.stderr
        kit_id = res.stdout.strip().splitlines()[-1]
        add_op = kit("operator", "add", "--username", "siti", "--role", "operator",
                     input="rahasia-siti-123\n")  # fmt: skip
        assert add_op.returncode == 0, add_op.stderr

        before = record(resident(BUDI_LAKI))
        assert kit("sync", "--once").returncode == 0
        wait_for(lambda: before in there.packets(), 60, "the first record upstream")

        moved = server_cli(central, "station", "assign", kit_id, "--kecamatan", KRONJO)
        assert moved.returncode == 0, moved.stderr
        # No packet of the kit goes upstream meanwhile: the relay learns it by pulling.
        wait_for(
            lambda: here.station(kit_id).kecamatan == KRONJO,
            30,
            "the relay to take the central assignment",
        )
        assert relay_stations(relay_home)[kit_id]["kecamatan"] == KRONJO
        assert relay_status(relay_home)["pull"]["last_success_at"] is not None

        res = kit("sync", "--once")  # pulls its assignment from the relay
        assert res.returncode == 0, res.stderr
        assert json.loads(kit("status", "--json").stdout)["kecamatan"] == KRONJO
        # The relay tells its kit the central server's key (the one the kit seals to).
        doctor = json.loads(kit("doctor", "--json").stdout)
        server_check = [c for c in doctor["checks"] if c["name"] == "server"]
        assert server_check[0]["status"] == "ok", server_check
        assert f"kecamatan {KRONJO}" in server_check[0]["message"], server_check
        after = record(resident(RATNA_PEREMPUAN))
        assert kit("sync", "--once").returncode == 0
        wait_for(lambda: after in there.packets(), 60, "the second record upstream")
        got = {
            p["uuid"]: p
            for p in json.loads(server_cli(central, "packets", "--json").stdout)["packets"]
        }
        assert got[before]["kecamatan"] == GUNUNG_KALER
        assert got[after]["kecamatan"] == KRONJO
        assert {got[before]["station"], got[after]["station"]} == {kit_id}
    finally:
        for look in looks:
            look.close()
        if relay is not None:
            relay.stop()
        central.stop()


@pytest.mark.parametrize("db_url", [None], ids=["sqlite"])
def test_central_revocation_reaches_the_relay_by_pulling_and_upstream_down_loses_nothing(
    tmp_path: Path, db_url: str | None
) -> None:
    """A kit revoked centrally is refused by the relay (403 revoked) although none of its
    packets was forwarded since. Upstream down: the relay keeps acknowledging, the last pull
    time stays, the failure is shown. A kit revoked meanwhile is revoked here once the
    upstream is back, and the packets the relay acknowledged before still go upstream, which
    decides (today: it refuses every packet of a revoked station; they stay held here)."""
    central = ServerProcess(tmp_path / "central", db_url).start()
    relay = None
    looks: list[Look] = []
    try:
        relay_home, _ = provision_relay(tmp_path, central)
        relay = start_relay(relay_home, central)
        here = Look(relay_home)
        looks.append(here)
        stolen = TestStation.enroll(relay, name="Kit dicuri")
        kit = TestStation.enroll(relay, name="Kit GK 2")
        first = put_n(stolen, 1, "SEBELUM") | put_n(kit, 1, "AWAL")
        wait_for(lambda: here.forward() == {"uploaded": 2}, 60, "the first packets upstream")

        revoked = server_cli(central, "station", "revoke", stolen.station_id)
        assert revoked.returncode == 0, revoked.stderr
        wait_for(lambda: here.station(stolen.station_id).revoked, 30, "the relay to revoke it")
        resp = stolen.put(stolen.seal(nama="SESUDAH"))
        assert resp.status_code == 403 and resp.json()["error"] == "revoked", resp.text
        # Learned by the pull: nothing of the kit was forwarded (or refused) since.
        doc = relay_status(relay_home)
        assert doc["forward"] == {"uploaded": 2} and doc["held"] == [], doc
        listed = relay_stations(relay_home)
        assert listed[stolen.station_id]["revoked"] and not listed[kit.station_id]["revoked"]

        central.stop()
        wait_for(lambda: here.pull()["error"], 30, "a failed pull recorded")
        down = here.pull()
        acked = put_n(kit, 3, "SAAT PUTUS")  # the relay serves on
        wait_for(lambda: here.pull()["error_at"] != down["error_at"], 30, "another try")
        doc = relay_status(relay_home)
        assert doc["pull"]["last_success_at"] == down["last_success_at"]
        assert "unreachable" in doc["pull"]["error"], doc["pull"]
        assert doc["forward"] == {"uploaded": 2, "pending": 3}, doc
        human = run_server("--home", str(relay_home), "relay", "status").stdout.splitlines()
        assert f"last pull of the station state: {down['last_success_at']}" in human, human
        assert any(line.startswith("last pull failed at ") for line in human), human
        assert requests.get(relay.url + "/api/v1/health", timeout=5).status_code == 200

        # The office revokes the kit while the relay cannot reach it; the upstream comes back.
        assert server_cli(central, "station", "revoke", kit.station_id).returncode == 0
        central.start()
        wait_for(
            lambda: here.pull()["last_success_at"] != down["last_success_at"],
            30,
            "a successful pull after the upstream came back",
        )
        wait_for(lambda: here.station(kit.station_id).revoked, 30, "the kit revoked here")
        refused = kit.put(kit.seal())
        assert refused.status_code == 403 and refused.json()["error"] == "revoked"

        wait_for(lambda: set(here.held()) == acked, 30, "the acknowledged packets offered upstream")
        assert all(r.startswith("station_revoked") for r in here.held().values()), here.held()
        doc = relay_status(relay_home)
        assert doc["pull"]["error"] is None and doc["forward"] == {"uploaded": 2, "held": 3}
        pk = json.loads(run_server("--home", str(relay_home), "packets", "--json").stdout)
        assert {p["uuid"] for p in pk["packets"]} == first | acked  # kept on the relay
        got = json.loads(server_cli(central, "packets", "--json").stdout)["packets"]
        assert {p["uuid"] for p in got} == first
    finally:
        for look in looks:
            look.close()
        if relay is not None:
            relay.stop()
        central.stop()


@sqlite_only
def test_relay_stations_endpoint(server: ServerProcess) -> None:
    """Only a relay may ask, and it gets exactly the stations it vouched for."""
    plain = TestStation.enroll(server, name="Kit biasa")
    resp = plain.signed("GET", RELAY_STATIONS_PATH)
    assert resp.status_code == 403, resp.text
    assert resp.json()["error"] == "not_a_relay" and "--relay" in resp.json()["detail"]
    assert set(resp.json()) == {"error", "detail"}

    relay = TestStation.enroll(server, code=add_station(server, "Relay A", relay=True))
    other = TestStation.enroll(server, code=add_station(server, "Relay B", relay=True))
    assert relay.signed("GET", RELAY_STATIONS_PATH).json()["stations"] == []
    for sid in ("kit-a-01", "kit-a-02"):
        assert vouch(relay, sid, Ed25519PrivateKey.generate()).status_code == 200  # type: ignore[attr-defined]
    assert vouch(other, "kit-b-01", Ed25519PrivateKey.generate()).status_code == 200  # type: ignore[attr-defined]
    assert (
        server_cli(server, "station", "assign", "kit-a-02", "--kecamatan", KRONJO).returncode == 0
    )
    assert server_cli(server, "station", "revoke", "kit-a-01").returncode == 0

    resp = relay.signed("GET", RELAY_STATIONS_PATH)
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert doc["relay_station_id"] == relay.station_id
    by_id = {s["station_id"]: s for s in doc["stations"]}
    assert set(by_id) == {"kit-a-01", "kit-a-02"}  # not B's kit, not the plain kit
    assert by_id["kit-a-01"]["revoked"] is True and by_id["kit-a-01"]["revoked_at"]
    assert by_id["kit-a-01"]["kecamatan"] == GUNUNG_KALER
    assert by_id["kit-a-02"] == {
        "station_id": "kit-a-02",
        "kecamatan": KRONJO,
        "assigned_at": by_id["kit-a-02"]["assigned_at"],
        "revoked": False,
        "revoked_at": None,
        "policy": {},  # the limits the office set for the kit (none here; issue 12)
    }
    assert by_id["kit-a-02"]["assigned_at"] > by_id["kit-a-01"]["assigned_at"]
    # signed like every station request: a replay is refused
    replay = requests.get(server.url + RELAY_STATIONS_PATH, headers=resp.request.headers, timeout=5)  # type: ignore[arg-type]
    assert replay.status_code == 401 and replay.json()["error"] == "replay"
    openapi = requests.get(server.url + "/openapi.json", timeout=5).json()
    op = openapi["paths"][RELAY_STATIONS_PATH]["get"]
    assert {"200", "401", "403"} <= set(op["responses"])
    assert "not_a_relay" in op["responses"]["403"]["description"]


def _relay_core(tmp_path: Path, central: ServerProcess) -> tuple[ServerCore, RelayPuller]:
    """An in-process relay home provisioned at ``central`` and a puller over it."""
    home, relay_id = provision_relay(tmp_path, central)
    core = ServerCore(home)
    engine = SyncEngine(
        RelayOutbox(core),
        server_url=central.url,
        station_id=relay_id,
        signing_key=load_or_create_relay_key(home),
        timeout=(1.0, 2.0),
        server_verify_key=upstream_verify_key(core),  # learned at `relay provision`
    )
    return core, RelayPuller(core, engine, interval_s=3600, retry_cap_s=0.2, nudge_gap_s=0.0)


def test_puller_applies_only_what_the_upstream_lists_and_stops_cleanly(tmp_path: Path) -> None:
    central = ServerProcess(tmp_path / "central").start()
    core = None
    try:
        core, puller = _relay_core(tmp_path, central)
        # Kits enrolled at this relay: one it registered upstream, one another relay
        # registered first (a moved kit: the upstream does not list it as ours).
        mine, _ = core.add_station("Kit 1", GUNUNG_KALER)
        moved, _ = core.add_station("Kit pindah", GUNUNG_KALER)
        relay_id = puller.engine.station_id
        x = TestStation.enroll(central, code=add_station(central, "Relay X", relay=True))
        key = Ed25519PrivateKey.generate()
        assert vouch(x, moved.id, key).status_code == 200  # type: ignore[attr-defined]
        me = TestStation(central.url, relay_id, load_or_create_relay_key(core.home), x.server_key,
                         GUNUNG_KALER)  # fmt: skip
        assert vouch(me, mine.id, Ed25519PrivateKey.generate()).status_code == 200  # type: ignore[attr-defined]
        assert vouch(me, "kit-lain-01", Ed25519PrivateKey.generate()).status_code == 200  # type: ignore[attr-defined]
        with core.engine.begin() as conn:
            from server import db

            conn.execute(db.stations.update().values(upstream_registered_at=time.time()))
        for sid in (mine.id, moved.id):
            assert (
                server_cli(central, "station", "assign", sid, "--kecamatan", KRONJO).returncode == 0
            )
            assert server_cli(central, "station", "revoke", sid).returncode == 0

        result = puller.pull_once()
        assert result.assigned == [(mine.id, GUNUNG_KALER, KRONJO)]
        assert result.revoked == [mine.id]
        assert result.unlisted == [moved.id] and result.unknown == ["kit-lain-01"]
        assert core.get_station(mine.id).kecamatan == KRONJO and core.get_station(mine.id).revoked
        untouched = core.get_station(moved.id)
        assert untouched.kecamatan == GUNUNG_KALER and not untouched.revoked
        again = puller.pull_once()  # nothing more to do
        assert again.assigned == [] and again.revoked == []

        # A malformed assignment is not taken; a document without stations is an error.
        bad = {"stations": [{"station_id": moved.id, "kecamatan": "99.99.99"}, "junk"]}
        assert apply_upstream_state(core, bad).assigned == []
        assert core.get_station(moved.id).kecamatan == GUNUNG_KALER

        # The loop: a pull at start, another when nudged; an unreachable upstream is
        # recorded and retried; stop() ends the thread at once.
        status = relay_status(core.home)["pull"]  # the CLI, once
        first = status["last_success_at"]
        assert first and status["error"] is None and status["unlisted_stations"] == [moved.id]
        time.sleep(0.01)
        puller.start()
        wait_for(lambda: pull_status(core)["last_success_at"] != first, 10, "pull")
        second = pull_status(core)["last_success_at"]
        time.sleep(0.01)
        puller.nudge()
        wait_for(lambda: pull_status(core)["last_success_at"] != second, 10, "nudge")
        assert puller.stop() and not puller.running
        last_ok = pull_status(core)["last_success_at"]

        puller.engine.server_url = f"http://127.0.0.1:{free_port()}"
        puller.start()
        wait_for(lambda: puller.failures >= 3, 10, "retries against a closed port")
        t0 = time.monotonic()
        assert puller.stop() and not puller.running
        assert time.monotonic() - t0 < 5
        status = pull_status(core)
        assert "unreachable" in status["error"] and status["error_at"]
        assert status["last_success_at"] == last_ok
    finally:
        if core is not None:
            core.close()
        central.stop()


def test_stop_cuts_off_a_pull_stalled_upstream(tmp_path: Path) -> None:
    """A relay shutting down while its pull hangs on a stalled upstream stops at once, not at
    the read timeout; started again, it pulls."""
    central = ServerProcess(tmp_path / "central").start()
    core = None
    try:
        core, puller = _relay_core(tmp_path, central)
        with FaultProxy(central.port, stall_s=30.0) as proxy:
            puller.engine.server_url = proxy.url
            puller.engine.timeout = (5.0, 30.0)
            proxy.forced = ["stall"]
            puller.start()
            wait_for(lambda: proxy.counts["stall"] == 1, 20, "the pull to stall")
            t0 = time.monotonic()
            assert puller.stop(timeout=10) and not puller.running
            assert time.monotonic() - t0 < 5  # not the 30 s read timeout
            before = pull_status(core)["last_success_at"]
            puller.start()  # the engine was resumed: the next pull goes through
            wait_for(
                lambda: pull_status(core)["last_success_at"] not in (None, before), 20, "a pull"
            )
            assert puller.stop()
    finally:
        if core is not None:
            core.close()
        central.stop()


def test_pull_interval_must_be_positive(tmp_path: Path) -> None:
    home = tmp_path / "relay"
    res = run_server("--home", str(home), "serve", "--upstream-pull-interval", "0")
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "--upstream-pull-interval" in lines[0], res.stderr
    assert not home.exists()
