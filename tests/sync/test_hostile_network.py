"""A man in the middle on the station's network (plain http, or a proxy that ends TLS) can
neither read records nor make the station drop them (issue 18, item 1).

Each test puts the tests' own attacker (tests/support/mitm.py) between a real station and a
real server process: it swaps its own keys into the server's answers and signs them with its
own key, answers uploads itself with receipts computed from the bytes it saw, or turns an
upload into a refusal. The station must store none of its keys, mark nothing uploaded or
rejected, keep every record, and say why.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from app import packet as pkt
from app.store.db import open_store
from app.store.models import AuditEvent
from app.store.outbox import Outbox
from app.store.station import get_identity
from app.sync.provision import InvalidServerUrl, check_server_url
from tests.support.cli import run_station
from tests.support.mitm import Mitm
from tests.support.server import ServerProcess
from tests.support.server_fixtures import add_station, server_cli
from tests.support.tlsfront import TlsFront, self_signed
from tests.sync.helpers import provisioned_home, seal_n


def _server_packets(srv: ServerProcess) -> int:
    r = server_cli(srv, "packets", "--json")
    assert r.returncode == 0, r.stderr
    return int(json.loads(r.stdout)["count"])


def _status(home: Path) -> dict:  # type: ignore[type-arg]
    r = run_station("--home", str(home), "status", "--json")
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


def test_provisioning_through_a_key_swapping_proxy_stores_nothing(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "server") as srv, Mitm(srv.url, "swap_keys") as mitm:
        code = add_station(srv)
        home = tmp_path / "station"
        r = run_station("--home", str(home), "provision", "--server", mitm.url, "--code", code)
        assert r.returncode == 1, r.stdout + r.stderr
        assert "not vouched for by the one-time code" in r.stderr
        assert mitm.swapped >= 1  # it did try
        with open_store(home) as store:
            assert get_identity(store) is None  # none of the attacker's keys was stored
        # The request never carried the code: the proxy saw a hint and a proof only.
        # Straight to the server, the same code works (the same key, answered again).
        r = run_station("--home", str(home), "provision", "--server", srv.url, "--code", code)
        assert r.returncode == 0, r.stderr
        with open_store(home) as store:
            identity = get_identity(store)
        assert identity is not None
        assert pkt.key_id(identity.server_public_key) != pkt.key_id(mitm.sealing.public_key())
        assert identity.server_verify_key is not None


def test_a_proxy_cannot_redeem_a_code_it_relayed(tmp_path: Path) -> None:
    """What the station sends proves it knows the code for ITS key: the proxy cannot turn it
    into a redemption for the attacker's key."""
    import requests
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app import protocol

    with ServerProcess(tmp_path / "server") as srv:
        code = add_station(srv)
        station_key = pkt.signing_public_key_b64(Ed25519PrivateKey.generate().public_key())
        attacker_key = pkt.signing_public_key_b64(Ed25519PrivateKey.generate().public_key())
        mac_key = protocol.code_key(protocol.code_digest(code))
        body = {
            "code_hint": protocol.code_hint(code),
            "proof": protocol.enroll_proof(mac_key, station_key, None, "n" * 32),
            "nonce": "n" * 32,
            "public_key": attacker_key,  # swapped on the way
        }
        r = requests.post(srv.url + "/api/v1/stations/enroll", json=body, timeout=10)
        assert r.status_code == 401, r.text
        assert r.json()["error"] == "code_invalid"
        body["public_key"] = station_key  # the station's own request still works
        r = requests.post(srv.url + "/api/v1/stations/enroll", json=body, timeout=10)
        assert r.status_code == 200, r.text
        reply = r.json()
        assert protocol.mac_equal(
            protocol.enroll_reply_mac(mac_key, "n" * 32, station_key, reply), reply["mac"]
        )


@pytest.mark.parametrize("mode", ["forge_receipts", "swap_keys"])
def test_forged_receipts_mark_nothing_uploaded(tmp_path: Path, mode: str) -> None:
    with ServerProcess(tmp_path / "server") as srv, Mitm(srv.url, mode) as mitm:
        home = provisioned_home(tmp_path / "station", srv, url=mitm.url)
        with open_store(home) as store:
            seal_n(store, 3)
        r = run_station("--home", str(home), "sync", "--once")
        assert r.returncode == 1, r.stdout + r.stderr
        st = _status(home)
        assert st["records"].get("uploaded", 0) == 0
        assert st["pending"] == 3
        assert "signature" in (st["sync"]["last_error"] or ""), st["sync"]
        if mode == "forge_receipts":
            assert len(mitm.forged) >= 1
            assert _server_packets(srv) == 0  # the real server got none
        # Once the path is clean again, every record reaches the server, each once.
        mitm.mode = "pass"
        r = run_station("--home", str(home), "sync", "--once")
        assert r.returncode == 0, r.stdout + r.stderr
        assert _server_packets(srv) == 3
        assert _status(home)["pending"] == 0


def test_a_forged_refusal_rejects_nothing(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "server") as srv, Mitm(srv.url, "forge_refusal") as mitm:
        home = provisioned_home(tmp_path / "station", srv, url=mitm.url)
        with open_store(home) as store:
            seal_n(store, 2)
        mitm.mode = "forge_refusal"
        r = run_station("--home", str(home), "sync", "--once")
        assert r.returncode == 1
        assert mitm.forged
        with open_store(home) as store:
            p = Outbox(store).pending()
        assert p.count == 2 and p.rejected == 0  # still sealed, not rejected


def test_a_station_provisioned_before_learns_the_key_once_and_only_from_the_server(
    tmp_path: Path,
) -> None:
    """The upgrade path: a station with no server signing key (provisioned by an earlier
    release) learns it, vouched for by the sealing key it already trusts; a proxy that swaps
    the key in that answer is not believed."""
    with ServerProcess(tmp_path / "server") as srv, Mitm(srv.url, "swap_keys") as mitm:
        home = provisioned_home(tmp_path / "station", srv, url=mitm.url, learned_key=False)
        with open_store(home) as store:
            assert get_identity(store).server_verify_key is None  # type: ignore[union-attr]
            seal_n(store, 2)
        r = run_station("--home", str(home), "sync", "--once")
        assert r.returncode == 1
        with open_store(home) as store:
            assert get_identity(store).server_verify_key is None  # type: ignore[union-attr]
        assert _status(home)["pending"] == 2
        mitm.mode = "pass"
        r = run_station("--home", str(home), "sync", "--once")
        assert r.returncode == 0, r.stdout + r.stderr
        with open_store(home) as store:
            identity = get_identity(store)
            assert identity is not None and identity.server_verify_key is not None
            with store.read() as session:
                kinds = list(session.execute(select(AuditEvent.kind)).scalars())
        assert kinds.count("station.server_signing_key") == 1  # learned once, audited
        fp = server_cli(srv, "keys", "fingerprint")
        assert pkt.fingerprint(identity.server_verify_key) in fp.stdout
        assert _server_packets(srv) == 2


def test_init_shows_the_fingerprints_the_server_shows(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "server") as srv:
        keyfile = tmp_path / "server.pem"
        r = server_cli(srv, "keys", "public")
        assert r.returncode == 0, r.stderr
        keyfile.write_text(r.stdout)
        fp = server_cli(srv, "keys", "fingerprint")
        assert fp.returncode == 0, fp.stderr
        home = tmp_path / "station"
        r = run_station(
            "--home", str(home), "init", "--server-key", str(keyfile), "--kecamatan", "36.03.32",
            "--name", "Kit 1", "--server-url", srv.url,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        sealing, signing = (line.split(" ", 1)[1] for line in fp.stdout.strip().splitlines())
        assert sealing in r.stderr and signing in r.stderr
        with open_store(home) as store:
            identity = get_identity(store)
        assert identity is not None and identity.server_verify_key is not None
        assert pkt.fingerprint(identity.server_verify_key) == signing
        # A new server's key is hybrid (ML-KEM-768 + X25519): the station seals with it.
        assert isinstance(identity.server_public_key, pkt.HybridPublicKey)
        assert pkt.SUITE_HYBRID in sealing


def test_plain_http_only_on_this_machine_or_a_private_lan() -> None:
    for ok in ("http://127.0.0.1:8000", "http://localhost:8000", "http://10.0.0.5:8000",
               "http://192.168.1.20", "http://[::1]:8000", "https://203.0.113.5"):  # fmt: skip
        assert check_server_url(ok) == ok
    with pytest.raises(InvalidServerUrl, match="https"):
        check_server_url("http://203.0.113.5:8000")
    assert check_server_url("http://203.0.113.5:8000", allow_insecure_http=True)
    r = run_station("--home", "/nonexistent/x", "provision", "--server", "http://203.0.113.5",
                    "--code", "ABCD")  # fmt: skip
    assert r.returncode == 2 and "server" in r.stderr and "--insecure-http" in r.stderr


def test_https_with_a_pinned_certificate(tmp_path: Path) -> None:
    """A server behind https with a certificate of its own: pinned at provisioning, it is
    the one certificate the station trusts for every later request; another is refused."""
    cert, key = self_signed(tmp_path / "tls")
    other, _ = self_signed(tmp_path / "other", "someone-else")
    with ServerProcess(tmp_path / "server") as srv, TlsFront(srv.port, cert, key) as front:
        home = tmp_path / "station"
        code = add_station(srv)
        base = ("--home", str(home), "provision", "--server", front.url, "--code", code)
        r = run_station(*base, "--ca-file", str(tmp_path))  # a folder: bad input
        assert r.returncode == 2 and "ca-file" in r.stderr, r.stderr
        r = run_station(*base)  # not in the system's store: refused, nothing stored
        assert r.returncode == 1, r.stdout + r.stderr
        assert "SSL" in r.stderr, r.stderr
        r = run_station(*base, "--ca-file", str(other))  # the wrong certificate
        assert r.returncode == 1 and "SSL" in r.stderr, r.stderr
        r = run_station(*base, "--ca-file", str(cert))
        assert r.returncode == 0, r.stderr
        assert (home / "server-ca.pem").read_bytes() == cert.read_bytes()
        with open_store(home) as store:
            from app.store.operators import add_operator

            add_operator(store, "siti", "operator", "rahasia-siti-123", actor="test")
            seal_n(store, 2)
        r = run_station("--home", str(home), "sync", "--once")
        assert r.returncode == 0, r.stdout + r.stderr
        assert _server_packets(srv) == 2
