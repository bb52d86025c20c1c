"""Alembic from the first schema on: empty -> head, round trip, old DB opens, reopen no-op."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.store.db import DB_NAME, SCHEMA_HEAD, current_revision, make_engine, open_store
from app.store.errors import StorageError
from app.store.migrate import downgrade_to, head_revision, upgrade_to
from app.store.models import Base
from tests.support.cli import run_station


def _schema(db: Path) -> list[tuple[str, str]]:
    con = sqlite3.connect(db)
    rows = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name"
    ).fetchall()
    con.close()
    return rows


def test_schema_head_constant_is_the_alembic_head() -> None:
    assert head_revision() == SCHEMA_HEAD


def test_empty_db_to_head_matches_the_models(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        assert current_revision(store.engine) == SCHEMA_HEAD
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert diff == []


def test_downgrade_upgrade_round_trip(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        before = _schema(store.db_path)
        downgrade_to(store.engine, "0001")
        assert current_revision(store.engine) == "0001"
        assert "ix_record_status_next_attempt_at_seq" not in dict(_schema(store.db_path))
        downgrade_to(store.engine, "base")
        assert [n for n, _ in _schema(store.db_path)] == ["alembic_version"]
        upgrade_to(store.engine, "head")
        assert _schema(store.db_path) == before


def old_db_with_one_record(home: Path, revision: str) -> sqlite3.Connection:
    """A station DB at an earlier ``revision`` holding one sealed record ``u-1``, as that
    version wrote it; returns an open connection to add more (commit and close it)."""
    engine = make_engine(home / "station.db")
    upgrade_to(engine, revision)
    engine.dispose()
    con = sqlite3.connect(home / "station.db")
    con.execute(
        "INSERT INTO record (uuid, status, packet, sha256, size, kecamatan, operator, sealed_at,"
        " attempts) VALUES ('u-1', 'sealed', x'00', 'ab', 1, '36.03.32', 'siti',"
        " '2026-01-01T00:00:00.000000Z', 0)"
    )
    return con


def test_old_db_opens_after_upgrade_with_its_data(tmp_path: Path) -> None:
    con = old_db_with_one_record(tmp_path, "0001")
    con.execute(
        "INSERT INTO audit_event (id, at, actor, kind, detail, prev_hash, hash)"
        " VALUES (1, '2026-01-01T00:00:00.000000Z', 'a', 'k', '{}', 'p', 'h')"
    )
    con.commit()
    con.close()
    with open_store(tmp_path) as store:
        assert current_revision(store.engine) == SCHEMA_HEAD
        from app.store.outbox import Outbox

        assert Outbox(store).counts()["sealed"] == 1
        con = sqlite3.connect(store.db_path)
        cols = [r[1] for r in con.execute("PRAGMA table_info(audit_event)")]
        kept = con.execute("SELECT hash FROM audit_event").fetchall()
        con.close()
        assert "synced_at" in cols and kept == [("h",)]


def test_opening_twice_changes_nothing(tmp_path: Path) -> None:
    open_store(tmp_path).close()
    schema = _schema(tmp_path / "station.db")
    con = sqlite3.connect(tmp_path / "station.db")
    (changes_before,) = con.execute("PRAGMA data_version").fetchone()
    with open_store(tmp_path) as store:
        assert current_revision(store.engine) == SCHEMA_HEAD
    (changes_after,) = con.execute("PRAGMA data_version").fetchone()
    con.close()
    assert _schema(tmp_path / "station.db") == schema
    assert changes_after == changes_before  # no other connection committed anything


def test_every_connection_gets_the_pragmas(tmp_path: Path) -> None:
    with open_store(tmp_path) as store:
        for _ in range(2):
            with store.engine.connect() as conn:
                got = {
                    p: conn.exec_driver_sql(f"PRAGMA {p}").scalar()
                    for p in (
                        "journal_mode",
                        "synchronous",
                        "foreign_keys",
                        "busy_timeout",
                        "temp_store",
                        "secure_delete",
                    )
                }
            assert got == {
                "journal_mode": "wal",
                "synchronous": 2,
                "foreign_keys": 1,
                "busy_timeout": 5000,
                "temp_store": 2,
                "secure_delete": 1,
            }


def test_two_processes_upgrading_at_once(tmp_path: Path) -> None:
    """After a reinstall the GUI and a CLI may open the old database together."""
    import subprocess
    import sys
    import time

    from tests.support.cli import ROOT, env_with_source

    engine = make_engine(tmp_path / "station.db")
    upgrade_to(engine, "0001")
    engine.dispose()
    go = tmp_path / "go"
    # Each process imports everything, says so, then waits for the same start signal, so the
    # opens (and Alembic's upgrades) really overlap, however long the imports take.
    code = (
        "import os, sys, time; from pathlib import Path; from app.store.db import open_store;"
        "import app.store.migrate;"
        "go = Path(sys.argv[2]); Path(f'{go}.ready-{os.getpid()}').touch();"
        "[time.sleep(0.005) for _ in range(12000) if not go.exists()];"
        "open_store(Path(sys.argv[1])).close()"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(tmp_path), str(go)],
                         env=env_with_source(), cwd=ROOT, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]  # fmt: skip
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("go.ready-*"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(list(tmp_path.glob("go.ready-*"))) == 3, "the processes never got ready"
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
    with open_store(tmp_path) as store:
        assert current_revision(store.engine) == SCHEMA_HEAD


def test_new_store_files_are_owner_only(tmp_path: Path) -> None:
    import stat

    with open_store(tmp_path / "home") as store:
        with store.write() as s:  # make SQLite create the -wal and -shm files
            from app.store.audit import record_event

            record_event(s, "t", "k", {})
        for name in ("station.db", "station.db-wal", "station.db-shm"):
            mode = stat.S_IMODE((tmp_path / "home" / name).stat().st_mode)
            assert mode & 0o077 == 0, (name, oct(mode))
    assert stat.S_IMODE((tmp_path / "home").stat().st_mode) & 0o077 == 0


def test_a_database_from_a_newer_program_is_refused_plainly_and_left_alone(tmp_path: Path) -> None:
    # An older installer over a newer station: the program must not touch the data, and the
    # technician gets one line saying what to install (not an internal error).
    home = tmp_path / "station"
    open_store(home).close()
    newer = f"{int(SCHEMA_HEAD) + 1:04d}"
    con = sqlite3.connect(home / DB_NAME)
    with con:
        con.execute("UPDATE alembic_version SET version_num = ?", (newer,))
    con.close()
    before = _schema(home / DB_NAME)
    with pytest.raises(StorageError) as caught:
        open_store(home)
    assert caught.value.kind == "newer_schema" and newer in caught.value.message
    res = run_station("--home", str(home), "status")
    assert res.returncode == 1, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "newer version of the program" in lines[0], res.stderr
    assert _schema(home / DB_NAME) == before
    con = sqlite3.connect(home / DB_NAME)
    assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [(newer,)]
    con.close()
