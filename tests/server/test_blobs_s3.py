"""Packets in S3-compatible object storage (server/blobs.py) against a real SeaweedFS.

The server runs on PostgreSQL with ``--blobs s3://BUCKET/PREFIX`` (endpoint and credentials
in the AWS_* variables); stations upload through the real HTTP API, and the office's commands
(`open-packet`, `import`, `migrate-blobs`, `blobs sweep`) run as a technician would.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.support.cli import run_server
from tests.support.seaweed import BUCKET, SeaweedS3, TcpPlug
from tests.support.server import PostgresCluster, ServerProcess
from tests.support.server_fixtures import TestStation

pytestmark = pytest.mark.postgres


def _objects(s3: SeaweedS3, prefix: str) -> dict[str, bytes]:
    """The objects under this test's prefix of the session's bucket."""
    c = s3.client()
    listed = c.list_objects_v2(Bucket=BUCKET, Prefix=prefix + "/").get("Contents", [])
    return {o["Key"]: c.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read() for o in listed}


def _rows(url: str) -> dict[str, tuple[int, int]]:
    """uuid -> (bytes in the data column, size)."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT uuid, length(data), size FROM packets")).all()
    finally:
        engine.dispose()
    return {r[0]: (int(r[1]), int(r[2])) for r in rows}


def _cli(srv: ServerProcess, s3: SeaweedS3, *args: str) -> Any:
    assert srv.db_url is not None
    return run_server("--home", str(srv.home), "--db", srv.db_url, *args, env=s3.env())


def test_packets_live_in_the_bucket(
    tmp_path: Path, pg_cluster: PostgresCluster, seaweed_s3: SeaweedS3
) -> None:
    url = pg_cluster.create_database()
    prefix = seaweed_s3.new_prefix()
    blobs = f"s3://{BUCKET}/{prefix}"
    extra = ["--blobs", blobs, "--process"]
    with ServerProcess(tmp_path / "server", url, extra=extra, env=seaweed_s3.env()) as srv:
        kit = TestStation.enroll(srv)
        sealed = kit.seal(photo_bytes=60_000)
        assert kit.put(sealed).status_code == 201
        # The row holds the metadata only; the object holds exactly the packet's bytes.
        assert _rows(url)[sealed.uuid] == (0, len(sealed.data))
        (key, data), *more = _objects(seaweed_s3, prefix).items()
        assert not more and key.startswith(f"{prefix}/") and data == sealed.data

        # Same uuid, same bytes: 200; other bytes: 409, and the row keeps the first.
        assert kit.put(sealed).status_code == 200
        other = kit.seal(nama="SITI", uuid=sealed.uuid)
        assert kit.put(other).status_code == 409
        assert len(_objects(seaweed_s3, prefix)) == 2  # the refused bytes: an orphan

        # `import` (a stick's export) stores through the same store.
        export = tmp_path / "export"
        export.mkdir()
        stick = kit.seal(nama="ANI")
        (export / f"{stick.uuid}.ektp").write_bytes(stick.data)
        res = _cli(srv, seaweed_s3, "import", str(export), "--json")
        assert res.returncode == 0 and json.loads(res.stdout)["imported"] == 1, res.stderr
        assert _rows(url)[stick.uuid] == (0, len(stick.data))

        # The back office's processor read both from the bucket (a fate other than a
        # decryption failure: face.jpg is not a real photo here).
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        try:
            fates: dict[str, str] = {}
            for _ in range(60):
                with engine.connect() as conn:
                    fates = dict(conn.execute(text("SELECT uuid, reason FROM records")).all())
                if len(fates) == 2:
                    break
                time.sleep(0.5)
        finally:
            engine.dispose()
        assert set(fates) == {sealed.uuid, stick.uuid}
        assert "cannot_decrypt" not in fates.values() and "malformed" not in fates.values()

    # The sweep removes the orphan (and only it); `open-packet` reads through the bucket,
    # which the database recorded: no --blobs needed.
    res = _cli(srv, seaweed_s3, "blobs", "sweep", "--older-than", "0")
    assert res.returncode == 0 and "deleted 1 " in res.stdout, res.stdout + res.stderr
    left = _objects(seaweed_s3, prefix)
    assert sorted(left.values()) == sorted([sealed.data, stick.data])
    out = tmp_path / "opened"
    res = _cli(srv, seaweed_s3, "open-packet", sealed.uuid, "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["biodata"]["nama"] == "BUDI"
    # Another bucket (or prefix) than the recorded one is refused in one line.
    res = _cli(srv, seaweed_s3, "--blobs", f"s3://{BUCKET}/{prefix}-x", "packets")
    assert res.returncode == 2 and "recorded in the database" in res.stderr, res.stderr


def test_a_failure_between_object_and_row_leaves_only_an_orphan(
    tmp_path: Path, pg_cluster: PostgresCluster, seaweed_s3: SeaweedS3
) -> None:
    url = pg_cluster.create_database()
    prefix = seaweed_s3.new_prefix()
    extra = ["--blobs", f"s3://{BUCKET}/{prefix}"]
    # The server reaches the store through a proxy the test can take down.
    proxy = TcpPlug(seaweed_s3.port).up()
    try:
        env = {**seaweed_s3.env(), "AWS_ENDPOINT_URL": proxy.url}
        with ServerProcess(tmp_path / "server", url, extra=extra, env=env) as srv:
            kit = TestStation.enroll(srv)
            sealed = kit.seal()
            # The database fails after the object is written: 503, an object, no row.
            engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
            try:
                with engine.begin() as conn:
                    conn.execute(text("ALTER TABLE packets RENAME TO packets_away"))
                resp = kit.put(sealed)
                assert resp.status_code == 503 and "Retry-After" in resp.headers, resp.text
                with engine.begin() as conn:
                    conn.execute(text("ALTER TABLE packets_away RENAME TO packets"))
            finally:
                engine.dispose()
            assert _rows(url) == {}
            assert list(_objects(seaweed_s3, prefix).values()) == [sealed.data]
            # A sweep within the grace period leaves it (an upload may be in flight) ...
            res = _cli(srv, seaweed_s3, "blobs", "sweep")
            assert res.returncode == 0 and "deleted 0 " in res.stdout, res.stderr
            # ... after it, the orphan goes; the station's retry stores the packet.
            res = _cli(srv, seaweed_s3, "blobs", "sweep", "--older-than", "0")
            assert res.returncode == 0 and "deleted 1 " in res.stdout, res.stderr
            assert _objects(seaweed_s3, prefix) == {}
            assert kit.put(sealed).status_code == 201

            # The object store is down: 503 storage_unavailable with Retry-After, no row.
            proxy.down()
            second = kit.seal(nama="SITI")
            resp = kit.put(second)
            assert resp.status_code == 503, resp.text
            assert resp.json()["error"] == "storage_unavailable"
            assert resp.headers["Retry-After"].isdigit()
            assert second.uuid not in _rows(url)
            proxy.up()
            assert kit.put(second).status_code == 201
            assert len(_objects(seaweed_s3, prefix)) == 2
    finally:
        proxy.down()


def test_migrate_blobs_moves_the_database_packets_and_resumes(
    tmp_path: Path, pg_cluster: PostgresCluster, seaweed_s3: SeaweedS3
) -> None:
    url = pg_cluster.create_database()
    prefix = seaweed_s3.new_prefix()
    with ServerProcess(tmp_path / "server", url) as srv:  # packets in the database
        kit = TestStation.enroll(srv)
        packets = [kit.seal(nama=f"WARGA {i}") for i in range(3)]
        for p in packets:
            assert kit.put(p).status_code == 201
    assert all(n > 0 for n, _ in _rows(url).values())

    blobs = f"s3://{BUCKET}/{prefix}"
    res = _cli(srv, seaweed_s3, "--blobs", blobs, "migrate-blobs", "--batch", "1", "--limit", "2")
    assert res.returncode == 0 and "moved 2 " in res.stdout and "1 still" in res.stdout, res.stderr
    # Stopped halfway: the moved ones open from the bucket, the others from the database.
    # (uuid7 order: the first two moved, the third not)
    for p in (packets[0], packets[2]):
        res = _cli(srv, seaweed_s3, "open-packet", p.uuid)
        assert res.returncode == 0 and p.uuid in res.stdout, res.stderr
    res = _cli(srv, seaweed_s3, "migrate-blobs")  # the recorded bucket; goes on
    assert res.returncode == 0 and "moved 1 " in res.stdout and "0 still" in res.stdout, res.stderr
    assert _cli(srv, seaweed_s3, "migrate-blobs").stdout.startswith("moved 0 ")
    assert all(n == 0 for n, _ in _rows(url).values())
    assert sorted(_objects(seaweed_s3, prefix).values()) == sorted(p.data for p in packets)
    res = _cli(srv, seaweed_s3, "open-packet", packets[2].uuid)
    assert res.returncode == 0 and packets[2].uuid in res.stdout, res.stderr
