"""Who may vouch for stations, what revoking a relay does, key history, revoked imports."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from uuid6 import uuid7

from app import packet as pkt
from app.sync.provision import enroll
from tests.support.residents import BUDI_LAKI, resident
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, add_station, server_cli, sqlite_only


def vouch(relay: TestStation, station_id: str, key: Ed25519PrivateKey) -> object:
    body = {
        "station_id": station_id,
        "name": station_id,
        "kecamatan": "36.03.32",
        "public_key": pkt.signing_public_key_b64(key.public_key()),
    }
    return relay.signed("POST", "/api/v1/stations/vouch", json.dumps(body).encode())


def stations(srv: ServerProcess) -> dict[str, dict[str, object]]:
    doc = json.loads(server_cli(srv, "station", "list", "--json").stdout)
    return {s["station_id"]: s for s in doc["stations"]}


@sqlite_only
def test_only_relays_vouch_and_revoking_a_relay_revokes_its_stations(
    server: ServerProcess,
) -> None:
    plain = TestStation.enroll(server, name="Kit biasa")
    resp = vouch(plain, "kit-palsu-01", Ed25519PrivateKey.generate())
    assert resp.status_code == 403, resp.text  # type: ignore[attr-defined]
    assert resp.json()["error"] == "not_a_relay"  # type: ignore[attr-defined]
    assert "station add --relay" in resp.json()["detail"]  # type: ignore[attr-defined]
    assert "kit-palsu-01" not in stations(server)

    relay = TestStation.enroll(server, code=add_station(server, "Relay Kronjo", relay=True))
    kit_key = Ed25519PrivateKey.generate()
    assert vouch(relay, "kit-kronjo-01", kit_key).status_code == 200  # type: ignore[attr-defined]
    listed = stations(server)
    assert listed[relay.station_id]["relay"] is True
    assert listed[plain.station_id]["relay"] is False
    assert listed["kit-kronjo-01"]["vouched_by"] == relay.station_id
    kit = TestStation(server.url, "kit-kronjo-01", kit_key, relay.server_key, "36.03.32")
    assert kit.put(kit.seal()).status_code == 201

    res = server_cli(server, "station", "revoke", relay.station_id)
    assert res.returncode == 0, res.stderr
    assert "kit-kronjo-01 revoked with its relay" in res.stdout
    listed = stations(server)
    assert listed["kit-kronjo-01"]["revoked"] is True
    assert listed[plain.station_id]["revoked"] is False
    refused = kit.put(kit.seal())
    assert refused.status_code == 403 and refused.json()["error"] == "revoked"
    assert relay.put(relay.seal()).status_code == 403
    assert plain.put(plain.seal()).status_code == 201  # others are untouched


@sqlite_only
def test_a_relay_cannot_claim_a_station_by_its_public_key(server: ServerProcess) -> None:
    """A station's public key is no secret: re-registering it with that key gives a relay
    no claim, so it cannot then replace the key (of another relay's kit, or of a kit
    enrolled directly)."""
    x = TestStation.enroll(server, code=add_station(server, "Relay X", relay=True))
    y = TestStation.enroll(server, code=add_station(server, "Relay Y", relay=True))
    direct = TestStation.enroll(server, name="Kit langsung")
    kit_key = Ed25519PrivateKey.generate()
    assert vouch(x, "kit-x-01", kit_key).status_code == 200  # type: ignore[attr-defined]
    targets = {"kit-x-01": kit_key.public_key(), direct.station_id: direct.key.public_key()}
    for station_id, public in targets.items():
        before = stations(server)[station_id]
        body = {
            "station_id": station_id,
            "name": station_id,
            "kecamatan": "36.03.32",
            "public_key": pkt.signing_public_key_b64(public),
        }
        same = y.signed("POST", "/api/v1/stations/vouch", json.dumps(body).encode())
        assert same.status_code == 200, same.text  # the same kit: accepted, nothing moved
        taken = vouch(y, station_id, Ed25519PrivateKey.generate())
        assert taken.status_code == 409, taken.text  # type: ignore[attr-defined]
        assert taken.json()["error"] == "station_conflict"  # type: ignore[attr-defined]
        after = stations(server)[station_id]
        assert (after["key_id"], after["vouched_by"]) == (before["key_id"], before["vouched_by"])
    kit = TestStation(server.url, "kit-x-01", kit_key, x.server_key, "36.03.32")
    assert kit.put(kit.seal()).status_code == 201
    assert direct.put(direct.seal()).status_code == 201


def seal_with(st: TestStation, key: Ed25519PrivateKey, sealed_at: str | None = None) -> bytes:
    uuid = str(uuid7())
    return pkt.seal(
        {"uuid": uuid, "station_id": st.station_id, "biodata": resident(BUDI_LAKI)},
        [pkt.Attachment("face.jpg", "image/jpeg", uuid.encode() * 8)],
        uuid=uuid,
        station_id=st.station_id,
        kecamatan=st.kecamatan,
        server_public_key=st.server_key,
        station_key=key,
        sealed_at=sealed_at,
    ).data


def import_dir(srv: ServerProcess, directory: Path, *packets: bytes) -> tuple[int, dict]:  # type: ignore[type-arg]
    directory.mkdir()
    for data in packets:
        (directory / f"{pkt.read_header(data).uuid}.ektp").write_bytes(data)
    res = server_cli(srv, "import", str(directory), "--json")
    return res.returncode, json.loads(res.stdout)


@sqlite_only
def test_replaced_key_verifies_older_packets_revoked_station_is_refused(
    server: ServerProcess, tmp_path: Path
) -> None:
    st = TestStation.enroll(server, name="Kit Gunung Kaler")
    old_key = st.key
    on_stick = seal_with(st, old_key)  # the mirror stick of the PC that died
    in_outbox = seal_with(st, old_key)
    # The kit is re-registered with a fresh key (new PC, same station).
    code = server_cli(server, "station", "code", st.station_id).stdout.strip().splitlines()[-1]
    new_key = Ed25519PrivateKey.generate()
    assert enroll(server.url, code, new_key.public_key()).station_id == st.station_id
    st.key = new_key
    assert st.put(st.seal()).status_code == 201
    # a packet sealed with the old key before the change, sent by the station under its new key
    assert st.put(in_outbox).status_code == 201
    # the old key cannot sign anything dated after it was replaced
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    forged = seal_with(st, old_key, sealed_at=later)
    resp = st.put(forged)
    assert resp.status_code == 400 and resp.json()["error"] == "key_replaced"

    rc, summary = import_dir(server, tmp_path / "stick", on_stick, forged)
    assert rc == 1
    assert summary["imported"] == 1 and summary["unverified"] == 0
    assert [r["file"] for r in summary["rejected"]] == [f"{pkt.read_header(forged).uuid}.ektp"]
    held = {
        p["uuid"]: p for p in json.loads(server_cli(server, "packets", "--json").stdout)["packets"]
    }
    assert held[pkt.read_header(on_stick).uuid]["verified"] is True
    assert pkt.read_header(forged).uuid not in held

    # Stolen: the station is revoked; a stick of its packets (any key) is refused at import.
    before_theft = seal_with(st, new_key)
    old_again = seal_with(st, old_key, sealed_at="2020-01-01T00:00:00.000Z")
    assert server_cli(server, "station", "revoke", st.station_id).returncode == 0
    rc, summary = import_dir(server, tmp_path / "stolen", before_theft, old_again)
    assert rc == 1 and summary["imported"] == 0 and len(summary["rejected"]) == 2
    assert all("revoked" in r["reason"] for r in summary["rejected"])
    held = {
        p["uuid"] for p in json.loads(server_cli(server, "packets", "--json").stdout)["packets"]
    }
    assert pkt.read_header(before_theft).uuid not in held
    assert pkt.read_header(old_again).uuid not in held


def test_vouch_with_a_body_that_is_not_an_object_is_400(server: ServerProcess) -> None:
    relay = TestStation.enroll(server, code=add_station(server, "Relay", relay=True))
    resp = relay.signed("POST", "/api/v1/stations/vouch", b'["not", "an", "object"]')
    assert resp.status_code == 400 and resp.json()["error"] == "bad_request"
