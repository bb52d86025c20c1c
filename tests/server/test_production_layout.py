"""docs/server.md's "Production layout", started as the document says (issue 15): one
PostgreSQL, one S3-compatible store (a real SeaweedFS), two stateless hosts (the first given
``--blobs`` and making the cluster's key, the second given only that key, each ``serve
--workers 2``) and a processor of its own (``ektp-server process`` on a third home, given the
key). A kit enrolled through host 1 uploads through host 2; its packets land in the bucket,
the processor opens them from there, and coverage counts them (a host with another key refusing
to start is tests/server/test_cluster_key.py's)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.support.cli import ROOT, env_with_source
from tests.support.office import office_json, person, seal_record
from tests.support.seaweed import BUCKET, SeaweedS3
from tests.support.server import PostgresCluster, ServerProcess
from tests.support.server_fixtures import TestStation

pytestmark = pytest.mark.postgres


def _data_lengths(url: str) -> dict[str, int]:
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return {
                r[0]: int(r[1])
                for r in conn.execute(text("SELECT uuid, length(data) FROM packets"))
            }
    finally:
        engine.dispose()


def test_the_documented_production_layout_runs(
    tmp_path: Path, pg_cluster: PostgresCluster, seaweed_s3: SeaweedS3
) -> None:
    url = pg_cluster.create_database()
    blobs = f"s3://{BUCKET}/{seaweed_s3.new_prefix()}"
    # 3. The first host: the bucket given, its sealing key made and recorded.
    host1 = ServerProcess(
        tmp_path / "host1", url, extra=["--workers", "2", "--blobs", blobs], env=seaweed_s3.env()
    ).start()
    key = tmp_path / "secrets" / "sealing_key.pem"  # "copy its sealing_key.pem to the secrets"
    key.parent.mkdir()
    key.write_bytes((host1.home / "sealing_key.pem").read_bytes())
    key.chmod(0o600)
    given = {**seaweed_s3.env(), "EKTP_SEALING_KEY_FILE": str(key)}
    host2 = processor = None
    try:
        # 4. Hosts 2..N: the cluster's key from the secret, the bucket the recorded one.
        host2 = ServerProcess(tmp_path / "host2", url, extra=["--workers", "2"], env=given).start()
        assert not (host2.home / "sealing_key.pem").exists()  # a given key is not copied
        # 5. A processor of its own (not inside a host), holding the key.
        plog = open(tmp_path / "processor.log", "ab")  # noqa: SIM115 - the child owns it
        processor = subprocess.Popen(
            [sys.executable, "-m", "server", "--home", str(tmp_path / "proc"), "--db", url,
             "process"],
            stdout=plog, stderr=subprocess.STDOUT, env=env_with_source(given), cwd=ROOT,
        )  # fmt: skip
        plog.close()

        targets = tmp_path / "wajib_ktp.csv"
        targets.write_text("kode_wilayah,wajib_ktp\n36.03.32,34262\n")
        office_json(host1.home, url, "targets", "import", str(targets), "--by", "kasi", "--json")

        kit = TestStation.enroll(host1, name="Gunung Kaler 1", kecamatan="36.03.32")
        kit.url = host2.url  # the balancer sends its uploads to the other host
        packets = [seal_record(kit, person(i)) for i in (1, 2, 3)]
        packets.append(seal_record(kit, person(2)))  # the same resident again
        for p in packets:
            assert kit.put(p).status_code == 201
        # The bytes went to the bucket, the rows hold metadata only.
        assert _data_lengths(url) == {p.uuid: 0 for p in packets}

        deadline = time.monotonic() + 60
        doc = {}
        while time.monotonic() < deadline:
            doc = office_json(host1.home, url, "coverage", "--json", "--wilayah", "36.03.32")
            if doc["wilayah"]["terekam"] == 3:
                break
            assert processor.poll() is None, (tmp_path / "processor.log").read_text()
            time.sleep(0.5)
        assert (doc["wilayah"]["wajib_ktp"], doc["wilayah"]["terekam"]) == (34262, 3), doc
        assert doc["wilayah"]["sisa"] == 34259
        dup = office_json(host1.home, url, "records", "--status", "duplicate", "--json")
        assert [r["uuid"] for r in dup["records"]] == [packets[3].uuid]
        assert dup["records"][0]["duplicate_of"] == packets[1].uuid

    finally:
        if processor is not None:
            processor.terminate()
            processor.wait(30)
        if host2 is not None:
            host2.stop()
        host1.stop()
