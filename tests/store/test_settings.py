"""Station settings refuse values that would quietly switch a limit off or break --json."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from app.store.db import open_store
from app.store.outbox import Outbox
from app.store.settings import MAX_RETENTION_DAYS, SettingError, load_settings, set_setting
from app.store.timeutil import utcnow
from tests.support.cli import run_station
from tests.support.station import StationHome


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("backlog_max_age_h", "nan"),
        ("backlog_max_age_h", "inf"),
        ("backlog_max_age_h", "-1"),
        ("backlog_warn_fraction", "0"),
        ("backlog_warn_fraction", "2"),
        ("backlog_max_unsent", "1.5"),
        ("mirror_policy", "sometimes"),
        # "keep for ever": the purge cut-off (now - retention) is before year 1, so every
        # purge raised OverflowError: `sync --once` exited 70 and nothing was ever purged.
        ("retention_days", "1000000"),
        ("retention_days", "1000000000"),
    ],
)
def test_bad_values_are_refused_and_nothing_changes(tmp_path: Path, key: str, value: str) -> None:
    with open_store(tmp_path / "home") as store:
        before = load_settings(store)
        with pytest.raises(SettingError) as caught:
            set_setting(store, key, value, actor="test")
        assert caught.value.key == key
        assert load_settings(store) == before


def test_good_values_are_kept(tmp_path: Path) -> None:
    with open_store(tmp_path / "home") as store:
        set_setting(store, "backlog_warn_fraction", "1", actor="test")
        set_setting(store, "backlog_max_age_h", "0.5", actor="test")
        got = load_settings(store)
    assert (got.backlog_warn_fraction, got.backlog_max_age_h) == (1.0, 0.5)


def test_the_longest_retention_still_purges(tmp_path: Path) -> None:
    with open_store(tmp_path / "home") as store:
        set_setting(store, "retention_days", str(MAX_RETENTION_DAYS), actor="test")
        days = load_settings(store).retention_days
        # What the sync worker's purge does with it (app/sync/station.py).
        assert Outbox(store).purge(utcnow() - timedelta(days=days)) == 0


def test_cli_refuses_nan_and_settings_json_stays_json(station: StationHome) -> None:
    res = run_station("--home", str(station.home), "settings", "set", "backlog_max_age_h", "nan")
    assert res.returncode == 2, res.stderr
    assert res.stderr.strip().splitlines() == [
        "ektp-station: error: backlog_max_age_h: must be a finite number"
    ]
    shown = run_station("--home", str(station.home), "settings", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout, parse_constant=pytest.fail)["backlog_max_age_h"] == 72.0


def test_cli_mirror_dir_is_stored_absolute_and_must_be_a_folder(
    station: StationHome, tmp_path: Path
) -> None:
    (tmp_path / "usb").mkdir()
    (tmp_path / "a-file").write_text("x")
    home = str(station.home)
    res = run_station("--home", home, "settings", "set", "mirror_dir", "a-file", cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.strip().endswith("a-file is not a directory")
    res = run_station("--home", home, "settings", "set", "mirror_dir", "usb", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    shown = json.loads(run_station("--home", home, "settings", "--json").stdout)
    assert shown["mirror_dir"] == str(tmp_path / "usb")
