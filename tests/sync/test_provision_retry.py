"""`ektp-station provision` when the server committed but the reply never arrived, or the
station could not store the reply: the same code works again, with the same key. Real server
processes (SQLite and PostgreSQL), the project's fault proxy, a real full disk (tmpfs)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from app import packet as pkt
from app.store.db import open_store
from app.store.models import PendingKey
from app.store.station import get_identity, pending_signing_key
from app.sync.provision import ProvisionError, enroll
from server.keys import load_or_create_relay_key
from tests.support.cli import env_with_source, run_server, run_station
from tests.support.faultproxy import FaultProxy
from tests.support.fs import fill, small_tmpfs
from tests.support.server import ServerProcess
from tests.support.server_fixtures import add_station, server_cli


def _provision(home: Path, url: str, code: str) -> Any:
    return run_station("--home", str(home), "provision", "--server", url, "--code", code, "--json")


# The station's side of provisioning: the server's answers on both databases are proved in
# tests/server/test_enroll_retry.py, so these run against the SQLite server only (time).
SQLITE_SERVER = pytest.mark.parametrize("db_url", [None], ids=["sqlite"])


def _stations(srv: ServerProcess) -> dict[str, dict[str, Any]]:
    res = server_cli(srv, "station", "list", "--json")
    assert res.returncode == 0, res.stderr
    return {s["station_id"]: s for s in json.loads(res.stdout)["stations"]}


def _local_key_id(home: Path) -> tuple[str, str]:
    with open_store(home) as store:
        identity = get_identity(store)
    assert identity is not None
    return identity.station_id, pkt.key_id(identity.signing_key.public_key())


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


@SQLITE_SERVER
def test_a_lost_reply_is_retried_inside_provision(server: ServerProcess, tmp_path: Path) -> None:
    _retried_inside_provision(server, tmp_path, "lost_reply")


@pytest.mark.parametrize("fault", ["truncate", "reset"])
def test_a_cut_reply_or_a_reset_is_retried_too(tmp_path: Path, fault: str) -> None:
    # The station's side of it: the server's database plays no part (SQLite only).
    with ServerProcess(tmp_path / "server") as srv:
        _retried_inside_provision(srv, tmp_path, fault)


def _retried_inside_provision(server: ServerProcess, tmp_path: Path, fault: str) -> None:
    code = add_station(server, name="Kit Kronjo", kecamatan="36.03.07")
    home = tmp_path / "station"
    with FaultProxy(server.port) as proxy:
        proxy.forced = [fault]
        r = _provision(home, proxy.url, code)
        assert proxy.counts[fault] == 1 and proxy.counts["ok"] == 1
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    station_id, key_id = _local_key_id(home)
    assert doc["station_id"] == station_id and doc["kecamatan"] == "36.03.07"
    listed = _stations(server)
    assert list(listed) == [station_id]
    assert listed[station_id]["key_id"] == key_id and listed[station_id]["state"] == "enrolled"
    # the used code is still refused to any other key
    with pytest.raises(ProvisionError, match="already used"):
        enroll(server.url, code, Ed25519PrivateKey.generate().public_key(), attempts=1)


@SQLITE_SERVER
def test_every_reply_lost_then_a_second_run_works(server: ServerProcess, tmp_path: Path) -> None:
    code = add_station(server, name="Kit Gunung Kaler")
    home = tmp_path / "station"
    with FaultProxy(server.port) as proxy:
        proxy.forced = ["lost_reply", "truncate", "lost_reply"]  # every attempt of one run
        r = _provision(home, proxy.url, code)
        assert proxy.counts["ok"] == 0
    assert r.returncode == 1
    line = _one_line(r.stderr)
    assert "server" in line and "same code" in line, line
    # The server committed the first attempt: it holds the key the station kept, pending.
    with open_store(home) as store:
        assert get_identity(store) is None
        pending = pkt.key_id(pending_signing_key(store).public_key())
    (held,) = _stations(server).values()
    assert held["key_id"] == pending
    # A mistyped code next is refused, and the kept key stays (the home was not fresh).
    r = _provision(home, server.url, "AAAA-BBBB-CCCC-DDDD")
    assert r.returncode == 2 and "not valid" in _one_line(r.stderr)
    with open_store(home) as store:
        assert pkt.key_id(pending_signing_key(store).public_key()) == pending
    # The technician runs it again (the network is back): the same code works.
    r = _provision(home, server.url, code)
    assert r.returncode == 0, r.stderr
    station_id, key_id = _local_key_id(home)
    assert key_id == pending and json.loads(r.stdout)["station_id"] == station_id
    assert _stations(server)[station_id]["key_id"] == key_id
    with open_store(home) as store, store.read() as session:
        # the pending key became the identity's, in the same transaction
        assert session.execute(select(func.count()).select_from(PendingKey)).scalar() == 0


@SQLITE_SERVER
def test_disk_full_after_the_redemption_then_same_code_works(
    server: ServerProcess, tmp_path: Path
) -> None:
    """The reply arrives but the station cannot store it (its disk fills at that moment)."""
    code = add_station(server, name="Kit disk penuh", kecamatan="36.03.07")
    with small_tmpfs(tmp_path / "disk", "3m") as disk, FaultProxy(server.port) as proxy:
        home = disk / "station"
        fillers: list[Path] = []

        def disk_fills() -> None:
            if not fillers:
                fillers.append(fill(disk))

        proxy.on_forwarded = disk_fills  # after the server committed, before the reply
        r = _provision(home, proxy.url, code)
        assert fillers, "the redemption never reached the server"
        assert r.returncode == 1, r.stdout
        line = _one_line(r.stderr)
        assert "storage (disk_full)" in line and "same code" in line, line
        fillers[0].unlink()
        with open_store(home) as store:
            assert get_identity(store) is None
            pending = pkt.key_id(pending_signing_key(store).public_key())
        (held,) = _stations(server).values()
        assert held["key_id"] == pending  # the code is used, by the key the station kept
        r = _provision(home, server.url, code)  # space is back
        assert r.returncode == 0, r.stderr
        station_id, key_id = _local_key_id(home)
    assert key_id == pending and station_id == held["station_id"]
    assert json.loads(r.stdout)["kecamatan"] == "36.03.07"
    assert _stations(server)[station_id]["key_id"] == key_id


@SQLITE_SERVER
def test_relay_provision_survives_a_lost_reply(server: ServerProcess, tmp_path: Path) -> None:
    code = add_station(server, name="Relay Kronjo", relay=True)
    relay_home = tmp_path / "relay"
    with FaultProxy(server.port) as proxy:
        proxy.forced = ["lost_reply"]
        r = run_server(
            "--home", str(relay_home), "relay", "provision", "--upstream", proxy.url,
            "--code", code,
        )  # fmt: skip
        assert proxy.counts["lost_reply"] == 1
    assert r.returncode == 0, r.stderr
    (relay,) = _stations(server).values()
    assert relay["relay"] is True
    assert relay["key_id"] == pkt.key_id(load_or_create_relay_key(relay_home).public_key())


def test_pending_key_is_kept_in_the_home_until_the_identity_takes_it(tmp_path: Path) -> None:
    import stat

    from app.store.errors import AlreadyInitialized
    from app.store.station import init_station
    from tests.support.station import make_server_key

    _, server_key = make_server_key(tmp_path / "srv")
    home = tmp_path / "station"
    with open_store(home) as store:
        first = pending_signing_key(store)
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    with open_store(home) as store:  # another run of provision: the same key
        assert pending_signing_key(store).private_bytes_raw() == first.private_bytes_raw()
        # set up offline instead (`init`): the kit keeps the key a server may already hold
        identity = init_station(
            store, server_key_pem=server_key.read_bytes(), kecamatan="36.03.32", name="Kit"
        )
        assert identity.signing_key.private_bytes_raw() == first.private_bytes_raw()
        with pytest.raises(AlreadyInitialized):
            pending_signing_key(store)
        with store.read() as session:
            assert session.execute(select(func.count()).select_from(PendingKey)).scalar() == 0


def test_a_500_after_the_commit_keeps_the_key_and_the_same_code_works(tmp_path: Path) -> None:
    """A bare HTTP 500 (not the server's error shape) after the server committed is a lost
    answer, not a refused code: retried, the pending key kept, and the same code works again
    (before: 'code refused', and on a fresh home the key the server now holds was deleted).
    The station's side only: SQLite."""
    with ServerProcess(tmp_path / "server") as srv:
        code = add_station(srv, name="Kit 500", kecamatan="36.03.07")
        home = tmp_path / "station"
        with FaultProxy(srv.port) as proxy:
            proxy.forced = ["500_after"] * 3  # every attempt of one run
            r = _provision(home, proxy.url, code)
            assert proxy.counts["500_after"] == 3 and proxy.counts["ok"] == 0
        assert r.returncode == 1, r.stderr
        line = _one_line(r.stderr)
        assert "server:" in line and "HTTP 500" in line, line
        assert "running provision again with the same code is safe" in line, line
        with open_store(home) as store:
            assert get_identity(store) is None
            pending = pkt.key_id(pending_signing_key(store).public_key())
        (held,) = _stations(srv).values()
        assert held["key_id"] == pending  # the server committed the first attempt
        r = _provision(home, srv.url, code)
        assert r.returncode == 0, r.stderr
        station_id, key_id = _local_key_id(home)
        assert key_id == pending and station_id == held["station_id"]
        assert json.loads(r.stdout)["kecamatan"] == "36.03.07"


def test_a_refused_code_on_a_fresh_home_keeps_no_key_and_spares_another_run(
    tmp_path: Path,
) -> None:
    """A refused code on a fresh home forgets the pending key made for it, in one
    transaction, and removes no file: a station set up meanwhile by another process (here
    `init` while the refused request is held in flight) keeps its identity and its data
    (before: station.db, -wal and -shm were unlinked after the refusal)."""
    from tests.support.station import make_server_key

    _, server_key = make_server_key(tmp_path / "srv")
    with ServerProcess(tmp_path / "server") as srv:
        home = tmp_path / "station"
        with FaultProxy(srv.port, stall_s=120) as proxy:
            proxy.forced = ["hold"]
            proc = subprocess.Popen(
                [sys.executable, "-m", "app", "--home", str(home), "provision",
                 "--server", proxy.url, "--code", "AAAA-BBBB-CCCC-DDDD"],
                env=env_with_source(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                deadline = time.monotonic() + 120
                while not proxy.requests:  # the code is on its way: the home is opened
                    assert proc.poll() is None, proc.communicate()
                    assert time.monotonic() < deadline, "the request never reached the proxy"
                    time.sleep(0.05)
                r = run_station(
                    "--home", str(home), "init", "--server-key", str(server_key),
                    "--kecamatan", "36.03.32", "--name", "Kit offline",
                )  # fmt: skip
                assert r.returncode == 0, r.stderr
            finally:
                proxy.release()
                out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, err
        assert "code:" in _one_line(err) and "not valid" in err, err
    with open_store(home) as store:
        identity = get_identity(store)
        assert identity is not None and identity.name == "Kit offline"


def test_a_second_code_after_a_lost_answer_is_key_in_use_then_the_first_works(
    tmp_path: Path,
) -> None:
    """Every answer to code X lost (the server bound the kit's pending key), then the
    technician tries code Y: refused in one line naming X's station and saying to use the
    first code; the key is kept, Y stays usable, and X works. The technician screen shows
    its own message for it."""
    from app.errors import StationError
    from app.ui.messages import error_text
    from app.ui.services import Operator
    from app.ui.station import StationServices

    with ServerProcess(tmp_path / "server") as srv:
        x = add_station(srv, name="Kit X", kecamatan="36.03.07")
        y = add_station(srv, name="Kit Y")
        home = tmp_path / "station"
        with FaultProxy(srv.port) as proxy:
            proxy.forced = ["lost_reply"] * 3
            r = _provision(home, proxy.url, x)
        assert r.returncode == 1, r.stderr
        (x_id,) = (sid for sid, s in _stations(srv).items() if s["key_id"] is not None)
        r = _provision(home, srv.url, y)
        assert r.returncode == 2, r.stderr
        line = _one_line(r.stderr)
        assert "code:" in line and "key_in_use" in line and x_id in line, line
        assert "code used first" in line, line
        services = StationServices(home)  # the technician screen's service, same home
        try:
            with pytest.raises(StationError) as caught:
                services.provision(Operator("teknisi", "technician"), srv.url, y)
            assert caught.value.code == "key-in-use" and x_id in caught.value.detail
            assert "kode yang dipakai pertama kali" in error_text("key-in-use")
        finally:
            services.close()
        with open_store(home) as store:
            pending = pkt.key_id(pending_signing_key(store).public_key())
        assert _stations(srv)[x_id]["key_id"] == pending  # kept
        r = _provision(home, srv.url, x)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["station_id"] == x_id
        # Y was never used: another kit takes it
        other = enroll(srv.url, y, Ed25519PrivateKey.generate().public_key(), attempts=1)
        assert other.station_id != x_id and other.name == "Kit Y"


def test_two_runs_on_one_fresh_home_with_two_codes_bind_one_station(tmp_path: Path) -> None:
    """Two provision runs on one fresh home (one pending key), each with its own code: the
    first to reach the server binds the key; the other is key_in_use, and since the home
    has its identity by then it says the station was set up meanwhile (exit 1). One central
    station holds the key; the other code stays unused."""
    with ServerProcess(tmp_path / "server") as srv:
        first, second = add_station(srv, name="Kit A"), add_station(srv, name="Kit B")
        home = tmp_path / "station"
        with FaultProxy(srv.port, stall_s=120) as proxy:
            proxy.forced = ["hold"]
            proc = subprocess.Popen(
                [sys.executable, "-m", "app", "--home", str(home), "provision",
                 "--server", proxy.url, "--code", second],
                env=env_with_source(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            )  # fmt: skip
            try:
                deadline = time.monotonic() + 120
                while not proxy.requests:  # the pending key is stored, the code on its way
                    assert proc.poll() is None, proc.communicate()
                    assert time.monotonic() < deadline, "the request never reached the proxy"
                    time.sleep(0.05)
                r = _provision(home, srv.url, first)
                assert r.returncode == 0, r.stderr
            finally:
                proxy.release()
                _, err = proc.communicate(timeout=120)
        assert proc.returncode == 1, err
        line = _one_line(err)
        assert "station:" in line and "set up meanwhile" in line, line
        station_id, key_id = _local_key_id(home)
        assert station_id == json.loads(r.stdout)["station_id"]
        bound = {sid: s["key_id"] for sid, s in _stations(srv).items() if s["key_id"]}
        assert bound == {station_id: key_id}
        other = enroll(srv.url, second, Ed25519PrivateKey.generate().public_key(), attempts=1)
        assert other.name == "Kit B"
