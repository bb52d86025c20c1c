"""Every upgrade step of the station's files (app/store/upgrades.py), each from the file an
earlier release wrote, through the real readers; and the settings' migration 0011. The
ui.json steps: tests/ui/test_prefs_upgrade.py."""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from app.store.db import open_store
from app.store.migrate import upgrade_to
from app.store.outbox import Outbox
from app.store.settings import MAX_RETENTION_DAYS, load_settings
from app.store.timeutil import utcnow
from app.store.upgrades import FORMAT_KEY, SYNC_STATE, FileFormat
from app.sync.state import STATE_FILE, SyncStateFile, last_clock_offset
from tests.store.test_migrations import old_db_with_one_record

# --- the mechanism -----------------------------------------------------------------------------


def test_steps_run_in_order_from_the_files_format_and_only_up() -> None:
    fmt = FileFormat("x.json")
    ran: list[int] = []

    @fmt.step(1)
    def one(doc: dict) -> dict:
        ran.append(1)
        return {**doc, "a": doc.get("a", 0) + 1}

    @fmt.step(2)
    def two(doc: dict) -> dict:
        ran.append(2)
        return {**doc, "b": doc["a"] * 10}

    assert fmt.upgrade({"a": 1}) == {"a": 2, "b": 20, FORMAT_KEY: 2} and ran == [1, 2]
    ran.clear()
    assert fmt.upgrade({"a": 5, FORMAT_KEY: 1}) == {"a": 5, "b": 50, FORMAT_KEY: 2}
    assert ran == [2]
    ran.clear()
    newer = {"a": 5, "c": "?", FORMAT_KEY: 7}  # a newer program's file: not upgraded down
    assert fmt.upgrade(newer) == newer and ran == []
    with pytest.raises(ValueError, match="out of order"):
        fmt.step(4)(one)


@pytest.mark.parametrize("content", ["", "{not json", "[1, 2]", "null"])
def test_a_damaged_file_means_the_defaults(tmp_path: Path, content: str) -> None:
    (tmp_path / STATE_FILE).write_text(content)
    assert SyncStateFile(tmp_path).load().uploaded_total == 0
    SyncStateFile(tmp_path).update(now=1.0, uploaded=2)  # and it is written anew
    assert json.loads((tmp_path / STATE_FILE).read_text())[FORMAT_KEY] == SYNC_STATE.current


# --- sync-state.json ---------------------------------------------------------------------------

# What the first releases wrote (no format), as the station had it after a year of use.
FORMAT_0 = {
    "last_success_at": 1765000000.5,
    "last_attempt_at": 1765000001.0,
    "last_error": None,
    "last_error_at": None,
    "uploaded_total": 1204,
    "rejected_total": 3,
    "exposure_s": [0.8, 1.2, 35.0],
}


def test_sync_step_1_reads_a_file_of_the_first_release_unchanged(tmp_path: Path) -> None:
    (tmp_path / STATE_FILE).write_text(json.dumps(FORMAT_0))
    st = SyncStateFile(tmp_path).load()
    assert (st.uploaded_total, st.rejected_total, st.exposure_s) == (1204, 3, [0.8, 1.2, 35.0])
    assert st.last_success_at == 1765000000.5 and st.clock_offset_s is None
    assert last_clock_offset(tmp_path) is None
    SyncStateFile(tmp_path).update(now=1765000100.0, uploaded=1, exposure=[2.0])
    on_disk = json.loads((tmp_path / STATE_FILE).read_text())
    assert on_disk[FORMAT_KEY] == 1 and on_disk["uploaded_total"] == 1205
    assert on_disk["exposure_s"] == [0.8, 1.2, 35.0, 2.0]


def test_sync_step_1_turns_damaged_figures_into_numbers(tmp_path: Path) -> None:
    """A counter stored as text used to break every later update (``+=`` on a string): the
    worker's figures were never written again."""
    damaged = {
        **FORMAT_0,
        "uploaded_total": "1204",
        "rejected_total": -2,
        "last_attempt_at": "yesterday",
        "last_error": 42,
        "exposure_s": [0.8, "x", None, -1, float("inf"), 3.5] + [1.0] * 1200,
        "clock_offset_s": 12.5,  # without the time it was measured: says nothing
        "unknown": {"a": 1},
    }
    (tmp_path / STATE_FILE).write_text(json.dumps(damaged))
    st = SyncStateFile(tmp_path).update(now=1765000100.0, uploaded=1, error="server down")
    assert (st.uploaded_total, st.rejected_total) == (1, 0)
    assert st.last_attempt_at == 1765000100.0 and st.last_error == "server down"
    assert len(st.exposure_s) == 1000 and st.exposure_s[0] == 1.0
    assert st.clock_offset_s is None and last_clock_offset(tmp_path) is None
    assert "unknown" not in json.loads((tmp_path / STATE_FILE).read_text())


def test_sync_step_1_keeps_a_measured_clock_offset(tmp_path: Path) -> None:
    (tmp_path / STATE_FILE).write_text(
        json.dumps({**FORMAT_0, "clock_offset_s": -3.25, "clock_offset_at": 1765000001.0})
    )
    assert last_clock_offset(tmp_path) == (-3.25, 1765000001.0)


# --- the settings table: station migration 0011 ------------------------------------------------


def test_migration_0011_brings_a_retention_stored_above_the_limit_to_it(tmp_path: Path) -> None:
    con = old_db_with_one_record(tmp_path, "0010")
    con.executemany(
        "INSERT INTO setting (key, value) VALUES (?, ?)",
        [("retention_days", "1000000000"), ("central.retention_days", "99999999")],
    )
    con.commit()
    con.close()
    with open_store(tmp_path) as store:
        assert load_settings(store).retention_days == MAX_RETENTION_DAYS
        days = load_settings(store).retention_days
        assert Outbox(store).purge(utcnow() - timedelta(days=days)) == 0  # no OverflowError
    con = sqlite3.connect(tmp_path / "station.db")
    stored = dict(con.execute("SELECT key, value FROM setting").fetchall())
    con.close()
    assert stored["retention_days"] == stored["central.retention_days"] == str(MAX_RETENTION_DAYS)


def test_migration_0011_leaves_values_in_range_alone(tmp_path: Path) -> None:
    from app.store.db import make_engine

    engine = make_engine(tmp_path / "station.db")
    upgrade_to(engine, "0010")
    engine.dispose()
    con = sqlite3.connect(tmp_path / "station.db")
    con.execute("INSERT INTO setting (key, value) VALUES ('retention_days', '45')")
    con.commit()
    con.close()
    with open_store(tmp_path) as store:
        assert load_settings(store).retention_days == 45
