"""Issue 12: policy from the centre, kit health and audit events to the centre, offline moves
reported upstream. A real server process (SQLite and PostgreSQL) and the real station
programs; the audit and move refusals against the server's signed API directly."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import protocol
from app.store.audit import GENESIS, chain_hash, verify_chain
from app.store.db import open_store
from app.store.operators import add_operator
from app.sync.provision import enroll
from app.sync.station import StationSync
from tests.support.cli import run_station
from tests.support.residents import BUDI_LAKI, RATNA_PEREMPUAN, resident
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, add_station, server_cli, sqlite_only
from tests.support.station import face_jpeg

GUNUNG_KALER = "36.03.32"
KRONJO = "36.03.07"


class Kit:
    """A station home provisioned against ``srv`` through the real programs."""

    def __init__(self, tmp_path: Path, srv: ServerProcess, name: str = "Kit 1") -> None:
        self.home = tmp_path / name.replace(" ", "_")
        self.srv = srv
        self.tmp = tmp_path
        code = add_station(srv, name=name, kecamatan=GUNUNG_KALER)
        res = self.cli("provision", "--server", srv.url, "--code", code)
        assert res.returncode == 0, res.stderr
        self.station_id = res.stdout.strip().splitlines()[-1]
        with open_store(self.home) as store:
            add_operator(store, "siti", "operator", "rahasia-siti-123")
        self.enrolled = 0

    def cli(self, *args: str, input: str | None = None) -> Any:
        return run_station("--home", str(self.home), *args, input=input, timeout=120)

    def status(self) -> dict[str, Any]:
        res = self.cli("status", "--json")
        assert res.returncode == 0, res.stderr
        return dict(json.loads(res.stdout))

    def enroll(self) -> Any:
        photo = self.tmp / "face.jpg"
        if not photo.exists():
            photo.write_bytes(face_jpeg())
        self.enrolled += 1
        bio = resident(
            BUDI_LAKI if self.enrolled % 2 else RATNA_PEREMPUAN,
            nik=f"36033212089{self.enrolled:05d}",
        )
        f = self.tmp / f"bio{self.enrolled}.json"
        f.write_text(json.dumps(bio))
        return self.cli(
            "enroll", "--operator", "siti", "--biodata", str(f), "--photo", str(photo),
            input="rahasia-siti-123\n",
        )  # fmt: skip


def stations(srv: ServerProcess) -> dict[str, dict[str, Any]]:
    res = server_cli(srv, "station", "list", "--json")
    assert res.returncode == 0, res.stderr
    return {s["station_id"]: s for s in json.loads(res.stdout)["stations"]}


# --- policy -----------------------------------------------------------------------------------


@sqlite_only
def test_policy_set_on_the_server_changes_the_kits_backlog_limit(
    tmp_path: Path, server: ServerProcess
) -> None:
    kit = Kit(tmp_path, server)
    assert kit.enroll().returncode == 0
    assert kit.enroll().returncode == 0
    # The kit's own limit (2000 unsent without a mirror) lets it go on recording.
    assert kit.status()["policy"]["backlog_max_unsent"] == {"value": 2000, "source": "default"}

    # A value out of range: refused with the reason, nothing stored.
    res = server_cli(
        server, "policy", "set", "--station", kit.station_id, "backlog_max_unsent", "0"
    )
    assert res.returncode == 2
    assert "VALUE: backlog_max_unsent: 0 is out of range" in res.stderr
    res = server_cli(server, "policy", "set", "idle_lock_minutes", "abc")
    assert res.returncode == 2 and "idle_lock_minutes" in res.stderr
    assert json.loads(server_cli(server, "policy", "show", "--json").stdout)["values"] == []

    # Set for the kit's kecamatan, then narrower for the kit itself: the kit's wins.
    res = server_cli(server, "policy", "set", "--kecamatan", "360332", "backlog_max_unsent", "9")
    assert res.returncode == 0, res.stderr
    res = server_cli(
        server, "policy", "set", "--station", kit.station_id, "backlog_max_unsent", "3"
    )
    assert res.returncode == 0, res.stderr
    res = server_cli(server, "policy", "set", "retention_days", "7", "--by", "kasi")
    assert res.returncode == 0, res.stderr
    shown = json.loads(
        server_cli(server, "policy", "show", "--station", kit.station_id, "--json").stdout
    )
    assert shown["policy"] == {"backlog_max_unsent": "3", "retention_days": "7"}

    # Stop the server: the kit has not heard of the limit yet, and keeps recording.
    server.stop()
    assert kit.enroll().returncode == 0
    server.start()
    res = kit.cli("sync", "--once")
    assert res.returncode == 0, res.stderr
    status = kit.status()
    assert status["policy"]["backlog_max_unsent"] == {"value": 3, "source": "central"}
    assert status["policy"]["retention_days"] == {"value": 7, "source": "central"}
    assert status["policy"]["backlog_max_age_h"]["source"] == "default"  # unset: local default
    assert "backlog_max_unsent 3" in kit.cli("status").stdout

    # The station cannot change a centrally set key; it can change one the centre leaves.
    res = kit.cli("settings", "set", "backlog_max_unsent", "100")
    assert res.returncode == 2
    assert "backlog_max_unsent" in res.stderr and "central office" in res.stderr
    assert kit.cli("settings", "set", "backlog_max_age_h", "48").returncode == 0

    # Offline again: at three unsent records the kit refuses the fourth.
    server.stop()
    for _ in range(3):
        assert kit.enroll().returncode == 0
    refused = kit.enroll()
    assert refused.returncode != 0
    assert "limit 3" in refused.stderr
    assert kit.status()["backlog"] == "refuse"

    # The office takes the kit's key away again: the kit's own value (none: default) returns.
    assert (
        server_cli(
            server, "policy", "unset", "--station", kit.station_id, "backlog_max_unsent"
        ).returncode
        == 0
    )
    server.start()
    assert kit.cli("sync", "--once").returncode == 0
    status = kit.status()
    assert status["policy"]["backlog_max_unsent"] == {"value": 9, "source": "central"}
    assert status["policy"]["backlog_max_age_h"] == {"value": 48.0, "source": "local"}
    assert status["pending"] == 0


def test_a_policy_value_out_of_a_kits_range_is_not_applied(tmp_path: Path) -> None:
    """A signed answer with a value the station cannot take leaves that key alone and
    applies the rest (a server of a newer release with wider ranges)."""
    from app.store.central import store_policy
    from app.store.settings import SettingError, load_settings, set_setting
    from tests.support.station import make_station

    st = make_station(tmp_path)
    with st.open() as store:
        in_force, problems = store_policy(
            store, {"retention_days": "0", "backlog_max_age_h": "12", "no_such_key": "1"}
        )
        assert in_force == {"backlog_max_age_h": "12"}
        assert len(problems) == 2 and any("retention_days" in p for p in problems)
        assert load_settings(store).backlog_max_age_h == 12.0
        assert load_settings(store).retention_days == 30
        # The seal path reads the settings through a raw cursor: the central value there too.
        with store.write_raw() as cur:
            assert load_settings(cur).backlog_max_age_h == 12.0
        with pytest.raises(SettingError, match="central office"):
            set_setting(store, "backlog_max_age_h", "99", actor="test")
        set_setting(store, "retention_days", "10", actor="test")  # not set centrally
        # The centre drops the key: the local value (none here: the default) is back.
        store_policy(store, {})
        assert load_settings(store).backlog_max_age_h == 72.0
        assert load_settings(store).retention_days == 10


# --- health -----------------------------------------------------------------------------------


@sqlite_only
def test_station_list_shows_the_kits_last_seen_and_pending_count(
    tmp_path: Path, server: ServerProcess
) -> None:
    kit = Kit(tmp_path, server)
    assert stations(server)[kit.station_id]["health"] is None  # never reported
    assert kit.enroll().returncode == 0
    assert kit.enroll().returncode == 0
    with open_store(kit.home) as store:
        sync = StationSync(store)
        sync.pull_assignment()
        assert sync.report_to_centre() == []
    health = stations(server)[kit.station_id]["health"]
    assert health["pending"] == 2
    assert health["oldest_unsent_s"] is not None and health["oldest_unsent_s"] >= 0
    assert health["last_seen"] is not None
    assert health["last_seal_at"] is not None
    assert health["version"]
    assert health["disk_free_bytes"] > 0
    assert health["mirror"] == "off"
    assert health["camera"] in ("ok", "missing") and health["reader"] in ("ok", "missing", "off")
    assert abs(health["clock_offset_s"]) < 5
    first_seen = health["last_seen"]

    assert kit.cli("sync", "--once").returncode == 0
    health = stations(server)[kit.station_id]["health"]
    assert health["pending"] == 0 and health["oldest_unsent_s"] is None
    assert health["last_seen"] > first_seen

    # The office page's Kit list reads the same reports (server/web/kits.py).
    from server.core import ServerCore
    from server.web.kits import kit_rows

    core = ServerCore(server.home, server.db_url)
    try:
        (row,) = [r for r in kit_rows(core) if r.station.id == kit.station_id]
        assert row.health.pending == 0 and row.health.last_seen is not None
        assert row.health.devices is not None and "mirror off" in row.health.devices
    finally:
        core.close()


def test_a_malformed_health_report_is_refused_and_nothing_stored(
    tmp_path: Path, server: ServerProcess
) -> None:
    ts = TestStation.enroll(server)
    path = protocol.API_PREFIX + "/station/health"
    for doc, field in (
        ({"pending": -1}, "pending"),
        ({"pending": "many"}, "pending"),
        ({"camera": "broken"}, "camera"),
        ({"version": "x" * 100}, "version"),
    ):
        resp = ts.signed("POST", path, json.dumps(doc).encode())
        assert resp.status_code == 400, resp.text
        assert field in resp.json()["detail"]
    assert stations(server)[ts.station_id]["health"] is None
    resp = ts.signed("POST", path, json.dumps({"pending": 4, "camera": "ok"}).encode())
    assert resp.status_code == 200, resp.text
    assert stations(server)[ts.station_id]["health"]["pending"] == 4
    # Unsigned: refused.
    resp = ts.session.post(server.url + path, json={"pending": 1}, timeout=10)
    assert resp.status_code == 401


# --- audit ------------------------------------------------------------------------------------


def _rehash_from(db: Path, first: int) -> None:
    """Re-hash the chain from event ``first`` on, as someone covering an edit would."""
    con = sqlite3.connect(db)
    rows = con.execute("SELECT id, at, actor, kind, detail FROM audit_event ORDER BY id").fetchall()
    prev = GENESIS
    from app.store.timeutil import iso, parse_store_time

    for event_id, at, actor, kind, detail in rows:
        if event_id >= first:
            digest = chain_hash(
                prev, event_id, iso(parse_store_time(at)), actor, kind, json.loads(detail)
            )
            con.execute(
                "UPDATE audit_event SET prev_hash = ?, hash = ? WHERE id = ?",
                (prev, digest, event_id),
            )
        prev = con.execute("SELECT hash FROM audit_event WHERE id = ?", (event_id,)).fetchone()[0]
    con.commit()
    con.close()


@sqlite_only
def test_a_rehashed_audit_chain_makes_doctor_fail(tmp_path: Path, server: ServerProcess) -> None:
    kit = Kit(tmp_path, server)
    assert kit.enroll().returncode == 0
    assert kit.cli("sync", "--once").returncode == 0
    acked = kit.status()["audit"]["acked_event"]
    assert acked is not None and acked >= 3
    held = json.loads(server_cli(server, "audit", "--station", kit.station_id, "--json").stdout)
    assert held["count"] == acked
    assert [e["seq"] for e in held["events"]] == list(range(1, acked + 1))
    assert held["events"][0]["kind"] == "station.initialized"
    doc = json.loads(kit.cli("doctor", "--json").stdout)
    centre = next(c for c in doc["checks"] if c["name"] == "audit_centre")
    assert centre["status"] == "ok"

    # Someone edits event 2 on the kit and re-hashes the chain: it verifies on its own...
    db = kit.home / "station.db"
    con = sqlite3.connect(db)
    con.execute("UPDATE audit_event SET actor = 'mallory' WHERE id = 2")
    con.commit()
    con.close()
    _rehash_from(db, 2)
    with open_store(kit.home) as store:
        assert verify_chain(store).ok
    # ...but not against what the centre acknowledged.
    res = kit.cli("doctor", "--json")
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    audit = next(c for c in doc["checks"] if c["name"] == "audit")
    assert audit["status"] == "ok"
    centre = next(c for c in doc["checks"] if c["name"] == "audit_centre")
    assert centre["status"] == "fail"
    assert f"audit event {acked} differs" in centre["message"]
    assert "re-hashed" in centre["message"]

    # The next events do not continue the chain the centre holds: refused, nothing stored.
    assert kit.enroll().returncode == 0
    with open_store(kit.home) as store:
        sync = StationSync(store)
        errors = sync.report_to_centre()
    assert any("does not continue the chain" in e for e in errors), errors
    again = json.loads(server_cli(server, "audit", "--station", kit.station_id, "--json").stdout)
    assert again["count"] == acked
    assert again["events"][1]["actor"] != "mallory"


def _events(
    n: int, start: int = 1, prev: str = GENESIS, actor: str = "siti"
) -> list[dict[str, Any]]:
    out = []
    for seq in range(start, start + n):
        at = f"2026-12-07T01:00:{seq:02d}.000Z"
        ev: dict[str, Any] = {
            "seq": seq,
            "at": at,
            "actor": actor,
            "kind": "record.sealed",
            "detail": json.dumps({"n": seq}, separators=(",", ":")),
            "prev_hash": prev,
        }
        prev = chain_hash(prev, seq, at, actor, "record.sealed", {"n": seq})
        ev["hash"] = prev
        out.append(ev)
    return out


def test_audit_upload_is_idempotent_and_a_broken_chain_is_refused_whole(
    tmp_path: Path, server: ServerProcess
) -> None:
    ts = TestStation.enroll(server)
    path = protocol.API_PREFIX + "/station/audit"

    def post(events: list[dict[str, Any]]) -> Any:
        return ts.signed("POST", path, json.dumps({"events": events}).encode())

    def held() -> list[int]:
        doc = json.loads(server_cli(server, "audit", "--station", ts.station_id, "--json").stdout)
        return [e["seq"] for e in doc["events"]]

    first = _events(3)
    resp = post(first)
    assert resp.status_code == 200, resp.text
    assert resp.json()["acked_seq"] == 3 and resp.json()["acked_hash"] == first[-1]["hash"]
    # The same page again (the answer was lost): taken, nothing doubled.
    resp = post(first)
    assert resp.status_code == 200 and resp.json()["stored"] == 0
    # A page that overlaps and goes on: the new events only.
    more = _events(3, 4, first[-1]["hash"])
    resp = post(first[1:] + more[:1])
    assert resp.status_code == 200 and resp.json()["stored"] == 1
    assert held() == [1, 2, 3, 4]

    # A gap, a wrong previous hash, a hash that is not the content's, an event changed
    # after it was held: each refused with its reason, and nothing of the page stored.
    gap = more[2:]
    broken = _events(2, 5, "f" * 64)
    forged = [dict(more[1], hash="0" * 64)]
    altered = [dict(first[0], actor="mallory")]  # the hash left as it was
    changed = [
        dict(
            first[0],
            actor="mallory",
            hash=chain_hash(GENESIS, 1, first[0]["at"], "mallory", "record.sealed", {"n": 1}),
        )
    ]
    for page, reason in (
        (gap, "audit_gap"),
        (broken, "audit_chain_break"),
        (forged, "audit_hash"),
        (altered, "audit_hash"),
        (changed, "audit_chain_diverges"),
    ):
        resp = post(page)
        assert resp.status_code == 409, resp.text
        assert resp.json()["error"] == reason
        assert held() == [1, 2, 3, 4]
    # Malformed: 400 naming the field.
    resp = post([dict(more[1], seq="five")])
    assert resp.status_code == 400 and "seq" in resp.json()["detail"]
    resp = post(more[1:])
    assert resp.status_code == 200 and held() == [1, 2, 3, 4, 5, 6]
    res = server_cli(server, "audit", "--station", "no-such-kit", "--json")
    assert res.returncode == 2 and "--station" in res.stderr

    # The kit is set up again (a new home and key, the same station id: `station code ID`):
    # its new chain starts at 1 and is taken; the earlier one is kept.
    code = server_cli(server, "station", "code", ts.station_id).stdout.strip().splitlines()[-1]
    new_key = Ed25519PrivateKey.generate()
    assert enroll(server.url, code, new_key.public_key()).station_id == ts.station_id
    ts.key = new_key
    resp = post(_events(2, actor="tech"))
    assert resp.status_code == 200, resp.text
    doc = json.loads(server_cli(server, "audit", "--station", ts.station_id, "--json").stdout)
    assert doc["count"] == 2 and [e["actor"] for e in doc["events"]] == ["tech", "tech"]
    assert [c["count"] for c in doc["earlier_chains"]] == [6]


# --- moves made offline -----------------------------------------------------------------------


def _move_offline(kit: Kit, kecamatan: str) -> None:
    with open_store(kit.home) as store:
        add_operator(store, "andi", "technician", "andi-password")
        add_operator(store, "rina", "supervisor", "rina-password")
    res = kit.cli(
        "assign",
        "--kecamatan",
        kecamatan,
        "--technician",
        "andi",
        "--supervisor",
        "rina",
        "--reason",
        "dipinjam Kronjo",
        input="andi-password\nrina-password\n",
    )
    assert res.returncode == 0, res.stderr


@sqlite_only
def test_an_offline_move_is_reported_and_kept(tmp_path: Path, server: ServerProcess) -> None:
    kit = Kit(tmp_path, server)
    server.stop()  # the WAN is down: the kit is moved to Kronjo and records there
    _move_offline(kit, KRONJO)
    assert kit.enroll().returncode == 0
    assert kit.status()["assignment"]["central_outcome"] is None
    assert "not yet reported" in kit.cli("status").stdout
    server.start()
    res = kit.cli("sync", "--once")
    assert res.returncode == 0, res.stderr
    status = kit.status()
    assert status["kecamatan"] == KRONJO  # not reverted by the server's older assignment
    assert status["pending"] == 0  # the record sealed in Kronjo was accepted
    a = status["assignment"]
    assert a["source"] == "offline_move" and a["approved_by"] == "rina" and a["set_by"] == "andi"
    assert a["central_outcome"].startswith("applied")
    assert stations(server)[kit.station_id]["kecamatan"] == KRONJO
    listed = json.loads(server_cli(server, "packets", "--json").stdout)["packets"]
    assert [p["kecamatan"] for p in listed] == [KRONJO]
    assert all(p["review"] is None for p in listed)
    moves = json.loads(server_cli(server, "audit", "--station", kit.station_id, "--json").stdout)[
        "moves"
    ]
    assert len(moves) == 1
    m = moves[0]
    assert (m["from"], m["to"], m["moved_by"], m["approved_by"], m["outcome"]) == (
        GUNUNG_KALER,
        KRONJO,
        "andi",
        "rina",
        "applied",
    )
    # Reported once: the next sync sends nothing more and changes nothing.
    assert kit.cli("sync", "--once").returncode == 0
    assert (
        len(
            json.loads(server_cli(server, "audit", "--station", kit.station_id, "--json").stdout)[
                "moves"
            ]
        )
        == 1
    )


@sqlite_only
def test_a_central_assignment_made_after_the_move_wins(
    tmp_path: Path, server: ServerProcess
) -> None:
    kit = Kit(tmp_path, server)
    server.stop()
    _move_offline(kit, KRONJO)
    server.start()
    # The office, not knowing, assigns the kit elsewhere after the move.
    res = server_cli(server, "station", "assign", kit.station_id, "--kecamatan", "36.03.31")
    assert res.returncode == 0, res.stderr
    assert kit.cli("sync", "--once").returncode == 0
    status = kit.status()
    assert status["kecamatan"] == "36.03.31"
    assert status["assignment"]["source"] == "central"
    con = sqlite3.connect(kit.home / "station.db")
    (outcome,) = con.execute(
        "SELECT central_outcome FROM assignment WHERE approved_by = 'rina'"
    ).fetchone()
    con.close()
    assert outcome.startswith("superseded") and "36.03.31" in outcome
    moves = json.loads(server_cli(server, "audit", "--station", kit.station_id, "--json").stdout)[
        "moves"
    ]
    assert [m["outcome"] for m in moves] == ["superseded"]


def test_a_malformed_move_report_is_refused(tmp_path: Path, server: ServerProcess) -> None:
    ts = TestStation.enroll(server)
    path = protocol.API_PREFIX + "/station/moves"
    good = {
        "moved_at": "2026-12-07T01:00:00Z",
        "from": GUNUNG_KALER,
        "to": KRONJO,
        "moved_by": "andi",
        "approved_by": "rina",
    }
    for bad, field in (
        (dict(good, to="99.99.99"), "to"),
        (dict(good, moved_at="yesterday"), "moved_at"),
        (dict(good, moved_at="2999-01-01T00:00:00Z"), "moved_at"),
        (dict(good, approved_by=""), "approved_by"),
    ):
        resp = ts.signed("POST", path, json.dumps({"moves": [good, bad]}).encode())
        assert resp.status_code == 400, resp.text
        assert field in resp.json()["detail"]
    assert stations(server)[ts.station_id]["kecamatan"] == GUNUNG_KALER
    doc = json.loads(server_cli(server, "audit", "--station", ts.station_id, "--json").stdout)
    assert doc["moves"] == []


def test_pointing_the_kit_at_another_server_forgets_the_audit_acknowledgement(
    tmp_path: Path,
) -> None:
    """The acknowledgement was that server's: a new server gets the chain from its start,
    and doctor does not compare the chain with an acknowledgement of another server."""
    from app.store.central import audit_ack, check_ack, set_audit_ack
    from app.store.station import update_server
    from tests.support.station import make_server_key, make_station

    st = make_station(tmp_path)
    _, key_file = make_server_key(tmp_path / "other")
    with st.open() as store:
        with store.read() as session:
            from app.store.models import AuditEvent

            first = session.get(AuditEvent, 1)
            assert first is not None
            digest = first.hash
        set_audit_ack(store, 1, digest)
        assert audit_ack(store) is not None and check_ack(store)[0]
        update_server(
            store, "http://10.0.0.9:8000", key_file.read_bytes(), st.identity().station_id
        )
        assert audit_ack(store) is None
        assert check_ack(store) == (True, "no audit event acknowledged by the centre yet")
