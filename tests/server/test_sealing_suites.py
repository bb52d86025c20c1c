"""Sealing suites at the server (issue 17): a new home seals stations to a hybrid ML-KEM-768 +
X25519 key; a home made by an earlier release keeps its X25519 key until `keys rotate`, and
then opens both kinds of packet (old ones, and new ones of stations that still seal to the old
key); a relay hands its stations the central server's hybrid key. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from sqlalchemy import select

from app import packet as pkt
from app.store.db import open_store
from app.store.models import AuditEvent
from app.store.station import get_identity
from tests.support.cli import run_server, run_station
from tests.support.office import office_json, person, seal_record
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, add_station, server_cli, sqlite_only


def _put(st: TestStation, sealed: pkt.SealedPacket) -> str:
    resp = st.put(sealed)
    assert resp.status_code == 201, resp.text
    return sealed.uuid


def _suites(srv: ServerProcess) -> dict[str, str]:
    res = server_cli(srv, "packets", "--json")
    assert res.returncode == 0, res.stderr
    return {p["uuid"]: p["suite"] for p in json.loads(res.stdout)["packets"]}


@sqlite_only
def test_a_server_moved_to_a_hybrid_key_opens_old_and_new_packets(
    tmp_path: Path, db_url: str | None
) -> None:
    home = tmp_path / "server"
    _old_release_home(home)
    with ServerProcess(home, db_url) as srv:
        before = TestStation.enroll(srv, name="Kit lama")
        assert isinstance(before.server_key, X25519PublicKey)
        sealed_before = _put(before, seal_record(before, person(1)))
        rotated = server_cli(srv, "keys", "rotate")
        assert rotated.returncode == 0, rotated.stderr
        assert "retired" in rotated.stdout and pkt.SUITE_HYBRID in rotated.stdout
    (retired,) = home.glob("sealing_key.retired-*.pem")  # the X25519 key, kept to open
    assert retired.stat().st_mode & 0o777 == 0o600
    with ServerProcess(home, db_url) as srv:
        before.url = srv.url  # restarted on another port
        after = TestStation.enroll(srv, name="Kit baru")
        assert isinstance(after.server_key, pkt.HybridPublicKey)
        # `keys public` gives what `init --server-key` reads: the hybrid key, then signing.
        public = server_cli(srv, "keys", "public")
        assert public.returncode == 0, public.stderr
        assert pkt.load_sealing_public_key(public.stdout.encode()) == after.server_key
        written = server_cli(srv, "keys", "public", "--out", str(tmp_path / "server.pem"))
        assert written.returncode == 0, written.stderr
        assert (tmp_path / "server.pem").read_text() == public.stdout
        fingerprint = server_cli(srv, "keys", "fingerprint").stdout
        assert f"{pkt.fingerprint(after.server_key)} ({pkt.SUITE_HYBRID})" in fingerprint
        sealed_new = _put(after, seal_record(after, person(2)))
        # Mixed: the station provisioned before still seals to the retired key; accepted.
        sealed_mixed = _put(before, seal_record(before, person(3)))
        # A packet naming a suite nobody knows is refused with the reason, nothing stored.
        odd = seal_record(before, person(4))
        bad = before.put(_relabelled(odd, before.key, "X448"), uuid=odd.uuid)
        assert bad.status_code == 400 and "unsupported suite 'X448'" in bad.json()["detail"]

        assert _suites(srv) == {
            sealed_before: pkt.SUITE_X25519,
            sealed_new: pkt.SUITE_HYBRID,
            sealed_mixed: pkt.SUITE_X25519,
        }
        for uuid in (sealed_before, sealed_new, sealed_mixed):
            opened = server_cli(srv, "open-packet", uuid)
            assert opened.returncode == 0, opened.stderr
            assert json.loads(opened.stdout)["uuid"] == uuid
        done = office_json(home, db_url, "process", "--once", "--json")
        assert done["this_run"]["processed"] == 3, done


def _relabelled(sealed: pkt.SealedPacket, station: Ed25519PrivateKey, suite: str) -> bytes:
    import struct

    parts = pkt._split(sealed.data)
    doc = json.loads(parts.header_json) | {"suite": suite}
    hjson = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    signed = b"".join(
        [pkt.MAGIC, struct.pack(">I", len(hjson)), hjson,
         struct.pack(">I", len(parts.ciphertext)), parts.ciphertext]
    )  # fmt: skip
    return signed + station.sign(signed)


@sqlite_only
def test_a_relay_hands_its_stations_the_central_hybrid_key(
    tmp_path: Path, db_url: str | None
) -> None:
    with ServerProcess(tmp_path / "central", db_url) as central:
        code = add_station(central, name="Relay", kecamatan="36.03.32", relay=True)
        relay_home = tmp_path / "relay"
        res = run_server(
            "--home", str(relay_home), "relay", "provision", "--upstream", central.url,
            "--code", code,
        )  # fmt: skip
        assert res.returncode == 0, res.stderr
        with ServerProcess(relay_home, upstream=central.url) as relay:
            st = TestStation.enroll(relay, name="Kit A")
            assert isinstance(st.server_key, pkt.HybridPublicKey)
            central_key = pkt.load_sealing_public_key(
                server_cli(central, "keys", "public").stdout.encode()
            )
            assert st.server_key == central_key
            uuid = _put(st, seal_record(st, person(5)))
            deadline = time.monotonic() + 60
            while uuid not in _suites(central) and time.monotonic() < deadline:
                time.sleep(0.5)
            assert _suites(central) == {uuid: pkt.SUITE_HYBRID}
            assert server_cli(central, "open-packet", uuid).returncode == 0


def _old_release_home(home: Path) -> X25519PrivateKey:
    """A server home made by an earlier release: its sealing key is X25519."""
    home.mkdir(mode=0o700)
    key = X25519PrivateKey.generate()
    fd = os.open(home / "sealing_key.pem", os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, pkt.sealing_private_key_pem(key))
    os.close(fd)
    return key


def test_a_station_moves_to_the_rotated_hybrid_key_at_its_next_sync(tmp_path: Path) -> None:
    """After `keys rotate` a station provisioned before is not broken (its records are still
    opened) but seals with the older suite: doctor warns; its next sync learns the new key
    from the server's signed answer and seals with the hybrid from then on (audited)."""
    home, station_home = tmp_path / "server", tmp_path / "station"
    _old_release_home(home)

    def station(*args: str) -> Any:
        return run_station("--home", str(station_home), *args, timeout=120)

    with ServerProcess(home) as srv:
        res = station("provision", "--server", srv.url, "--code", add_station(srv))
        assert res.returncode == 0, res.stderr
        assert server_cli(srv, "keys", "rotate").returncode == 0
        port = srv.port
    with ServerProcess(home, port=port) as srv:  # the URL the station knows
        doctor = json.loads(station("doctor", "--json").stdout)
        (check,) = [c for c in doctor["checks"] if c["name"] == "server"]
        assert check["status"] == "warn", check
        assert "still opens records sealed to this station's key" in check["message"]
        assert pkt.SUITE_X25519 in check["message"] and "provision again" in check["message"]

        assert station("sync", "--once").returncode == 0, "sync"
        with open_store(station_home) as store:
            identity = get_identity(store)
            assert identity is not None
            assert isinstance(identity.server_public_key, pkt.HybridPublicKey)
            rotated_to = pkt.key_id(identity.server_public_key)
            with store.read() as session:
                events = session.execute(
                    select(AuditEvent.actor, AuditEvent.detail).where(
                        AuditEvent.kind == "station.server_sealing_key"
                    )
                ).all()
        public = pkt.load_sealing_public_key(server_cli(srv, "keys", "public").stdout.encode())
        assert rotated_to == pkt.key_id(public)
        assert [(actor, json.loads(detail)["to"]["suite"]) for actor, detail in events] == [
            ("server", pkt.SUITE_HYBRID)
        ]
        doctor = json.loads(station("doctor", "--json").stdout)
        (check,) = [c for c in doctor["checks"] if c["name"] == "server"]
        assert check["status"] == "ok", check
