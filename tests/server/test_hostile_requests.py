"""Requests a hostile client sends, against a real server process (SQLite and PostgreSQL):
station takeover with another station's code, squatting another station's record, forged
labels, and malformed bodies that must get the server's JSON error, not a plain-text 500
(issue 18, items 3, 4, 5 and 7)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import packet as pkt
from app import protocol
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, add_station, server_cli

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
