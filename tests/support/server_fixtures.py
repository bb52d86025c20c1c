"""Pytest fixtures: a PostgreSQL cluster per session, server processes, enrolled test stations."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from uuid6 import uuid7

from app import packet as pkt
from app import protocol
from app.sync.provision import enroll
from tests.support.cli import run_server
from tests.support.components import missing
from tests.support.residents import BUDI_LAKI, resident
from tests.support.server import PostgresCluster, ServerProcess, find_pg_bindir


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    bindir = find_pg_bindir()
    if bindir is None or shutil.which("runuser") is None:
        missing("PostgreSQL", "apt-get install postgresql")
        raise AssertionError("unreachable")
    cluster = PostgresCluster(bindir)
    try:
        cluster.start()
    except Exception as exc:
        cluster.stop()
        missing("PostgreSQL", f"cluster did not start: {exc}")
    yield cluster
    cluster.stop()


# A test of the flow between kits, relays and the centre, where the database under the server
# decides nothing, runs on SQLite only (the suite's time is spent where PostgreSQL can differ:
# storage, locking, migrations, counting, the office's queries, which run on both).
sqlite_only = pytest.mark.parametrize("db_url", [None], ids=["sqlite"])


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str | None:
    """None = the embedded SQLite file in the server home; else a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return None
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_database()


@pytest.fixture
def server(tmp_path: Path, db_url: str | None) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path / "server", db_url).start()
    yield proc
    proc.stop()


def add_station(
    srv: ServerProcess, name: str = "Kit 1", kecamatan: str = "36.03.32", relay: bool = False
) -> str:
    """``ektp-server station add [--relay] --json``: returns the one-time code."""
    args = ["--home", str(srv.home)]
    if srv.db_url:
        args += ["--db", srv.db_url]
    extra = ["--relay"] if relay else []
    res = run_server(
        *args, "station", "add", "--name", name, "--kecamatan", kecamatan, *extra, "--json"
    )
    assert res.returncode == 0, res.stderr
    return str(json.loads(res.stdout)["code"])


def server_cli(srv: ServerProcess, *args: str) -> Any:
    base = ["--home", str(srv.home)]
    if srv.db_url:
        base += ["--db", srv.db_url]
    return run_server(*base, *args)


@dataclass
class TestStation:
    """A station made of the real key material and packet format, no store: for server tests."""

    url: str
    station_id: str
    key: Ed25519PrivateKey
    server_key: pkt.SealingPublicKey
    kecamatan: str
    session: requests.Session = field(default_factory=requests.Session)

    __test__ = False

    @classmethod
    def enroll(cls, srv: ServerProcess, code: str | None = None, **kw: Any) -> TestStation:
        code = code or add_station(srv, **kw)
        key = Ed25519PrivateKey.generate()
        e = enroll(srv.url, code, key.public_key())
        return cls(
            srv.url, e.station_id, key, pkt.load_sealing_public_key(e.server_key_pem), e.kecamatan
        )

    def seal(
        self, nama: str = "BUDI", photo_bytes: int = 256, uuid: str | None = None, **manifest: Any
    ) -> pkt.SealedPacket:
        uuid = uuid or str(uuid7())
        bio = resident(BUDI_LAKI, nama=nama)
        photo = hashlib.sha256(uuid.encode()).digest() * (photo_bytes // 32 + 1)
        return pkt.seal(
            {"uuid": uuid, "station_id": self.station_id, "biodata": bio, **manifest},
            [pkt.Attachment("face.jpg", "image/jpeg", photo[:photo_bytes])],
            uuid=uuid,
            station_id=self.station_id,
            kecamatan=self.kecamatan,
            server_public_key=self.server_key,
            station_key=self.key,
        )

    def signed(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        now: float | None = None,
        station_id: str | None = None,
        key: Ed25519PrivateKey | None = None,
    ) -> requests.Response:
        headers = protocol.sign_request(
            method, path, body, station_id or self.station_id, key or self.key, now=now
        )
        return self.session.request(method, self.url + path, data=body, headers=headers, timeout=30)

    def put(self, packet: pkt.SealedPacket | bytes, uuid: str | None = None) -> requests.Response:
        data = packet.data if isinstance(packet, pkt.SealedPacket) else packet
        uuid = uuid or pkt.read_header(data).uuid
        return self.signed("PUT", protocol.packet_path(uuid), data)
