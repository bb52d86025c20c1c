"""One sealing key for the cluster (server/cluster_key.py): hosts on one PostgreSQL database.

A host set up with a fresh key used to join the cluster without a word and answer every
station 400 wrong_server_key; now it refuses to start, in one line, exit 2.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import requests

from app import packet as pkt
from tests.support.cli import run_server
from tests.support.server import PostgresCluster, ServerProcess, free_port
from tests.support.server_fixtures import TestStation

pytestmark = pytest.mark.postgres


def _serve(home: Path, url: str, *keys: Path, env: dict[str, str] | None = None) -> Any:
    """``serve`` on a host expected to refuse: it must exit on its own (not serve)."""
    given = [a for k in keys for a in ("--sealing-key", str(k))]
    try:
        return run_server(
            "--home", str(home), "--db", url, *given, "serve", "--port", str(free_port()),
            env=env, timeout=40,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        raise AssertionError("the host started instead of refusing") from None


def _key_id(path: Path) -> str:
    return pkt.key_id(pkt.load_sealing_private_key(path.read_bytes()).public_key())


def test_a_host_without_the_cluster_key_refuses_to_start(
    tmp_path: Path, pg_cluster: PostgresCluster
) -> None:
    url = pg_cluster.create_database()
    with ServerProcess(tmp_path / "a", url) as a:
        cluster_key = a.home / "sealing_key.pem"
        cluster_id = _key_id(cluster_key)
        kit = TestStation.enroll(a)

        # A new host, fresh home: it must not make a key of its own.
        res = _serve(tmp_path / "b", url)
        assert res.returncode == 2, res.stderr
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1, res.stderr
        assert "no sealing key" in lines[0] and cluster_id in lines[0]
        assert not (tmp_path / "b" / "sealing_key.pem").exists()

        # A host given a key of its own (as an operator setting it up fresh would).
        own = tmp_path / "own.pem"
        made = run_server("keys", "new", str(own))
        assert made.returncode == 0, made.stderr
        own_id = made.stdout.strip()
        assert own_id == _key_id(own) and own_id != cluster_id
        res = _serve(tmp_path / "c", url, own)
        assert res.returncode == 2, res.stderr
        (line,) = res.stderr.strip().splitlines()
        assert f"this host's sealing key is {own_id}" in line
        assert f"cluster's (recorded in the database) is {cluster_id}" in line
        # The same through the environment, and an admin command on that host.
        env = {"EKTP_SEALING_KEY": own.read_text()}
        res = _serve(tmp_path / "c", url, env=env)
        assert res.returncode == 2 and own_id in res.stderr, res.stderr
        res = run_server("--home", str(tmp_path / "c"), "--db", url, "packets", env=env)
        assert res.returncode == 2 and cluster_id in res.stderr, res.stderr

        # Given the cluster's key (a path in the environment), the second host serves and
        # stores a kit's packet, which the first host holds too.
        b_env = {"EKTP_SEALING_KEY_FILE": str(cluster_key)}
        with ServerProcess(tmp_path / "b", url, env=b_env) as b:
            assert (
                requests.get(b.url + "/api/v1/health", timeout=5).json()["server_key_id"]
                == cluster_id
            )
            kit.url = b.url
            sealed = kit.seal()
            assert kit.put(sealed).status_code == 201
            kit.url = a.url
            assert kit.put(sealed).status_code == 200
            assert not (tmp_path / "b" / "sealing_key.pem").exists()


def test_rotation_keeps_the_old_key_for_opening(
    tmp_path: Path, pg_cluster: PostgresCluster
) -> None:
    url = pg_cluster.create_database()
    home = tmp_path / "a"
    new = tmp_path / "new.pem"
    with ServerProcess(home, url) as a:
        old_id = _key_id(home / "sealing_key.pem")
        before = TestStation.enroll(a)  # seals to the old key
        first = before.seal()
        assert before.put(first).status_code == 201
    assert run_server("keys", "new", str(new)).returncode == 0
    assert os.stat(new).st_mode & 0o777 == 0o600
    new_id = _key_id(new)
    rot = run_server("--home", str(home), "--db", url, "keys", "rotate", "--new", str(new))
    assert rot.returncode == 0, rot.stderr
    assert new_id in rot.stdout
    # The home now holds the new key in force and the old one kept for opening.
    retired = home / f"sealing_key.retired-{old_id}.pem"
    assert _key_id(home / "sealing_key.pem") == new_id and _key_id(retired) == old_id
    assert os.stat(retired).st_mode & 0o777 == 0o600

    # A host that still holds only the old key now refuses.
    res = _serve(tmp_path / "b", url, retired)
    assert res.returncode == 2, res.stderr
    assert f"is {old_id}, but the cluster's (recorded in the database) is {new_id}" in res.stderr

    with ServerProcess(home, url) as a:
        health = requests.get(a.url + "/api/v1/health", timeout=5).json()
        assert health["server_key_id"] == new_id
        # A kit provisioned before the rotation still seals to the old key: accepted.
        before.url = a.url
        second = before.seal()
        assert before.put(second).status_code == 201
        # A kit enrolled now is given the new key.
        after = TestStation.enroll(a)
        assert pkt.key_id(after.server_key) == new_id
        third = after.seal()
        assert after.put(third).status_code == 201

    for packet in (first, second, third):
        out = tmp_path / f"out-{packet.uuid}"
        res = run_server(
            "--home", str(home), "--db", url, "open-packet", packet.uuid, "--out", str(out)
        )
        assert res.returncode == 0, res.stderr
        assert (out / "face.jpg").exists()
