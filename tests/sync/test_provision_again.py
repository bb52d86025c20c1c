"""Provisioning a station that is already set up keeps its key and id (CLI and GUI share it),
and bad set-up input is exit 2 naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.store.db import open_store
from app.store.operators import add_operator
from app.store.outbox import Outbox
from app.store.station import get_identity
from app.sync.provision import InvalidServerUrl, check_server_url
from app.sync.station import StationSync
from tests.support.cli import run_station
from tests.support.server import ServerProcess
from tests.support.server_fixtures import add_station, server_cli
from tests.support.station import make_server_key
from tests.sync.helpers import OPERATOR, PASSWORD, provisioned_home, seal_n


def _one_error_line(stderr: str, field: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    assert field in lines[0], lines[0]


@pytest.mark.parametrize(
    "url", ["http://[::1", "http://", "ftp://x", "http://host:99999", "http://a b", "localhost"]
)
def test_check_server_url_refuses(url: str) -> None:
    with pytest.raises(InvalidServerUrl):
        check_server_url(url)


def test_check_server_url_accepts() -> None:
    assert check_server_url(" http://127.0.0.1:8000/ ") == "http://127.0.0.1:8000"
    assert check_server_url("https://[::1]:8443") == "https://[::1]:8443"


def test_bad_server_url_and_empty_name_are_usage_errors(tmp_path: Path) -> None:
    home = tmp_path / "station"
    for url in ("http://[::1", "http://", "http://x:port"):
        r = run_station("--home", str(home), "provision", "--server", url, "--code", "A-B")
        assert r.returncode == 2, (url, r.stderr)
        _one_error_line(r.stderr, "server")
    _, key = make_server_key(tmp_path / "srv")
    for name in ("", "   "):
        r = run_station(
            "--home", str(home), "init", "--server-key", str(key), "--kecamatan", "36.03.32",
            "--name", name,
        )  # fmt: skip
        assert r.returncode == 2, r.stderr
        _one_error_line(r.stderr, "name")
    r = run_station(
        "--home", str(home), "init", "--server-key", str(key), "--kecamatan", "36.03.32",
        "--server-url", "http://[::1",
    )  # fmt: skip
    assert r.returncode == 2
    _one_error_line(r.stderr, "server-url")
    assert not home.exists()  # nothing written


def test_cli_provision_again_keeps_key_and_id(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "server") as srv:
        home = tmp_path / "station"
        code = add_station(srv)
        r = run_station("--home", str(home), "provision", "--server", srv.url, "--code", code)
        assert r.returncode == 0, r.stderr
        station_id = r.stdout.strip()
        with open_store(home) as store:
            before = get_identity(store)
        assert before is not None
        again = server_cli(srv, "station", "code", station_id)
        assert again.returncode == 0, again.stderr
        r = run_station(
            "--home", str(home), "provision", "--server", srv.url + "/",
            "--code", again.stdout.strip().splitlines()[-1], "--json",
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["station_id"] == station_id
        with open_store(home) as store:
            after = get_identity(store)
            assert after is not None
            assert after.station_id == station_id
            assert after.signing_key.private_bytes_raw() == before.signing_key.private_bytes_raw()
            add_operator(store, OPERATOR, "operator", PASSWORD, actor="test")
            sealed = seal_n(store, 1)
        r = run_station("--home", str(home), "sync", "--once", "--json")
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["uploaded"] == 1
        held = json.loads(server_cli(srv, "packets", "--json").stdout)["packets"]
        assert set(sealed) <= {p["uuid"] for p in held}


def test_gui_provision_of_a_registered_station_keeps_uploads_working(tmp_path: Path) -> None:
    """The technician screen's service: a code from `station code ID` on a registered
    station re-registers its own key (before: a discarded key on the server, every upload
    refused, and AlreadyInitialized)."""
    from app.ui.services import Operator
    from app.ui.station import StationServices

    with ServerProcess(tmp_path / "server") as srv:
        home = provisioned_home(tmp_path / "station", srv)
        services = StationServices(home)
        try:
            info = services.station_info()
            assert info.station_id is not None
            code = server_cli(srv, "station", "code", info.station_id).stdout.split()[-1]
            server_cli(srv, "station", "assign", info.station_id, "--kecamatan", "36.03.07")
            after = services.provision(Operator("teknisi", "technician"), srv.url, code)
            assert after.station_id == info.station_id
            assert after.kecamatan_code == "36.03.07"  # what the server holds now
            store = services.store
            seal_n(store, 2)
            result = StationSync(store).once(deadline_s=60)
            assert result.error is None, result.error
            assert result.uploaded == 2 and Outbox(store).pending().count == 0
        finally:
            services.close()
