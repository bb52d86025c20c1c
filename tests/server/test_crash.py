"""kill -9 of the server while stations upload: every receipt given survives the restart."""

from __future__ import annotations

import hashlib
import threading
import time
from pathlib import Path

import requests

from server.core import ServerCore
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation


def test_kill_9_during_uploads_loses_no_acknowledged_packet(
    tmp_path: Path, db_url: str | None
) -> None:
    srv = ServerProcess(tmp_path / "server", db_url).start()
    try:
        stations = [TestStation.enroll(srv, name=f"Kit {i}") for i in range(3)]
        packets = {
            st.station_id: [st.seal(nama=f"W{i}", photo_bytes=2000) for i in range(80)]
            for st in stations
        }
        acked: dict[str, str] = {}
        lock = threading.Lock()
        stop = threading.Event()

        def upload(st: TestStation) -> None:
            for p in packets[st.station_id]:
                if stop.is_set():
                    return
                try:
                    r = st.put(p)
                except requests.RequestException:
                    continue
                if r.status_code in (200, 201):
                    assert r.json()["sha256"] == hashlib.sha256(p.data).hexdigest()
                    with lock:
                        acked[p.uuid] = r.json()["sha256"]

        threads = [threading.Thread(target=upload, args=(st,)) for st in stations]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(acked) < 60 and time.monotonic() < deadline:
            time.sleep(0.01)
        srv.kill9()
        stop.set()
        for t in threads:
            t.join(30)
        assert 60 <= len(acked) < 240, len(acked)

        srv.start()
        core = ServerCore(srv.home, db_url)
        try:
            held = {p["uuid"]: p["sha256"] for p in core.list_packets()}
            # durability: every packet the server acknowledged is there after kill -9
            missing = set(acked) - set(held)
            assert not missing, f"{len(missing)} acknowledged packets lost"
            # the stations send everything again: exactly one copy each, no conflict
            for st in stations:
                st.session = requests.Session()
                for p in packets[st.station_id]:
                    r = st.put(p)
                    assert r.status_code in (200, 201), r.text
                    assert r.status_code == (200 if p.uuid in held else 201)
            final = core.list_packets()
        finally:
            core.close()
        everything = {
            p.uuid: hashlib.sha256(p.data).hexdigest() for ps in packets.values() for p in ps
        }
        assert len(final) == len(everything) == 240
        assert {p["uuid"]: p["sha256"] for p in final} == everything
    finally:
        srv.stop()
