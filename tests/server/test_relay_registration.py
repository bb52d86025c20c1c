"""A relay registers a station upstream before it forwards the station's packets, also when
the registration has to be made again (a kit re-enrolled with a new key) or fails for a while.

Real parts: a central server (SQLite) and a relay (on SQLite and on PostgreSQL, ``db_url``) as
`python -m server` processes on loopback, the fault proxy between them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import packet as pkt
from app.sync.provision import enroll
from server.core import ServerCore
from server.relay_outbox import RelayOutbox
from tests.server.test_relay_trouble import put_n
from tests.support.cli import run_server
from tests.support.faultproxy import FaultProxy
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, add_station, sqlite_only
from tests.support.wait import wait_for

VOUCH = "POST /api/v1/stations/vouch"


class Relay:
    """A relay provisioned at ``central`` (its database: ``db_url``), serving through
    ``upstream`` (the fault proxy)."""

    def __init__(self, tmp_path: Path, central: ServerProcess, db_url: str | None) -> None:
        self.home = tmp_path / "relay"
        self.db_url = db_url
        code = add_station(central, name="Relay Gunung Kaler", kecamatan="36.03.32", relay=True)
        res = self.cli("relay", "provision", "--upstream", central.url, "--code", code)
        assert res.returncode == 0, res.stderr
        self.proc: ServerProcess | None = None
        self.core = ServerCore(self.home, db_url)

    def cli(self, *args: str) -> Any:
        return run_server("--home", str(self.home), *(["--db", self.db_url] if self.db_url else []),
                          *args)  # fmt: skip

    def start(self, upstream: str) -> ServerProcess:
        self.proc = ServerProcess(
            self.home,
            self.db_url,
            upstream=upstream,
            extra=["--upstream-timeout", "2", "--upstream-backoff-cap", "1"],
        ).start()
        return self.proc

    def forward(self) -> dict[str, int]:
        return RelayOutbox(self.core).counts()

    def rekey(self, st: TestStation) -> TestStation:
        """The kit is reinstalled: a new code for the same station at the relay, a new key."""
        res = self.cli("station", "code", st.station_id)
        assert res.returncode == 0, res.stderr
        key = Ed25519PrivateKey.generate()
        assert self.proc is not None
        e = enroll(self.proc.url, res.stdout.strip().splitlines()[-1], key.public_key(),
                   station_id=st.station_id)  # fmt: skip
        assert e.station_id == st.station_id
        return TestStation(
            self.proc.url, st.station_id, key, pkt.load_sealing_public_key(e.server_key_pem),
            e.kecamatan,
        )  # fmt: skip

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stop()
        self.core.close()


@sqlite_only
def test_a_reenrolled_kit_is_registered_again_before_its_packets_go(
    tmp_path: Path, db_url: str | None
) -> None:
    """A kit re-enrolled at the relay with a new key while the upstream answers the relay's
    registration with 503 for a while (busy): its new packets wait for the registration, they
    are not sent under the old registration (the upstream would refuse them for good: a key it
    never had, 400 bad_signature), and they arrive once the registration goes through."""
    central = ServerProcess(tmp_path / "central").start()
    proxy = FaultProxy(central.port).start()
    relay = Relay(tmp_path, central, db_url)
    there = ServerCore(central.home)
    try:
        relay.start(proxy.url)
        kit = TestStation.enroll(relay.proc, name="Kit GK 1")  # type: ignore[arg-type]
        first = put_n(kit, 1, "AWAL")
        wait_for(lambda: relay.forward() == {"uploaded": 1}, 60, "the first packet upstream")

        proxy.forced_on, proxy.forced = VOUCH, ["503", "503"]
        kit = relay.rekey(kit)
        later = put_n(kit, 2, "SESUDAH")
        wait_for(
            lambda: proxy.forced == [] and "pending" not in relay.forward(),
            60,
            "the registration refused twice (503), then every packet settled",
        )
        status = json.loads(relay.cli("relay", "status", "--json").stdout)
        packets = json.loads(relay.cli("packets", "--json").stdout)["packets"]
        assert status["forward"] == {"uploaded": 3}, packets
        assert status["held"] == [] and status["unregistered_stations"] == [], status
        assert {p["uuid"] for p in there.list_packets()} == first | later
    finally:
        there.close()
        relay.close()
        proxy.stop()
        central.stop()


def sqlite_backup(src: Path, dst: Path) -> None:
    """An online SQLite backup (the WAL included), as an administrator makes one."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    a.close()
    b.close()


@sqlite_only
def test_a_station_the_upstream_no_longer_knows_is_registered_again(
    tmp_path: Path, db_url: str | None
) -> None:
    """The central database is restored from a backup made before the relay registered a kit:
    the upstream answers the kit's next packet 403 unknown_station. The relay registers the
    kit again and forwards the packet, instead of holding it (and every later one) for ever:
    `relay requeue` cannot help there, only a new registration can."""
    central = ServerProcess(tmp_path / "central").start()
    relay = Relay(tmp_path, central, db_url)
    backup = tmp_path / "central-backup.db"
    there: ServerCore | None = None
    try:
        sqlite_backup(central.home / "server.db", backup)  # the relay is known there
        relay.start(central.url)
        kit = TestStation.enroll(relay.proc, name="Kit GK 1")  # type: ignore[arg-type]
        put_n(kit, 1, "SEBELUM")
        wait_for(lambda: relay.forward() == {"uploaded": 1}, 60, "the first packet upstream")

        central.stop()
        sqlite_backup(backup, central.home / "server.db")  # restored: the kit unknown there
        central.start()
        later = put_n(kit, 2, "SESUDAH")
        there = ServerCore(central.home)
        wait_for(lambda: "pending" not in relay.forward(), 60, "the later packets settled")
        status = json.loads(relay.cli("relay", "status", "--json").stdout)
        assert status["forward"] == {"uploaded": 3}, status
        assert later <= {p["uuid"] for p in there.list_packets()}
        assert status["held"] == [] and status["unregistered_stations"] == [], status
        assert there.get_station(kit.station_id).vouched_by == status["relay_station_id"]
    finally:
        if there is not None:
            there.close()
        relay.close()
        central.stop()


@sqlite_only
def test_a_kit_rekeyed_while_the_upstream_is_down_loses_nothing(
    tmp_path: Path, db_url: str | None
) -> None:
    """The upstream is down; a kit enrolled at the relay uploads, is reinstalled (re-enrolled
    with a new key) and uploads again. When the upstream is back the relay registers the kit
    with its earlier key too: the packets signed with it are accepted there (the upstream
    would refuse them for good, 400 bad_signature, knowing only the new key)."""
    central = ServerProcess(tmp_path / "central").start()
    relay = Relay(tmp_path, central, db_url)
    there: ServerCore | None = None
    try:
        central.stop()
        relay.start(central.url)
        kit = TestStation.enroll(relay.proc, name="Kit GK 1")  # type: ignore[arg-type]
        before = put_n(kit, 2, "SEBELUM")
        kit = relay.rekey(kit)
        after = put_n(kit, 1, "SESUDAH")
        central.start()
        wait_for(lambda: "pending" not in relay.forward(), 60, "every packet settled")
        status = json.loads(relay.cli("relay", "status", "--json").stdout)
        packets = json.loads(relay.cli("packets", "--json").stdout)["packets"]
        assert status["forward"] == {"uploaded": 3}, packets
        there = ServerCore(central.home)
        assert {p["uuid"] for p in there.list_packets()} == before | after
        assert (
            there.get_station(kit.station_id).public_key
            == relay.core.get_station(kit.station_id).public_key
        )
    finally:
        if there is not None:
            there.close()
        relay.close()
        central.stop()
