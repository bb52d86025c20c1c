"""A relay's way to the central server is a hostile network too (issue 18, item 1): a man in
the middle can neither hand the relay its keys nor make it drop packets with forged receipts,
and an upstream with its own certificate is pinned with `relay provision --ca-file`."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from app import packet as pkt
from app.store.db import open_store
from app.store.station import get_identity
from tests.support.cli import run_server, run_station
from tests.support.mitm import Mitm
from tests.support.server import ServerProcess
from tests.support.server_fixtures import add_station, server_cli
from tests.support.tlsfront import TlsFront, self_signed
from tests.sync.helpers import provisioned_home, seal_n

GUNUNG_KALER = "36.03.32"


def _relay_status(home: Path) -> dict[str, Any]:
    r = run_server("--home", str(home), "relay", "status", "--json")
    assert r.returncode == 0, r.stderr
    return dict(json.loads(r.stdout))


def _central_packets(srv: ServerProcess) -> int:
    r = server_cli(srv, "packets", "--json")
    assert r.returncode == 0, r.stderr
    return int(json.loads(r.stdout)["count"])


def _relay(home: Path, upstream: str) -> ServerProcess:
    """The relay, not started: ``with _relay(...)`` starts and stops it."""
    return ServerProcess(
        home,
        upstream=upstream,
        extra=["--upstream-timeout", "2", "--upstream-backoff-cap", "1"],
    )


def _wait(pred: Any, timeout: float = 30.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.2)
    return bool(pred())


def test_relay_provision_through_a_key_swapping_proxy_stores_nothing(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "central") as central, Mitm(central.url) as mitm:
        code = add_station(central, name="Relay", kecamatan=GUNUNG_KALER, relay=True)
        home = tmp_path / "relay"
        r = run_server("--home", str(home), "relay", "provision", "--upstream", mitm.url,
                       "--code", code)  # fmt: skip
        assert r.returncode == 1, r.stdout + r.stderr
        assert "not vouched for by the one-time code" in r.stderr
        assert _relay_status(home).get("relay_station_id") is None


def test_forged_upstream_receipts_leave_the_packets_queued_at_the_relay(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "central") as central:
        code = add_station(central, name="Relay", kecamatan=GUNUNG_KALER, relay=True)
        home = tmp_path / "relay"
        r = run_server("--home", str(home), "relay", "provision", "--upstream", central.url,
                       "--code", code)  # fmt: skip
        assert r.returncode == 0, r.stderr
        with Mitm(central.url, "forge_receipts") as mitm, _relay(home, mitm.url) as relay:
            kit = provisioned_home(tmp_path / "kit", relay)
            with open_store(kit) as store:
                seal_n(store, 2)
            r = run_station("--home", str(kit), "sync", "--once")
            assert r.returncode == 0, r.stdout + r.stderr  # the relay holds them
            assert _wait(lambda: len(mitm.forged) >= 2)
            time.sleep(1.0)  # the forwarder has had its answers: none may count
            fwd = _relay_status(home)["forward"]
            assert fwd.get("uploaded", 0) == 0, fwd
            assert _central_packets(central) == 0
            mitm.mode = "pass"  # the path is clean again: each packet reaches the centre once
            assert _wait(lambda: _central_packets(central) == 2, 60), _relay_status(home)
            assert _wait(lambda: _relay_status(home)["forward"].get("uploaded", 0) == 2)


def test_relay_upstream_over_https_with_a_pinned_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path / "tls")
    with ServerProcess(tmp_path / "central") as central, TlsFront(central.port, cert, key) as tls:
        code = add_station(central, name="Relay", kecamatan=GUNUNG_KALER, relay=True)
        home = tmp_path / "relay"
        base = ("--home", str(home), "relay", "provision", "--upstream", tls.url, "--code", code)
        r = run_server(*base)
        assert r.returncode == 1 and "SSL" in r.stderr, r.stdout + r.stderr
        r = run_server(*base, "--ca-file", str(cert))
        assert r.returncode == 0, r.stderr
        with _relay(home, tls.url) as relay:
            kit = provisioned_home(tmp_path / "kit", relay)
            with open_store(kit) as store:
                seal_n(store, 1)
            assert run_station("--home", str(kit), "sync", "--once").returncode == 0
            assert _wait(lambda: _central_packets(central) == 1, 60), _relay_status(home)


def test_a_kit_provisioned_before_learns_its_relays_key_vouched_for_by_the_centre(
    tmp_path: Path,
) -> None:
    """The upgrade path behind a relay: the kit seals its challenge to the central key (the
    one it seals to); the relay passes it on, the centre vouches for the relay's key."""
    with ServerProcess(tmp_path / "central") as central:
        code = add_station(central, name="Relay", kecamatan=GUNUNG_KALER, relay=True)
        home = tmp_path / "relay"
        r = run_server("--home", str(home), "relay", "provision", "--upstream", central.url,
                       "--code", code)  # fmt: skip
        assert r.returncode == 0, r.stderr
        with _relay(home, central.url) as relay:
            kit = provisioned_home(tmp_path / "kit", relay, learned_key=False)
            with open_store(kit) as store:
                seal_n(store, 1)
            # The relay registers the kit upstream first (the centre vouches only for its
            # relay's own stations); until then the kit's attempts are refused and retried.
            assert _wait(
                lambda: run_station("--home", str(kit), "sync", "--once").returncode == 0, 60
            )
            with open_store(kit) as store:
                identity = get_identity(store)
            assert identity is not None and identity.server_verify_key is not None
            fp = run_server("--home", str(home), "keys", "fingerprint")
            assert pkt.fingerprint(identity.server_verify_key) in fp.stdout  # the relay's key
            assert _wait(lambda: _central_packets(central) == 1, 60), _relay_status(home)
