"""Requests a hostile client sends, against a real server process (SQLite and PostgreSQL):
station takeover with another station's code, squatting another station's record, forged
labels, and malformed bodies that must get the server's JSON error, not a plain-text 500
(issue 18, items 3, 4, 5 and 7)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from uuid6 import uuid7

from app import packet as pkt
from app import protocol
from app.sync.provision import enroll
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, add_station, server_cli, sqlite_only

ENROLL = protocol.API_PREFIX + "/stations/enroll"


def _stations(srv: ServerProcess) -> dict[str, dict[str, Any]]:
    res = server_cli(srv, "station", "list", "--json")
    assert res.returncode == 0, res.stderr
    return {s["station_id"]: s for s in json.loads(res.stdout)["stations"]}


def _enroll_body(code: str, key: Ed25519PrivateKey, station_id: str | None = None) -> bytes:
    doc = {"code": code, "public_key": pkt.signing_public_key_b64(key.public_key())}
    if station_id is not None:
        doc["station_id"] = station_id
    return json.dumps(doc).encode()


@sqlite_only
def test_a_code_redeems_only_its_own_station(server: ServerProcess) -> None:
    """Item 3: a kit's code naming a pending relay's station id took the relay over (the
    attacker's key bound to it, relay rights kept) and vouched for a made-up station."""
    relay_code = add_station(server, name="Relay kecamatan", relay=True)
    kit_code = add_station(server, name="Kit biasa")
    (relay_id,) = [sid for sid, s in _stations(server).items() if s["relay"]]
    attacker = Ed25519PrivateKey.generate()
    resp = requests.post(
        server.url + ENROLL, data=_enroll_body(kit_code, attacker, relay_id), timeout=10
    )
    assert resp.status_code == 409, resp.text
    assert resp.json()["error"] == "station_not_yours"
    assert relay_id in resp.json()["detail"]
    relay = _stations(server)[relay_id]
    assert relay["state"] == "awaiting_enrollment" and relay["key_id"] is None

    # The attacker's key vouches for nothing: it holds no station.
    fake = {
        "station_id": "made-up-kit",
        "kecamatan": "36.03.32",
        "public_key": pkt.signing_public_key_b64(Ed25519PrivateKey.generate().public_key()),
    }
    raw = json.dumps(fake).encode()
    headers = protocol.sign_request("POST", "/api/v1/stations/vouch", raw, relay_id, attacker)
    vouch = requests.post(
        server.url + "/api/v1/stations/vouch", data=raw, headers=headers, timeout=10
    )
    assert vouch.status_code == 401, vouch.text
    assert "made-up-kit" not in _stations(server)

    # The refusal rolled back: both codes still work for their own stations.
    kit = TestStation.enroll(server, code=kit_code)
    assert not _stations(server)[kit.station_id]["relay"]
    real_relay = TestStation.enroll(server, code=relay_code)
    assert real_relay.station_id == relay_id and _stations(server)[relay_id]["relay"]


def test_an_offline_id_takes_its_rights_from_the_code(server: ServerProcess) -> None:
    """A kit set up offline keeps its own new id; relay rights come from the code's station
    (a relay's code), never from the request."""
    relay_code = add_station(server, name="Relay offline", relay=True)
    key = Ed25519PrivateKey.generate()
    resp = requests.post(
        server.url + ENROLL, data=_enroll_body(relay_code, key, "relay-offline-1"), timeout=10
    )
    assert resp.status_code == 200, resp.text
    assert _stations(server)["relay-offline-1"]["relay"] is True


def test_malformed_bodies_get_the_json_error_shape(server: ServerProcess) -> None:
    """Item 7: JSON nested too deeply for the parser (RecursionError) gave a plain-text 500
    at /stations/enroll and /stations/vouch; a JSON list at /stations/vouch too. Every error
    is the server's {"error", "detail"} with a 4xx."""
    relay = TestStation.enroll(server, name="Relay", relay=True)
    nested = b"[" * 100_000 + b"]" * 100_000  # above the 64 KiB cap of these bodies
    deep = b"[" * 30_000 + b"]" * 30_000  # 60 000 bytes: under it, too deep to parse
    too_big = requests.post(server.url + ENROLL, data=nested, timeout=10)
    assert too_big.status_code == 413 and too_big.json()["error"] == "too_large"
    for body in (deep, b'{"code": ' * 20_000, b"[1, 2]", b"\xff\xfe", b'{"code": 5}'):
        resp = requests.post(server.url + ENROLL, data=body, timeout=10)
        assert 400 <= resp.status_code < 500, resp.text
        assert set(resp.json()) == {"error", "detail"}, resp.text
        vouch = relay.signed("POST", "/api/v1/stations/vouch", body)
        assert 400 <= vouch.status_code < 500, vouch.text
        assert set(vouch.json()) == {"error", "detail"}, vouch.text
    assert relay.signed("POST", "/api/v1/stations/vouch", deep).json()["error"] == "invalid_json"


def test_a_database_failure_is_503_json_with_retry_after(server: ServerProcess) -> None:
    """Item 7: a database that fails answers 503 in the JSON shape with Retry-After, on both
    upload paths (PostgreSQL's one statement, server/ingest.py, and the general one), so the
    station keeps its record and retries; here the packets table is renamed under the
    running server, then put back, and the same record goes through."""
    from sqlalchemy import create_engine, text

    st = TestStation.enroll(server)
    url = server.db_url or f"sqlite:///{server.home / 'server.db'}"
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE packets RENAME TO packets_away"))
        p = st.seal()
        for _ in range(3):
            resp = st.put(p)
            assert resp.status_code == 503, resp.text
            assert resp.json()["error"] == "database_unavailable"
            assert resp.headers["Retry-After"].isdigit()
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE packets_away RENAME TO packets"))
        assert st.put(p).status_code == 201
    finally:
        engine.dispose()


def test_server_home_database_and_decrypted_files_are_private(
    server: ServerProcess, tmp_path: Path
) -> None:
    """Item 7: the server home is 0700 and its SQLite database 0600 (with its -wal file);
    `open-packet --out` writes the decrypted files 0600 in a 0700 folder, and refuses a
    folder other users can read (exit 2, nothing written)."""
    st = TestStation.enroll(server)
    p = st.seal()
    assert st.put(p).status_code == 201
    assert server.home.stat().st_mode & 0o777 == 0o700
    if server.db_url is None:
        for f in server.home.glob("server.db*"):
            assert f.stat().st_mode & 0o777 == 0o600, f
    out = tmp_path / "decrypted" / "p1"
    res = server_cli(server, "open-packet", p.uuid, "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert out.stat().st_mode & 0o777 == 0o700
    files = list(out.iterdir())
    assert files and all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    res = server_cli(server, "open-packet", p.uuid, "--out", str(shared))
    assert res.returncode == 2 and "--out" in res.stderr, res.stderr
    assert list(shared.iterdir()) == []


def _seal(st: TestStation, **header: Any) -> pkt.SealedPacket:
    """A packet of ``st`` with header fields of the test's choosing (kecamatan, sealed_at,
    uuid, station_id)."""
    u = header.pop("uuid", None) or str(uuid7())
    station_id = header.pop("station_id", st.station_id)
    return pkt.seal(
        {"uuid": u, "station_id": station_id},
        [pkt.Attachment("face.jpg", "image/jpeg", u.encode() * 8)],
        uuid=u,
        station_id=station_id,
        kecamatan=header.pop("kecamatan", st.kecamatan),
        server_public_key=st.server_key,
        station_key=st.key,
        **header,
    )


def _packets(srv: ServerProcess) -> list[dict[str, Any]]:
    res = server_cli(srv, "packets", "--json")
    assert res.returncode == 0, res.stderr
    return list(json.loads(res.stdout)["packets"])


def test_no_station_can_occupy_another_stations_record(
    server: ServerProcess, tmp_path: Path
) -> None:
    """Item 4: a station uploaded its own packet under the uuid of another station's unsent
    record, which then got 409 for ever; an upper-cased uuid was stored as a second packet;
    an import of an unknown station's file took the uuid of that station's real record. A
    packet is identified within its station now, and uuids are canonical."""
    a, b = TestStation.enroll(server), TestStation.enroll(server, name="Kit B")
    real = a.seal()
    squat = b.seal(uuid=real.uuid)  # B's own packet, under A's uuid, uploaded first
    assert b.put(squat).status_code == 201
    first = a.put(real)
    assert first.status_code == 201, first.text
    assert first.json()["station"] == a.station_id
    for st in (a, b):  # each station's status of that uuid is its own packet
        status = st.signed("GET", protocol.packet_path(real.uuid))
        assert status.status_code == 200 and status.json()["station"] == st.station_id
    assert sorted(p["station"] for p in _packets(server)) == sorted([a.station_id, b.station_id])

    upper = _seal(a, uuid=str(uuid7()).upper())
    resp = a.put(upper)
    assert resp.status_code == 400 and "uuid" in resp.json()["detail"], resp.text
    lower = a.seal()
    assert a.put(lower).status_code == 201
    again = _seal(a, uuid=lower.uuid.upper())
    assert a.put(again).status_code == 400
    assert len(_packets(server)) == 3

    # An import of a file made up for a station not enrolled yet (an offline kit's id)
    # does not take its record: the kit's own signed packet replaces the unverified one.
    export = tmp_path / "export"
    export.mkdir()
    liar = TestStation(
        a.url, "offline-kit-3", Ed25519PrivateKey.generate(), a.server_key, a.kecamatan
    )
    forged = liar.seal(nama="PALSU")
    (export / "x.ektp").write_bytes(forged.data)
    res = server_cli(server, "import", str(export), "--json")
    assert res.returncode == 0 and json.loads(res.stdout)["unverified"] == 1, res.stdout
    key = Ed25519PrivateKey.generate()
    e = enroll(server.url, add_station(server, name="Kit offline"), key.public_key(),
               station_id="offline-kit-3")  # fmt: skip
    kit = TestStation(server.url, e.station_id, key, a.server_key, e.kecamatan)
    own = kit.seal(uuid=forged.uuid)
    resp = kit.put(own)
    assert resp.status_code == 201, resp.text
    (held,) = [p for p in _packets(server) if p["station"] == "offline-kit-3"]
    assert held["verified"] is True and held["sha256"] == resp.json()["sha256"]
    assert kit.put(own).status_code == 200


def _at(offset_s: float) -> str:
    """An ISO 8601 sealing time ``offset_s`` from now (UTC, as stations write it)."""
    when = datetime.now(UTC) + timedelta(seconds=offset_s)
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _enrolled_days_ago(srv: ServerProcess, station_id: str, days: float) -> None:
    """Move a station's creation, enrollment and first assignment ``days`` back in its
    server's database (the test cannot wait for a reassignment days later)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(srv.db_url or f"sqlite:///{srv.home / 'server.db'}")
    shift = {"s": days * 86_400, "id": station_id}
    try:
        with engine.begin() as conn:
            for sql in (
                "UPDATE stations SET created_at = created_at - :s, enrolled_at = enrolled_at "
                "- :s, assigned_at = assigned_at - :s WHERE id = :id",
                "UPDATE station_keys SET added_at = added_at - :s WHERE station_id = :id",
                "UPDATE station_assignments SET since = since - :s WHERE station_id = :id",
            ):
                conn.execute(text(sql), shift)
    finally:
        engine.dispose()


@sqlite_only
def test_labels_are_checked_not_believed(server: ServerProcess, tmp_path: Path) -> None:
    """Item 5: any enrolled station (or a thief with its key) filed packets under any
    kecamatan (99.99.99, <script>) and any sealed_at. Now: a kecamatan of the region list
    that the station had been assigned when it sealed, a sealed_at not in the future; one
    sealed before the station was enrolled here cannot be confirmed: stored, quarantined."""
    st = TestStation.enroll(server)  # assigned 36.03.32
    _enrolled_days_ago(server, st.station_id, 2)
    refused = {
        "bad_kecamatan": [_seal(st, kecamatan="99.99.99"), _seal(st, kecamatan="<script>")],
        "kecamatan_not_assigned": [_seal(st, kecamatan="36.03.07")],
        "sealed_in_future": [_seal(st, sealed_at=_at(86_400)), _seal(st, sealed_at=_at(900))],
        "bad_sealed_at": [_seal(st, sealed_at="kemarin")],
    }
    for reason, packets in refused.items():
        for p in packets:
            resp = st.put(p)
            assert resp.status_code == 400, resp.text
            assert resp.json()["error"] == reason, resp.text
    assert _packets(server) == []
    assert st.put(_seal(st, sealed_at=_at(60))).status_code == 201  # within the clock skew

    # Reassigned: the new kecamatan counts from then, the old one still (the station may
    # not have pulled the new one yet); the new one never for a time before.
    moved = server_cli(server, "station", "assign", st.station_id, "--kecamatan", "36.03.07")
    assert moved.returncode == 0, moved.stderr
    assert st.put(_seal(st, kecamatan="36.03.07")).status_code == 201
    assert st.put(_seal(st, kecamatan="36.03.32")).status_code == 201
    backdated = st.put(_seal(st, kecamatan="36.03.07", sealed_at=_at(-3600)))
    assert backdated.status_code == 400, backdated.text
    assert backdated.json()["error"] == "kecamatan_not_assigned"

    # Sealed before the station was enrolled (or even added) here: an offline kit's record
    # or a forgery; kept, quarantined, for the office.
    early = [
        _seal(st, kecamatan="36.03.08", sealed_at=_at(-3 * 86_400)),
        _seal(st, kecamatan="36.03.32", sealed_at=_at(-3 * 86_400)),
    ]
    for p in early:
        assert st.put(p).status_code == 201
    by_uuid = {p["uuid"]: p for p in _packets(server)}
    for p in early:
        assert by_uuid[p.uuid]["review"] == "quarantined"
        assert "before station" in by_uuid[p.uuid]["review_reason"]
    assert sum(p["review"] is None for p in by_uuid.values()) == 3

    # The same checks on import.
    export = tmp_path / "export"
    export.mkdir()
    (export / "a.ektp").write_bytes(_seal(st, kecamatan="99.99.99").data)
    (export / "b.ektp").write_bytes(_seal(st, kecamatan="36.03.09").data)
    res = server_cli(server, "import", str(export), "--json")
    doc = json.loads(res.stdout)
    assert res.returncode == 1 and doc["imported"] == 0, res.stdout
    assert ["99.99.99" in r["reason"] for r in doc["rejected"]] == [True, False]


def test_labels_are_checked_on_the_relay_path(server: ServerProcess) -> None:
    """Item 5, a relay's upload of its kit's packet: the kit's kecamatan is the one the
    relay vouched for; another is refused at the central server."""
    relay = TestStation.enroll(server, name="Relay", relay=True)
    kit_key = Ed25519PrivateKey.generate()
    body = {
        "station_id": "kit-di-relay",
        "name": "Kit di relay",
        "kecamatan": "36.03.32",
        "public_key": pkt.signing_public_key_b64(kit_key.public_key()),
    }
    vouched = relay.signed("POST", "/api/v1/stations/vouch", json.dumps(body).encode())
    assert vouched.status_code == 200, vouched.text
    kit = TestStation(server.url, "kit-di-relay", kit_key, relay.server_key, "36.03.32")
    # sealed before the relay registered it here: the relay vouches for its kecamatan
    ok = relay.put(_seal(kit, sealed_at=_at(-7200)))
    assert ok.status_code == 201, ok.text
    forged = relay.put(_seal(kit, kecamatan="36.03.07"))
    assert forged.status_code == 400, forged.text
    assert forged.json()["error"] == "kecamatan_not_assigned"
    junk = relay.put(_seal(kit, kecamatan="99.99.99"))
    assert junk.status_code == 400 and junk.json()["error"] == "bad_kecamatan"


def test_a_relay_keeps_and_forwards_each_stations_packet_of_one_uuid(
    tmp_path: Path, db_url: str | None
) -> None:
    """Item 4 through a kecamatan relay: a kit that squats another kit's uuid at the relay
    blocks nothing there, and the relay forwards both packets (its queue is keyed by
    station and uuid too) to the central server."""
    from tests.support.cli import run_server

    central = ServerProcess(tmp_path / "central", db_url).start()
    relay = None
    try:
        code = add_station(central, name="Relay", relay=True)
        home = tmp_path / "relay"
        res = run_server(
            "--home", str(home), "relay", "provision", "--upstream", central.url, "--code", code
        )
        assert res.returncode == 0, res.stderr
        relay = ServerProcess(home, upstream=central.url).start()
        a, b = TestStation.enroll(relay), TestStation.enroll(relay, name="Kit B")
        real = a.seal()
        assert b.put(b.seal(uuid=real.uuid)).status_code == 201
        resp = a.put(real)
        assert resp.status_code == 201, resp.text
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            held = [(p["station"], p["uuid"]) for p in _packets(central)]
            if len(held) == 2:
                break
            time.sleep(0.3)
        assert sorted(held) == sorted([(a.station_id, real.uuid), (b.station_id, real.uuid)])
        forward = {p["station"]: p["forward"] for p in _packets(relay)}
        assert forward == {a.station_id: "uploaded", b.station_id: "uploaded"}
    finally:
        if relay is not None:
            relay.stop()
        central.stop()
