"""The server's schema under Alembic: the baseline is the previous release's schema 3, a
database that release made is upgraded in place and keeps working, and a database from a newer
release is refused in one line with nothing changed. SQLite and PostgreSQL."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

from alembic import command
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, inspect, text

from app import packet as pkt
from server import db, schema
from server.core import ServerCore
from tests.server.test_schema_upgrade import legacy_enroll, old_code, run_old, start_old_server
from tests.support.cli import run_server
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, server_cli

# The last release before Alembic: its server kept schema_version 3 by hand.
SCHEMA_3_COMMIT = "d54197d"


def _url(home: Path, db_url: str | None) -> str:
    return db_url or f"sqlite:///{home / 'server.db'}"


def _shape(engine: Engine) -> dict[str, Any]:
    """Tables, columns (type, nullable, default), primary keys and indexes, as reflected."""
    insp = inspect(engine)
    out: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        if table == "alembic_version":
            continue
        out[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in insp.get_columns(table)
            ],
            "pk": insp.get_pk_constraint(table)["constrained_columns"],
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(table)
            ),
        }
    return out


def test_baseline_is_the_schema_of_the_previous_release(tmp_path: Path, db_url: str | None) -> None:
    code = old_code(tmp_path / "old", SCHEMA_3_COMMIT, 3)
    old_home = tmp_path / "old-home"
    res = run_old(
        code, "--home", str(old_home), *(["--db", db_url] if db_url else []), "keys", "public"
    )
    assert res.returncode == 0, res.stderr
    old_engine = db.make_engine(_url(old_home, db_url))
    new_url = f"sqlite:///{tmp_path / 'new.db'}" if db_url is None else _fresh_pg(db_url)
    new_engine = db.make_engine(new_url)
    try:
        cfg = schema.alembic_config()
        with new_engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, schema.BASELINE)
        assert _shape(new_engine) == _shape(old_engine)
    finally:
        old_engine.dispose()
        new_engine.dispose()


def _fresh_pg(db_url: str) -> str:
    """A second empty database on the same cluster as ``db_url``."""
    base, _, name = db_url.rpartition("/")
    admin = db.make_engine(f"{base}/postgres")
    try:
        with admin.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(
                text(f'CREATE DATABASE "{name}_b"')
            )
    finally:
        admin.dispose()
    return f"{base}/{name}_b"


def test_previous_release_database_is_upgraded_and_works(
    tmp_path: Path, db_url: str | None
) -> None:
    code = old_code(tmp_path / "old", SCHEMA_3_COMMIT, 3)
    home = tmp_path / "central"
    base = ["--home", str(home), *(["--db", db_url] if db_url else [])]
    res = run_old(code, *base, "station", "add", "--name", "Kit lama", "--kecamatan", "36.03.32")
    assert res.returncode == 0, res.stderr
    kit_code = res.stdout.strip().splitlines()[-1]
    old, url = start_old_server(code, base)
    try:
        key = Ed25519PrivateKey.generate()
        e = legacy_enroll(url, kit_code, key)
        kit = TestStation(
            url, e.station_id, key, pkt.load_sealing_public_key(e.server_key_pem), "36.03.32"
        )
        old_packet = kit.seal(nama="SEBELUM UPGRADE")
        assert kit.put(old_packet).status_code == 201
    finally:
        os.kill(old.pid, signal.SIGTERM)
        old.wait(15)

    srv = ServerProcess(home, db_url).start()  # upgrades at start
    try:
        core = ServerCore(home, db_url)
        try:
            with core.engine.connect() as conn:
                assert schema.current_revision(conn) == schema.head_revision()
        finally:
            core.close()
        kit.url = srv.url
        assert kit.put(old_packet).status_code == 200  # the packet the old server stored
        assert kit.put(kit.seal(nama="SESUDAH UPGRADE")).status_code == 201
        listed = run_server(*base, "packets", "--json")
        assert listed.returncode == 0, listed.stderr
        assert '"count": 2' in listed.stdout
        stations = server_cli(srv, "station", "list", "--json")
        assert kit.station_id in stations.stdout
        # The packets held before the upgrade were queued for the back office with the new.
        done = server_cli(srv, "process", "--once", "--json")
        assert done.returncode == 0, done.stderr
        assert '"queued": 0' in done.stdout
        fates = server_cli(srv, "records", "--json")
        assert '"count": 2' in fates.stdout
    finally:
        srv.stop()
    # The release before Alembic refuses the upgraded database instead of running on it.
    refused = run_old(code, *base, "station", "list")
    assert refused.returncode != 0
    assert "database schema 1000 is newer than this server (3)" in refused.stderr


def test_database_from_a_newer_release_is_refused(tmp_path: Path, db_url: str | None) -> None:
    home = tmp_path / "central"
    base = ["--home", str(home), *(["--db", db_url] if db_url else [])]
    assert run_server(*base, "station", "list").returncode == 0
    engine = db.make_engine(_url(home, db_url))
    try:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
        before = _shape(engine)
        res = run_server(*base, "station", "list")
        assert res.returncode == 1
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1, res.stderr
        assert "database schema 0999 is newer than this server" in lines[0]
        assert _shape(engine) == before
        with engine.connect() as conn:
            assert schema.current_revision(conn) == "0999"
    finally:
        engine.dispose()


def test_hand_versioned_database_newer_than_schema_3_is_refused(
    tmp_path: Path, db_url: str | None
) -> None:
    """A database a later hand-versioned server made (schema_version 4, no Alembic)."""
    home = tmp_path / "central"
    base = ["--home", str(home), *(["--db", db_url] if db_url else [])]
    engine = db.make_engine(_url(home, db_url))
    home.mkdir()
    try:
        with engine.begin() as conn:
            db.schema_version.create(conn)
            conn.execute(db.schema_version.insert().values(id=1, version=4))
        res = run_server(*base, "station", "list")
        assert res.returncode == 1
        assert res.stderr.count("\n") == 1
        assert "database schema 4 is newer than this server" in res.stderr
        assert inspect(engine).get_table_names() == ["schema_version"]
    finally:
        engine.dispose()
