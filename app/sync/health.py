"""The kit's health, reported to the centre with every pull (issue 12).

``collect`` puts together what the office sees of the kit: program version, records pending
(not yet at the server), the oldest unsent record's age, disk free at the station home,
camera / reader / mirror state and the last seal time. No personal data. ``send`` posts it
(``POST /api/v1/station/health``, signed; the answer is checked like every answer). The
server measures the clock offset itself from the signed request's timestamp.

The device states come from a ``devices`` function (the GUI may pass the states it knows;
the default asks the devices without opening a card: the camera list and the PC/SC reader
list).
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from app import program_version, protocol
from app.store.db import Store
from app.store.mirror import check_mirror
from app.store.models import Record
from app.store.outbox import Outbox
from app.store.settings import load_settings
from app.store.timeutil import iso, utcnow

log = logging.getLogger(__name__)

HEALTH_PATH = protocol.API_PREFIX + "/station/health"
Devices = Callable[[], dict[str, str]]


def probe_devices() -> dict[str, str]:
    """``{"camera": ok|missing|error, "reader": ok|missing|off|error}`` without reading a
    card (the card monitor of a running GUI may hold the reader)."""
    out: dict[str, str] = {}
    try:
        from app.capture.camera import list_cameras

        out["camera"] = "ok" if list_cameras().found else "missing"
    except Exception:  # a broken driver must not stop the report
        log.exception("camera probe failed")
        out["camera"] = "error"
    try:
        from app.capture import reader

        status = reader.list_readers().status
        out["reader"] = {
            reader.ReaderStatus.OK: "ok",
            reader.ReaderStatus.NO_READER: "missing",
            reader.ReaderStatus.NO_SERVICE: "off",
            reader.ReaderStatus.UNAVAILABLE: "off",
        }.get(status, "error")
    except Exception:
        log.exception("reader probe failed")
        out["reader"] = "error"
    return out


def collect(store: Store, devices: Devices | None = None) -> dict[str, Any]:
    """The health report (a JSON object)."""
    pending = Outbox(store).pending()
    now = utcnow()
    settings = load_settings(store)
    if settings.mirror_path is None:
        mirror = "off"
    else:
        mirror = "ok" if check_mirror(settings.mirror_path).ok else "error"
    with store.read() as session:
        last_seal = session.execute(select(func.max(Record.sealed_at))).scalar()
    report: dict[str, Any] = {
        "version": program_version(),
        "pending": pending.count,
        "oldest_unsent_s": None
        if pending.oldest_sealed_at is None
        else round(max(0.0, (now - pending.oldest_sealed_at).total_seconds()), 3),
        "disk_free_bytes": shutil.disk_usage(store.home).free,
        "mirror": mirror,
        "last_seal_at": None if last_seal is None else iso(last_seal),
    }
    report.update((devices or probe_devices)())
    return report


def send(sync: Any, devices: Devices | None = None) -> dict[str, Any]:
    """Report the kit's health to its server (a StationSync); SyncError on failure."""
    sync.ensure_server_key()
    answer: dict[str, Any] = sync.engine.signed_json(
        "POST", HEALTH_PATH, collect(sync.store, devices)
    )
    return answer
