"""Station settings (key/value), with their defaults and types in one place."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, fields
from pathlib import Path

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from app.store.db import Store
from app.store.models import Setting

MIRROR_POLICIES = ("required", "warn")
CENTRAL_PREFIX = "central."  # the central office's policy rows (app/store/central.py)
# A hundred years is "keep": more puts the purge cut-off (now - retention) before year 1,
# which Python's datetime cannot hold (OverflowError on every purge).
MAX_RETENTION_DAYS = 36500


@dataclass(frozen=True)
class Settings:
    # A directory on other media (USB stick, second disk) that gets every packet at seal time.
    mirror_dir: str | None = None
    # required: a seal fails when the mirror copy cannot be written; warn: it succeeds with a
    # warning. Never a silent skip.
    mirror_policy: str = "required"
    # Falling behind: refuse new recordings when the oldest unsent record is older than this...
    backlog_max_age_h: float = 72.0
    # ...or when this many are unsent and there is no mirror. Warn from this fraction on.
    backlog_max_unsent: int = 2000
    backlog_warn_fraction: float = 0.75
    # Uploaded packets keep their payload this long, then only the receipt is kept.
    retention_days: int = 30
    # "yes": receipt PDFs (they name the resident) may be saved on the station's own disk.
    # Only a supervisor sets it (`settings set ... --by`); by default they go to a stick.
    receipt_pdf_on_station: str = "no"
    # Minutes without input before the GUI locks (the operator signs in again).
    idle_lock_minutes: int = 5
    # Seconds between the kit's pulls of its records' fates from the centre.
    fate_pull_interval_s: int = 300

    @property
    def mirror_path(self) -> Path | None:
        return Path(self.mirror_dir) if self.mirror_dir else None


_TYPES = {f.name: f.type for f in fields(Settings)}
_ALL = select(Setting.key, Setting.value)


class SettingError(ValueError):
    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}")
        self.key = key


def _parse(key: str, raw: str) -> object:
    kind = _TYPES[key]
    if kind in ("float",):
        return float(raw)
    if kind in ("int",):
        return int(raw)
    return raw


def _check(key: str, value: str | None) -> str | None:
    if key not in _TYPES:
        raise SettingError(key, "unknown setting")
    if value is None or value == "":
        return None
    if key == "mirror_policy" and value not in MIRROR_POLICIES:
        raise SettingError(key, f"must be one of {', '.join(MIRROR_POLICIES)}")
    if key == "receipt_pdf_on_station" and value not in ("no", "yes"):
        raise SettingError(key, "must be no or yes")
    try:
        parsed = _parse(key, value)
    except ValueError as exc:
        raise SettingError(key, f"not a valid {_TYPES[key]}") from exc
    if isinstance(parsed, float) and not math.isfinite(parsed):
        # nan would make every limit check false (never behind); both break --json output.
        raise SettingError(key, "must be a finite number")
    if isinstance(parsed, int | float) and parsed < 0:
        raise SettingError(key, "must not be negative")
    if key == "retention_days" and int(value) > MAX_RETENTION_DAYS:
        raise SettingError(key, f"must be at most {MAX_RETENTION_DAYS} days")
    if key in ("idle_lock_minutes", "fate_pull_interval_s") and int(value) < 1:
        raise SettingError(key, "must be at least 1")
    if key == "backlog_warn_fraction" and not 0 < float(value) <= 1:
        raise SettingError(key, "must be a fraction above 0 and at most 1 (e.g. 0.75)")
    return value


def load_settings(target: Store | Session | Connection | sqlite3.Cursor) -> Settings:
    """The settings as seen by ``target`` (a cursor: inside ``Store.write_raw()``)."""
    if isinstance(target, Store):
        with target.read() as session:
            return load_settings(session)
    rows = (
        target.execute("SELECT key, value FROM setting").fetchall()
        if isinstance(target, sqlite3.Cursor)
        else target.execute(_ALL)
    )
    return settings_from_rows(rows)


def settings_from_rows(rows: Iterable[tuple[str, str]]) -> Settings:
    """Settings from ``(key, value)`` rows of the ``setting`` table (unknown keys ignored).

    A ``central.<key>`` row (the policy the central office set, app/store/central.py)
    overrides the local ``<key>``."""
    values: dict[str, object] = {}
    central: dict[str, object] = {}
    for key, value in rows:
        if key in _TYPES:
            values[key] = _parse(key, value)
        elif key.startswith(CENTRAL_PREFIX) and key[len(CENTRAL_PREFIX) :] in _TYPES:
            name = key[len(CENTRAL_PREFIX) :]
            try:
                central[name] = _parse(name, value)
            except ValueError:
                continue  # checked when stored; never let one row stop every reader
    values.update(central)
    # A retention stored above MAX_RETENTION_DAYS before the limit existed was brought to it
    # by station migration 0011: the values are read as stored.
    return Settings(**values)  # type: ignore[arg-type]


def set_setting(store: Store, key: str, value: str | None, actor: str) -> None:
    """Set (or with None/"" reset to default) one setting; audited."""
    from app.store.audit import record_event

    checked = _check(key, value)
    with store.write() as session:
        if session.get(Setting, CENTRAL_PREFIX + key) is not None:
            raise SettingError(
                key,
                "set by the central office (policy from the server): it cannot be changed "
                "on the station",
            )
        row = session.get(Setting, key)
        if checked is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(Setting(key=key, value=checked))
        else:
            row.value = checked
        record_event(session, actor, "setting.changed", {"key": key, "value": checked})


SUPERVISOR_ONLY = ("receipt_pdf_on_station",)  # settings only a supervisor may change
