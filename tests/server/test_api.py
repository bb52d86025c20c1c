"""The server's HTTP API against a real server process (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from uuid6 import uuid7

from app import packet as pkt
from app import protocol
from app.sync.provision import ProvisionError, enroll
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, add_station, server_cli


def _packets(srv: ServerProcess) -> list[dict[str, object]]:
    res = server_cli(srv, "packets", "--json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["count"] == len(doc["packets"])
    return list(doc["packets"])


def test_put_is_idempotent_and_conflicts_on_other_bytes(server: ServerProcess) -> None:
    st = TestStation.enroll(server)
    p = st.seal()
    first = st.put(p)
    assert first.status_code == 201, first.text
    receipt = first.json()
    assert receipt["uuid"] == p.uuid
    assert receipt["sha256"] == hashlib.sha256(p.data).hexdigest()
    assert receipt["station"] == st.station_id
    assert receipt["server_id"]

    again = st.put(p)
    assert again.status_code == 200
    assert again.json()["sha256"] == receipt["sha256"]
    assert again.json()["received_at"] == receipt["received_at"]

    other = st.seal(uuid=p.uuid, nama="SOMEONE ELSE")
    conflict = st.put(other)
    assert conflict.status_code == 409
    assert "different bytes" in conflict.json()["detail"]

    status = st.signed("GET", protocol.packet_path(p.uuid))
    assert status.status_code == 200 and status.json()["sha256"] == receipt["sha256"]
    listed = _packets(server)
    assert [x["uuid"] for x in listed] == [p.uuid]
    assert listed[0]["sha256"] == receipt["sha256"]


def test_a_conflict_records_nothing_not_even_the_nonce(server: ServerProcess) -> None:
    """A 409 is a refusal like any other: nothing of the request is kept, so the very same
    request sent again gets the same 409 (not 401 replay), on both databases and both PUT
    paths (on PostgreSQL the one-statement path records the nonce with the insert)."""
    st = TestStation.enroll(server)
    p = st.seal()
    assert st.put(p).status_code == 201
    other = st.seal(uuid=p.uuid, nama="SOMEONE ELSE")
    path = protocol.packet_path(p.uuid)
    headers = protocol.sign_request("PUT", path, other.data, st.station_id, st.key)
    for _ in range(2):
        resp = st.session.put(server.url + path, data=other.data, headers=headers, timeout=10)
        assert resp.status_code == 409, resp.text
        assert resp.json()["error"] == "conflict"


def test_header_fields_longer_than_their_columns_are_refused(
    server: ServerProcess, tmp_path: Path
) -> None:
    """A header field longer than its database column (kecamatan, sealed_at, station id), or
    holding a NUL, is refused alike on both databases: 400 to a PUT, a rejected file to an
    import that goes on. (PostgreSQL's one-statement PUT stored a long value cut short, its
    general path answered 500, its import stopped at the file with a database error; SQLite
    stored the value whole.)"""
    st = TestStation.enroll(server)
    long_kecamatan = TestStation(st.url, st.station_id, st.key, st.server_key, "3" * 40)
    long_time = pkt.seal(
        {"uuid": (u := str(uuid7())), "station_id": st.station_id},
        [],
        uuid=u,
        station_id=st.station_id,
        kecamatan=st.kecamatan,
        server_public_key=st.server_key,
        station_key=st.key,
        sealed_at="2024-01-01T00:00:00." + "0" * 30 + "Z",
    )
    nul = TestStation(st.url, st.station_id, st.key, st.server_key, "36.03\x0032")
    for packet, field in (
        (long_kecamatan.seal(), "kecamatan"),
        (long_time, "sealed_at"),
        (nul.seal(), "kecamatan holds a NUL"),
    ):
        resp = st.put(packet)
        assert resp.status_code == 400, resp.text
        assert field in resp.json()["detail"]
    assert _packets(server) == []

    stranger = TestStation(
        st.url, "x" * 80, Ed25519PrivateKey.generate(), st.server_key, st.kecamatan
    )
    good = [st.seal(), st.seal()]
    export = tmp_path / "export"
    export.mkdir()
    (export / "a.ektp").write_bytes(good[0].data)
    (export / "b.ektp").write_bytes(stranger.seal().data)
    (export / "c.ektp").write_bytes(good[1].data)
    nul_id = TestStation(st.url, "kit\x00x", stranger.key, st.server_key, st.kecamatan)
    (export / "d.ektp").write_bytes(nul_id.seal().data)
    res = server_cli(server, "import", str(export), "--json")
    assert res.returncode == 1, res.stderr
    doc = json.loads(res.stdout)
    assert doc["imported"] == 2
    assert [r["file"] for r in doc["rejected"]] == ["b.ektp", "d.ektp"]
    assert all("station_id" in r["reason"] for r in doc["rejected"])
    assert sorted(x["uuid"] for x in _packets(server)) == sorted(x.uuid for x in good)


def test_enrollment_code_single_use_and_expiry(server: ServerProcess) -> None:
    code = add_station(server, name="Kronjo 2", kecamatan="36.03.07")
    st = TestStation.enroll(server, code)
    assert st.kecamatan == "36.03.07"
    try:
        enroll(server.url, code, Ed25519PrivateKey.generate().public_key())
        raise AssertionError("a used code must be refused")
    except ProvisionError as exc:
        assert "already used" in str(exc)

    res = server_cli(
        server,
        "station",
        "add",
        "--name",
        "Short",
        "--kecamatan",
        "36.03.32",
        "--expires-hours",
        "0.0001",
    )
    assert res.returncode == 0
    short_code = res.stdout.strip().splitlines()[-1]
    time.sleep(0.5)
    try:
        enroll(server.url, short_code, Ed25519PrivateKey.generate().public_key())
        raise AssertionError("an expired code must be refused")
    except ProvisionError as exc:
        assert "expired" in str(exc)
    try:
        enroll(server.url, "AAAA-BBBB-CCCC-DDDD", Ed25519PrivateKey.generate().public_key())
        raise AssertionError("an unknown code must be refused")
    except ProvisionError as exc:
        assert "not valid" in str(exc)
    # only the hash of a code is stored
    raw = b"".join(p.read_bytes() for p in server.home.glob("server.db*"))
    assert short_code.encode() not in raw and code.encode() not in raw


def test_offline_station_keeps_its_id_when_enrolled(server: ServerProcess) -> None:
    code = add_station(server, name="Offline kit", kecamatan="36.03.32")
    key = Ed25519PrivateKey.generate()
    e = enroll(server.url, code, key.public_key(), station_id="offline-kit-7")
    assert e.station_id == "offline-kit-7"
    st = TestStation(
        server.url, e.station_id, key, pkt.load_sealing_public_key(e.server_key_pem), e.kecamatan
    )
    assert st.put(st.seal()).status_code == 201
    res = server_cli(server, "station", "list", "--json")
    ids = [s["station_id"] for s in json.loads(res.stdout)["stations"]]
    assert ids == ["offline-kit-7"]


def test_auth_refusals_store_nothing(server: ServerProcess) -> None:
    st = TestStation.enroll(server)
    other = TestStation.enroll(server, name="Kit 2")
    p = st.seal()
    path = protocol.packet_path(p.uuid)

    unsigned = st.session.put(server.url + path, data=p.data, timeout=10)
    assert unsigned.status_code == 401 and "missing" in unsigned.json()["detail"]

    forged = st.signed("PUT", path, p.data, key=Ed25519PrivateKey.generate())
    assert forged.status_code == 401 and forged.json()["error"] == "signature"

    unknown = st.signed("PUT", path, p.data, station_id="no-such-station")
    assert unknown.status_code == 401 and "unknown station" in unknown.json()["detail"]

    skewed = st.signed("PUT", path, p.data, now=time.time() - 3600)
    assert skewed.status_code == 401
    assert skewed.json()["error"] == "clock"
    # -3600 s plus the time the request took to reach the check (a second or more on a
    # loaded machine: -3601 s was seen): the detail names the skew the server saw.
    seen = re.search(r"clock is off by -(\d+) s", skewed.json()["detail"])
    assert seen is not None and 3600 <= int(seen.group(1)) <= 3660, skewed.json()

    foreign = other.put(p)  # a valid request by another station carrying st's packet
    assert foreign.status_code == 403

    # packet signed by a key that is not the station's: request is fine, packet is not
    bad = TestStation(
        st.url, st.station_id, Ed25519PrivateKey.generate(), st.server_key, st.kecamatan
    )
    forged_packet = bad.seal()
    resp = st.put(forged_packet)
    assert resp.status_code == 400 and resp.json()["error"] == "bad_signature"

    mismatch = st.signed("PUT", protocol.packet_path(st.seal().uuid), p.data)
    assert mismatch.status_code == 400 and "does not match the URL" in mismatch.json()["detail"]

    assert _packets(server) == []

    # replay: the very same signed request twice
    headers = protocol.sign_request("PUT", path, p.data, st.station_id, st.key)
    ok = st.session.put(server.url + path, data=p.data, headers=headers, timeout=10)
    assert ok.status_code == 201
    replay = st.session.put(server.url + path, data=p.data, headers=headers, timeout=10)
    assert replay.status_code == 401 and replay.json()["error"] == "replay"


def test_wrong_server_key_refused(server: ServerProcess) -> None:
    st = TestStation.enroll(server)
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

    st_wrong = TestStation(
        st.url, st.station_id, st.key, X25519PrivateKey.generate().public_key(), st.kecamatan
    )
    resp = st.put(st_wrong.seal())
    assert resp.status_code == 400 and resp.json()["error"] == "wrong_server_key"


def test_revoked_station_refused_and_assignment_pulled(server: ServerProcess) -> None:
    st = TestStation.enroll(server)
    info = st.signed("GET", protocol.API_PREFIX + "/station").json()
    assert info["kecamatan"] == "36.03.32" and info["revoked"] is False

    res = server_cli(server, "station", "assign", st.station_id, "--kecamatan", "36.03.07")
    assert res.returncode == 0, res.stderr
    info = st.signed("GET", protocol.API_PREFIX + "/station").json()
    assert info["kecamatan"] == "36.03.07"

    assert server_cli(server, "station", "revoke", st.station_id).returncode == 0
    resp = st.put(st.seal())
    assert resp.status_code == 403 and resp.json()["error"] == "revoked"
    info = st.signed("GET", protocol.API_PREFIX + "/station").json()
    assert info["revoked"] is True
    assert _packets(server) == []
    res = server_cli(server, "station", "revoke", "nope")
    assert res.returncode == 2 and "ID" in res.stderr


def test_new_key_and_revocation_take_effect_at_once(server: ServerProcess) -> None:
    """The PostgreSQL PUT path keeps station keys per process: a re-provisioned kit's new key
    and a revocation, made by another process (the CLI), count from the very next request."""
    st = TestStation.enroll(server)
    for _ in range(3):  # the server process now knows (and on PostgreSQL caches) the key
        assert st.put(st.seal()).status_code == 201
    code = server_cli(server, "station", "code", st.station_id).stdout.strip().splitlines()[-1]
    new_key = Ed25519PrivateKey.generate()
    assert enroll(server.url, code, new_key.public_key()).station_id == st.station_id
    stale = st.put(st.seal())
    assert stale.status_code == 401 and stale.json()["error"] == "signature"
    kit = TestStation(server.url, st.station_id, new_key, st.server_key, st.kecamatan)
    for _ in range(3):
        assert kit.put(kit.seal()).status_code == 201
    assert len(_packets(server)) == 6

    assert server_cli(server, "station", "revoke", st.station_id).returncode == 0
    revoked = kit.put(kit.seal())
    assert revoked.status_code == 403 and revoked.json()["error"] == "revoked"
    assert len(_packets(server)) == 6


def test_health_and_openapi(server: ServerProcess) -> None:
    st = TestStation.enroll(server)
    health = st.session.get(server.url + "/api/v1/health", timeout=10).json()
    assert health["status"] == "ok"
    doc = st.session.get(server.url + "/openapi.json", timeout=10).json()
    assert "/api/v1/packets/{uuid}" in doc["paths"]
    put = doc["paths"]["/api/v1/packets/{uuid}"]["put"]
    assert {"201", "200", "409", "413"} <= set(put["responses"])
    assert protocol.PACKET_CONTENT_TYPE in put["requestBody"]["content"]
    assert "get" in doc["paths"]["/api/v1/packets/{uuid}"]


def _read_answer(raw: socket.socket) -> str:
    """A whole HTTP answer from a raw socket: the head, then its Content-Length of body (the
    two may come in separate segments)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = raw.recv(4096)
        if not chunk:
            return data.decode(errors="replace")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
         if line.lower().startswith(b"content-length:")),
        0,
    )  # fmt: skip
    while len(body) < length:
        chunk = raw.recv(4096)
        if not chunk:
            break
        body += chunk
    return (head + b"\r\n\r\n" + body).decode(errors="replace")


def test_body_limit_and_overload(tmp_path: object) -> None:
    """--max-body is refused from the declared length; --max-inflight counts requests being
    processed (a slow or unfinished body holds no slot: tests/server/test_slow_bodies.py), so
    the slot is held here by an upload waiting for the database: a write lock the test
    takes on the SQLite file."""
    import dataclasses
    import sqlite3
    import threading
    from pathlib import Path

    import requests

    home = Path(str(tmp_path)) / "small"
    with ServerProcess(home, extra=["--max-body", "8192", "--max-inflight", "1"]) as srv:
        st = TestStation.enroll(srv)
        big = st.seal(photo_bytes=16000)
        resp = st.put(big)
        assert resp.status_code == 413
        # (and the server now knows the station's key: the header check before the body
        # needs no database below)
        assert st.put(st.seal()).status_code == 201

        lock = sqlite3.connect(srv.home / "server.db", isolation_level=None, timeout=30)
        lock.execute("BEGIN IMMEDIATE")
        held: list[requests.Response] = []
        holder = dataclasses.replace(st, session=requests.Session())
        waiting = threading.Thread(target=lambda: held.append(holder.put(holder.seal())))
        try:
            waiting.start()
            deadline = time.monotonic() + 20
            busy = None
            while time.monotonic() < deadline:
                time.sleep(0.3)
                p = st.seal()
                path = protocol.packet_path(p.uuid)
                headers = protocol.sign_request("PUT", path, p.data, st.station_id, st.key)
                try:
                    busy = requests.put(srv.url + path, data=p.data, headers=headers, timeout=2)
                except requests.Timeout:
                    continue  # this one got the slot before the thread's: it waits too
                if busy.status_code == 503:
                    break
            assert busy is not None and busy.status_code == 503, busy
            assert busy.json()["error"] == "overloaded"
            assert busy.headers["Retry-After"].isdigit()
            # While the limit is full an upload is refused on its headers: the answer comes
            # before a byte of its body is sent (a reconnect storm's bodies are not read).
            p = st.seal(photo_bytes=3000)
            path = protocol.packet_path(p.uuid)
            signed = protocol.sign_request("PUT", path, p.data, st.station_id, st.key)
            head = [f"PUT {path} HTTP/1.1", f"Host: 127.0.0.1:{srv.port}"]
            head += [f"Content-Length: {len(p.data)}", *(f"{k}: {v}" for k, v in signed.items())]
            with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as raw:
                raw.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
                answer = _read_answer(raw)
            assert answer.startswith("HTTP/1.1 503"), answer
            assert '"overloaded"' in answer and "retry-after:" in answer.lower()
            # Only the health check itself passes the limit, not any path ending in /health.
            assert st.session.get(srv.url + "/api/v1/health", timeout=10).status_code == 200
            sneaky = st.signed("GET", protocol.API_PREFIX + "/packets/health")
            assert sneaky.status_code == 503, sneaky.text
        finally:
            lock.rollback()
            lock.close()
            waiting.join(60)
        assert [r.status_code for r in held] == [201]
        assert st.put(st.seal()).status_code == 201  # capacity is back


def test_sealing_key_file_private(server: ServerProcess) -> None:
    mode = (server.home / "sealing_key.pem").stat().st_mode & 0o777
    assert mode == 0o600
    res = server_cli(server, "keys", "public")
    assert res.returncode == 0
    key = pkt.load_sealing_public_key(res.stdout.encode())
    st = TestStation.enroll(server)
    assert pkt.key_id(key) == pkt.key_id(st.server_key)


def _children(pid: int) -> list[int]:
    from pathlib import Path

    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def test_several_worker_processes_share_one_port(tmp_path: object) -> None:
    from pathlib import Path

    srv = ServerProcess(Path(str(tmp_path)) / "multi", extra=["--workers", "2"]).start()
    try:
        assert srv.proc is not None
        kids = _children(srv.proc.pid)
        assert len(kids) == 2, kids
        st = TestStation.enroll(srv)
        # several connections: the kernel spreads them over both processes
        for _ in range(6):
            st.session.close()
            assert st.put(st.seal()).status_code == 201
    finally:
        srv.stop()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{k}").exists() for k in kids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(Path(f"/proc/{k}").exists() for k in kids), "worker processes left behind"
