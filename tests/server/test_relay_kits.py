"""Issue 12 through a kecamatan relay: the central office's policy reaches a kit behind a
relay, and the kit's health, audit events and offline moves reach the central office.

Real parts: a central server and a relay as `python -m server` processes on loopback (the
central one on SQLite and on PostgreSQL), a real station home driven by `python -m app`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.store.db import open_store
from app.store.operators import add_operator
from server import audit_log, policy
from server.health import station_health
from tests.server.test_relay_pull import Look, provision_relay, start_relay
from tests.support.cli import run_station
from tests.support.residents import BUDI_LAKI, RATNA_PEREMPUAN, resident
from tests.support.server import ServerProcess
from tests.support.server_fixtures import add_station, server_cli, sqlite_only
from tests.support.station import face_jpeg
from tests.support.wait import wait_for

GUNUNG_KALER, KRONJO = "36.03.32", "36.03.07"


@sqlite_only
def test_policy_health_audit_and_moves_pass_through_the_relay(
    tmp_path: Path, db_url: str | None
) -> None:
    central = ServerProcess(tmp_path / "central", db_url).start()
    relay = None
    looks: list[Look] = []
    kit_home = tmp_path / "kit"

    def kit(*args: str, input: str | None = None) -> Any:
        return run_station("--home", str(kit_home), *args, input=input, timeout=120)

    def status() -> dict[str, Any]:
        return dict(json.loads(kit("status", "--json").stdout))

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
        with open_store(kit_home) as store:
            add_operator(store, "siti", "operator", "rahasia-siti-123")
            add_operator(store, "andi", "technician", "andi-password")
            add_operator(store, "rina", "supervisor", "rina-password")
        first = record(resident(BUDI_LAKI))
        assert kit("sync", "--once").returncode == 0
        wait_for(lambda: first in there.packets(), 60, "the first record upstream")

        # Policy down: set at the centre, taken by the relay's pull, received by the kit.
        res = server_cli(central, "policy", "set", "--station", kit_id, "backlog_max_unsent", "3")
        assert res.returncode == 0, res.stderr
        wait_for(
            lambda: (
                policy.effective_for(here.core.engine, here.station(kit_id))
                == {"backlog_max_unsent": "3"}
            ),
            30,
            "the relay to take the kit's central policy",
        )
        assert kit("sync", "--once").returncode == 0
        assert status()["policy"]["backlog_max_unsent"] == {"value": 3, "source": "central"}

        # Health and audit up: the kit reports to the relay, the relay passes them on.
        acked = status()["audit"]["acked_event"]
        assert acked is not None
        wait_for(
            lambda: (
                (station_health(there.core.engine, [kit_id]).get(kit_id) or {}).get("pending") == 0
            ),
            30,
            "the kit's health at the centre",
        )
        wait_for(
            lambda: audit_log.events(there.core.engine, kit_id)["count"] >= acked,
            30,
            "the kit's audit events at the centre",
        )
        listed = json.loads(server_cli(central, "station", "list", "--json").stdout)
        (mine,) = [s for s in listed["stations"] if s["station_id"] == kit_id]
        assert mine["health"]["pending"] == 0 and mine["health"]["last_seen"] is not None
        at_relay = audit_log.events(here.core.engine, kit_id)["events"]
        at_centre = json.loads(server_cli(central, "audit", "--station", kit_id, "--json").stdout)[
            "events"
        ]
        assert [e["hash"] for e in at_centre] == [e["hash"] for e in at_relay][: len(at_centre)]

        # An offline move: the relay is out of reach, the kit is moved and records in Kronjo.
        relay.stop()
        res = kit(
            "assign", "--kecamatan", KRONJO, "--technician", "andi", "--supervisor", "rina",
            "--reason", "dipinjam", input="andi-password\nrina-password\n",
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        moved = record(resident(RATNA_PEREMPUAN))
        relay.start()
        assert kit("sync", "--once").returncode == 0
        wait_for(lambda: moved in there.packets(), 60, "the record sealed in Kronjo upstream")
        assert there.packets()[moved]["kecamatan"] == KRONJO
        assert there.station(kit_id).kecamatan == KRONJO  # the centre took the move
        assert here.station(kit_id).kecamatan == KRONJO  # and the relay's pull keeps it

        # The centre's answer comes back through the relay's next pull from upstream: the kit
        # hears it on a sync after that.
        def outcome() -> str | None:
            assert kit("sync", "--once").returncode == 0
            return status()["assignment"]["central_outcome"]

        wait_for(lambda: outcome() is not None, 60, "the centre's outcome of the move")
        s = status()
        assert s["kecamatan"] == KRONJO
        assert s["assignment"]["central_outcome"].startswith("applied")
        moves = json.loads(server_cli(central, "audit", "--station", kit_id, "--json").stdout)[
            "moves"
        ]
        assert [(m["to"], m["approved_by"], m["outcome"]) for m in moves] == [
            (KRONJO, "rina", "applied")
        ]
    finally:
        for look in looks:
            look.close()
        if relay is not None:
            relay.stop()
        central.stop()
