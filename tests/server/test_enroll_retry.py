"""Redeeming a one-time code again with the same station key (its reply was lost, or the
station could not store it) gets the first answer; any other key is still refused, also
under concurrent redemption. Real server processes, SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import packet as pkt
from app.sync.provision import ProvisionError, enroll
from server.core import ServerCore
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, add_station, server_cli

ENROLL = "/api/v1/stations/enroll"


def _post(srv: ServerProcess, code: str, key: Ed25519PrivateKey, **extra: str) -> Any:
    body = {"code": code, "public_key": pkt.signing_public_key_b64(key.public_key()), **extra}
    return requests.post(srv.url + ENROLL, json=body, timeout=30)


def _stations(srv: ServerProcess) -> dict[str, dict[str, Any]]:
    res = server_cli(srv, "station", "list", "--json")
    assert res.returncode == 0, res.stderr
    return {s["station_id"]: s for s in json.loads(res.stdout)["stations"]}


def test_same_key_gets_the_first_answer_other_keys_do_not(server: ServerProcess) -> None:
    code = add_station(server, name="Kit Kronjo", kecamatan="36.03.07")
    key = Ed25519PrivateKey.generate()
    first = _post(server, code, key)
    assert first.status_code == 200, first.text
    again = _post(server, code, key)
    assert again.status_code == 200, again.text
    assert again.json() == first.json()  # station id, name, kecamatan, server key...
    assert first.json()["kecamatan"] == "36.03.07" and first.json()["name"] == "Kit Kronjo"
    station_id = first.json()["station_id"]

    other = _post(server, code, Ed25519PrivateKey.generate())
    assert other.status_code == 401 and other.json()["error"] == "code_used", other.text
    # the same key claiming another station id is not a retry either
    moved = _post(server, code, key, station_id="another-kit-1")
    assert moved.status_code == 401 and moved.json()["error"] == "code_used", moved.text

    listed = _stations(server)
    assert list(listed) == [station_id]
    assert listed[station_id]["key_id"] == pkt.key_id(key.public_key())
    # the retry changed nothing: the station still works with that key
    st = TestStation(
        server.url, station_id, key, pkt.load_sealing_public_key(first.json()["server_key_pem"].encode()),
        "36.03.07",
    )  # fmt: skip
    assert st.put(st.seal()).status_code == 201
    assert _stations(server)[station_id]["enrolled_at"] == listed[station_id]["enrolled_at"]

    # a revoked station's code is not answered again
    assert server_cli(server, "station", "revoke", station_id).returncode == 0
    revoked = _post(server, code, key)
    assert revoked.status_code == 403 and revoked.json()["error"] == "revoked", revoked.text


def test_offline_station_retries_with_its_own_id(server: ServerProcess) -> None:
    code = add_station(server, name="Kit offline", kecamatan="36.03.32")
    key = Ed25519PrivateKey.generate()
    first = enroll(server.url, code, key.public_key(), station_id="offline-kit-9")
    assert first.station_id == "offline-kit-9"
    assert enroll(server.url, code, key.public_key(), station_id="offline-kit-9") == first
    # a fresh retry that does not name the id is still this key's redemption
    assert enroll(server.url, code, key.public_key()) == first
    with pytest.raises(ProvisionError, match="already used"):
        enroll(server.url, code, key.public_key(), station_id="offline-kit-10")
    assert list(_stations(server)) == ["offline-kit-9"]


def test_a_code_is_not_answered_again_after_the_key_changed(server: ServerProcess) -> None:
    code_a = add_station(server, name="Kit ganti PC")
    k1, k2 = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    e = enroll(server.url, code_a, k1.public_key())
    res = server_cli(server, "station", "code", e.station_id)
    assert res.returncode == 0, res.stderr
    code_b = res.stdout.strip().splitlines()[-1]
    assert enroll(server.url, code_b, k2.public_key()).station_id == e.station_id
    for key in (k1, k2):  # the old key is replaced; the new one did not redeem code A
        with pytest.raises(ProvisionError, match="already used"):
            enroll(server.url, code_a, key.public_key())
    assert _stations(server)[e.station_id]["key_id"] == pkt.key_id(k2.public_key())


def test_retry_is_answered_after_the_code_expired(server: ServerProcess) -> None:
    """Chosen (docs/server.md): a retry is answered while the station keeps that key, also
    after expiry; an unused expired code stays refused."""
    core = ServerCore(server.home, server.db_url)
    try:
        _, code = core.add_station("Kit lambat", "36.03.32", ttl_s=1.0)
        _, unused = core.add_station("Kit tidak dipakai", "36.03.32", ttl_s=1.0)
    finally:
        core.close()
    key = Ed25519PrivateKey.generate()
    first = enroll(server.url, code, key.public_key())
    time.sleep(1.2)
    assert enroll(server.url, code, key.public_key()) == first
    with pytest.raises(ProvisionError, match="already used"):
        enroll(server.url, code, Ed25519PrivateKey.generate().public_key())
    with pytest.raises(ProvisionError, match="expired"):
        enroll(server.url, unused, key.public_key())


def _race(srv: ServerProcess, code: str, keys: list[Ed25519PrivateKey]) -> list[Any]:
    """Every key redeems ``code`` at once (one thread each); the responses, in key order."""
    return _race_pairs(srv, [(code, key) for key in keys])


def _race_pairs(srv: ServerProcess, pairs: list[tuple[str, Ed25519PrivateKey]]) -> list[Any]:
    """Every (code, key) is redeemed at once (one thread each); the responses, in order."""
    barrier = threading.Barrier(len(pairs))
    out: list[Any] = [None] * len(pairs)

    def go(i: int) -> None:
        code, key = pairs[i]
        body = {"code": code, "public_key": pkt.signing_public_key_b64(key.public_key())}
        with requests.Session() as s:
            barrier.wait(timeout=30)
            r = s.post(srv.url + ENROLL, json=body, timeout=60)
            out[i] = (r.status_code, r.json())

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(pairs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert all(o is not None for o in out), "a redemption did not finish"
    return out


def test_concurrent_redemption_single_use_for_other_keys(server: ServerProcess) -> None:
    # Eight different keys: exactly one wins.
    code = add_station(server, name="Kit rebutan")
    keys = [Ed25519PrivateKey.generate() for _ in range(8)]
    out = _race(server, code, keys)
    winners = [i for i, (status, _) in enumerate(out) if status == 200]
    assert len(winners) == 1, out
    assert all(doc["error"] == "code_used" for status, doc in out if status != 200), out
    (station,) = _stations(server).values()
    assert station["key_id"] == pkt.key_id(keys[winners[0]].public_key())

    # Two keys, four requests each: one key wins, all four of its requests get the same
    # answer, the other key's four are refused.
    code = add_station(server, name="Kit rebutan 2")
    a, b = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    out = _race(server, code, [a, b] * 4)
    ok = [i for i, (status, _) in enumerate(out) if status == 200]
    assert len(ok) == 4 and len({i % 2 for i in ok}) == 1, out
    assert len({json.dumps(out[i][1], sort_keys=True) for i in ok}) == 1
    assert all(out[i][1]["error"] == "code_used" for i in range(8) if i not in ok), out
    won = (a, b)[ok[0] % 2]
    assert _stations(server)[out[ok[0]][1]["station_id"]]["key_id"] == pkt.key_id(won.public_key())

    # The same key six times at once (a station retrying while its first request is still
    # in flight): all succeed with the same answer.
    code = add_station(server, name="Kit sabar")
    same = Ed25519PrivateKey.generate()
    out = _race(server, code, [same] * 6)
    assert all(status == 200 for status, _ in out), out
    assert len({json.dumps(doc, sort_keys=True) for _, doc in out}) == 1


def test_no_database_access_after_the_redemption_commits(server: ServerProcess) -> None:
    """Everything the reply needs is read before the redemption commits: a database failure
    while answering leaves the code unused (before: the sealing key was read after the
    commit; a failure there answered 500 for a code now used by that key). The failure here:
    the meta table is renamed under the running server."""
    from sqlalchemy import create_engine, text

    code = add_station(server, name="Kit meta", kecamatan="36.03.07")
    url = server.db_url or f"sqlite:///{server.home / 'server.db'}"
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE server_meta RENAME TO meta_away"))
        key = Ed25519PrivateKey.generate()
        failed = _post(server, code, key)
        assert failed.status_code == 503, failed.text  # JSON, Retry-After (server.errors)
        assert failed.json()["error"] == "database_unavailable" and failed.headers["Retry-After"]
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE meta_away RENAME TO server_meta"))
        (listed,) = _stations(server).values()
        assert listed["state"] != "enrolled" and listed["key_id"] is None, listed
        # the code is still unused: another key (or this one) redeems it
        other = Ed25519PrivateKey.generate()
        ok = _post(server, code, other)
        assert ok.status_code == 200, ok.text
        assert _stations(server)[ok.json()["station_id"]]["key_id"] == pkt.key_id(
            other.public_key()
        )
    finally:
        engine.dispose()


def test_a_key_binds_one_station_a_second_code_is_key_in_use(server: ServerProcess) -> None:
    """Code X redeemed with key K, then code Y with K (a lost answer followed by another
    code, or two runs on one fresh home): 409 key_in_use naming X's station; Y stays unused
    for another key, and X with K is answered again as the first time."""
    x = add_station(server, name="Kit X", kecamatan="36.03.07")
    y = add_station(server, name="Kit Y", kecamatan="36.03.32")
    key = Ed25519PrivateKey.generate()
    first = _post(server, x, key)
    assert first.status_code == 200, first.text
    x_id = first.json()["station_id"]

    second = _post(server, y, key)
    assert second.status_code == 409, second.text
    assert second.json()["error"] == "key_in_use", second.text
    assert x_id in second.json()["detail"] and "code used first" in second.json()["detail"]
    listed = _stations(server)
    enrolled = {sid for sid, s in listed.items() if s["key_id"] is not None}
    assert enrolled == {x_id}  # Y was not bound

    assert _post(server, x, key).json() == first.json()
    other = Ed25519PrivateKey.generate()
    later = _post(server, y, other)  # Y was not used: another kit takes it
    assert later.status_code == 200, later.text
    assert later.json()["station_id"] != x_id and later.json()["name"] == "Kit Y"
    # A new code for X itself (re-provisioning the same kit with its key) is no conflict,
    # nor is K on a revoked station.
    code_x = server_cli(server, "station", "code", x_id).stdout.split()[-1]
    assert _post(server, code_x, key).json()["station_id"] == x_id
    assert server_cli(server, "station", "revoke", x_id).returncode == 0
    z = add_station(server, name="Kit Z")
    assert _post(server, z, key).status_code == 200


def test_codes_redeemed_at_once_with_one_key_bind_one_station(server: ServerProcess) -> None:
    """Four codes redeemed at the same moment with one key (two runs on one fresh home):
    exactly one station gets the key, the others are key_in_use and stay unused."""
    key = Ed25519PrivateKey.generate()
    codes = [add_station(server, name=f"Kit {i}") for i in range(4)]
    out = _race_pairs(server, [(code, key) for code in codes])
    ok = [i for i, (status, _) in enumerate(out) if status == 200]
    assert len(ok) == 1, out
    assert all(doc["error"] == "key_in_use" for status, doc in out if status != 200), out
    bound = [sid for sid, s in _stations(server).items() if s["key_id"] is not None]
    assert bound == [out[ok[0]][1]["station_id"]]
