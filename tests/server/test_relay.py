"""A kecamatan relay forwarding to the central server through injected faults."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from app import packet as pkt
from server.core import ServerCore
from tests.support.cli import run_server
from tests.support.faultproxy import FAULTS, FaultProxy
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, add_station, sqlite_only
from tests.support.wait import wait_for


@pytest.mark.slow
@sqlite_only
def test_relay_forwards_exactly_once_through_faults(tmp_path: Path, db_url: str | None) -> None:
    n = 300  # the 1,000-record fault run is the station's (tests/sync/test_faults.py)
    central = ServerProcess(tmp_path / "central", db_url).start()
    proxy = FaultProxy(central.port, fault_rate=0.0, stall_s=1.5, seed=7).start()
    relay = None
    try:
        code = add_station(central, name="Relay Gunung Kaler", kecamatan="36.03.32", relay=True)
        relay_home = tmp_path / "relay"
        res = run_server(
            "--home",
            str(relay_home),
            "relay",
            "provision",
            "--upstream",
            central.url,
            "--code",
            code,
        )
        assert res.returncode == 0, res.stderr
        relay = ServerProcess(
            relay_home,
            upstream=proxy.url,
            extra=["--upstream-timeout", "0.5", "--upstream-backoff-cap", "1"],
        ).start()
        # The station enrolls at the relay and seals to the CENTRAL key: the relay cannot read.
        st = TestStation.enroll(relay, name="Kit A", kecamatan="36.03.32")
        central_key = pkt.load_sealing_public_key(
            run_server(
                "--home", str(central.home), *(["--db", db_url] if db_url else []), "keys", "public"
            ).stdout.encode()
        )
        assert pkt.key_id(st.server_key) == pkt.key_id(central_key)

        # Every fault kind once, then random faults while the relay forwards.
        proxy.forced = list(FAULTS)
        proxy.fault_rate = 0.03
        sent: dict[str, str] = {}
        for i in range(n):
            p = st.seal(nama=f"WARGA {i}", photo_bytes=200)
            resp = st.put(p)
            assert resp.status_code == 201, resp.text
            sent[p.uuid] = hashlib.sha256(p.data).hexdigest()
        # the relay kills -9 mid-way is covered elsewhere; here: faults stop, queue must empty
        central_core = ServerCore(central.home, db_url)
        try:
            wait_for(lambda: central_core.count_packets() >= n // 2, 120, "half forwarded")
            proxy.fault_rate = 0.0
            wait_for(lambda: central_core.count_packets() >= n, 120, "all forwarded")
            got = {p["uuid"]: p for p in central_core.list_packets()}
        finally:
            central_core.close()
        assert set(got) == set(sent)
        assert all(got[u]["sha256"] == sha for u, sha in sent.items())
        assert all(p["verified"] and p["station"] == st.station_id for p in got.values())
        assert all(p["received_from"] != st.station_id for p in got.values())  # via the relay
        for fault in FAULTS:
            assert proxy.counts[fault] >= 1, proxy.counts
        status = run_server("--home", str(relay_home), "relay", "status", "--json")
        forward = json.loads(status.stdout)["forward"]
        wait_for(
            lambda: (
                json.loads(
                    run_server("--home", str(relay_home), "relay", "status", "--json").stdout
                )["forward"]
                == {"uploaded": n}
            ),
            30,
            f"relay queue empty (was {forward})",
        )
    finally:
        if relay is not None:
            relay.stop()
        proxy.stop()
        central.stop()
