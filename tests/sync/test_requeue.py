"""Rejected records wait for a technician: `sync --once` says so (exit 1), `status` counts
them, `requeue` sends them again (audited); bad input is exit 2 naming the field."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from app import packet as pkt
from app import protocol
from app.store.db import open_store
from app.store.outbox import Outbox
from app.store.station import get_identity
from app.sync.station import StationSync
from tests.support.cli import run_station
from tests.support.server import ServerProcess
from tests.support.server_fixtures import server_cli
from tests.sync.helpers import provisioned_home, seal_n


def _one_error_line(stderr: str, field: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert field in lines[0], lines[0]


def test_rejected_wait_then_requeue_sends_them(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "server") as srv:
        home = provisioned_home(tmp_path / "station", srv)

        def station(*args: str):  # type: ignore[no-untyped-def]
            return run_station("--home", str(home), *args, timeout=120)

        with open_store(home) as store:
            a, b, c = seal_n(store, 3)
            # What the server refused earlier (a rule since fixed at the central office).
            Outbox(store).mark_rejected(a, "HTTP 422: kode_wilayah: unknown code")
            Outbox(store).mark_rejected(b, "HTTP 422: kode_wilayah: unknown code")

        r = station("sync", "--once", "--json")
        assert r.returncode == 1, r.stderr  # not caught up: two records wait
        doc = json.loads(r.stdout)
        assert (doc["uploaded"], doc["remaining"], doc["rejected_waiting"]) == (1, 2, 2)
        assert "requeue" in r.stderr

        r = station("status", "--json")
        doc = json.loads(r.stdout)
        assert doc["records"]["rejected"] == 2 and doc["pending"] == 2
        assert doc["pending_rejected"] == 2 and doc["oldest_pending_age_s"] is not None
        assert doc["sync"]["backlog"]["rejected"] == 2
        assert doc["sync"]["exposure_window"]["current_s"] > 0
        assert any("rejected" in w for w in doc["warnings"])

        # bad input: exit 2 naming the field, nothing changed
        before = _audit_count(home)
        for args in ([], ["--all", a], ["not-a-uuid"], [a, c]):
            r = station("requeue", *args)
            assert r.returncode == 2, (args, r.stderr)
            _one_error_line(r.stderr, "uuid")
        assert _audit_count(home) == before

        r = station("requeue", a.upper(), "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == {"requeued": [a], "count": 1}
        r = station("requeue", "--all")
        assert r.returncode == 0, r.stderr
        assert b in r.stdout and "requeued 1" in r.stdout
        assert _audit_count(home) == before + 2

        r = station("sync", "--once", "--json")
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        assert (doc["uploaded"], doc["remaining"], doc["rejected_waiting"]) == (2, 0, 0)
        held = json.loads(server_cli(srv, "packets", "--json").stdout)["packets"]
        assert {a, b, c} <= {p["uuid"] for p in held}


def _audit_count(home: Path) -> int:
    con = sqlite3.connect(home / "station.db")
    try:
        return int(
            con.execute(
                "SELECT count(*) FROM audit_event WHERE kind = 'record.requeued'"
            ).fetchone()[0]
        )
    finally:
        con.close()


def test_status_names_each_rejected_record_and_its_reason(tmp_path: Path) -> None:
    """The server refuses a packet for good (its own signed 409: the uuid holds other bytes):
    `status` must show which record and why, the UUID a technician passes to `requeue` and the
    reason to act on, not a count only."""
    with ServerProcess(tmp_path / "server") as srv:
        home = provisioned_home(tmp_path / "station", srv)
        with open_store(home) as store:
            (big, _), *_ = seal_n(store, 1).items()
            (small, _), *_ = seal_n(store, 1, start=1).items()
            ident = get_identity(store)
            assert ident is not None
            other = pkt.seal(
                {"uuid": big, "biodata": {}},
                [pkt.Attachment("face.jpg", "image/jpeg", b"other bytes")],
                uuid=big,
                station_id=ident.station_id,
                kecamatan=ident.kecamatan,
                server_public_key=ident.server_public_key,
                station_key=ident.signing_key,
            )
            engine = StationSync(store).engine
            put = engine.request(
                "PUT", protocol.packet_path(big), other.data, protocol.PACKET_CONTENT_TYPE
            )
            assert put.status_code == 201, put.text

        r = run_station("--home", str(home), "sync", "--once", "--json", timeout=120)
        doc = json.loads(r.stdout)
        assert (doc["uploaded"], doc["rejected"]) == (1, 1), r.stdout + r.stderr
        with open_store(home) as store:
            (entry,) = [e for e in Outbox(store).recent() if e.uuid == big]
            assert entry.status == "rejected" and entry.last_error and "409" in entry.last_error

        r = run_station("--home", str(home), "status", "--json")
        assert r.returncode == 0, r.stderr
        doc = json.loads(r.stdout)
        (rej,) = doc["rejected_records"]
        assert rej["uuid"] == big and rej["reason"] == entry.last_error
        assert rej["sealed_at"]

        r = run_station("--home", str(home), "status")
        assert r.returncode == 0, r.stderr
        (line,) = [x for x in r.stdout.splitlines() if big in x]
        assert "409" in line
        assert small not in r.stdout
