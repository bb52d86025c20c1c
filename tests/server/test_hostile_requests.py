"""Requests a hostile client sends, against a real server process (SQLite and PostgreSQL):
station takeover with another station's code, squatting another station's record, forged
labels, and malformed bodies that must get the server's JSON error, not a plain-text 500
(issue 18, items 3, 4, 5 and 7)."""

from __future__ import annotations

import json
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
