"""Station status: one read of the station that ``status``, ``status --json`` and Beranda all
render (the CLI as text or JSON, the GUI in words).

To show something new in all three, add a field to :class:`StationStatus` (with a default),
fill it in :func:`station_status` and put it in :meth:`StationStatus.to_json`.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from app.store.backlog import evaluate
from app.store.central import centre_status
from app.store.db import Store
from app.store.fates import summary as fate_summary
from app.store.mirror import UNCONFIRMED_DIR, check_mirror, unconfirmed_count
from app.store.models import Record
from app.store.outbox import Outbox
from app.store.reconcile import records_without_copy
from app.store.settings import load_settings
from app.store.station import get_identity
from app.store.timeutil import iso, utcnow
from app.sync.station import sync_summary

MISSING_LISTED = 20  # records without a mirror copy named in the warning
# Rejected records listed (uuid and reason), oldest first; the count is complete.
REJECTED_LISTED = 100


@dataclass(frozen=True)
class MirrorStatus:
    dir: str
    ok: bool
    message: str
    unconfirmed: int  # packets of an interrupted seal moved to <mirror>/unconfirmed/
    records_without_copy: list[str] | None  # None: not known (see app.store.reconcile)


@dataclass(frozen=True)
class StationStatus:
    records: dict[str, int]  # by status: sealed, uploaded, rejected, purged
    pending: int  # not yet on the server (rejected included)
    pending_bytes: int
    pending_rejected: int
    rejected_records: list[dict[str, Any]]  # uuid, sealed_at, reason (the first REJECTED_LISTED)
    oldest_pending_age_s: float | None
    oldest_pending_sealed_at: str | None
    station_id: str | None
    station_name: str | None
    kecamatan: str | None
    server_url: str | None
    backlog: str  # "ok" | "warn" | "refuse" (falling behind)
    backlog_messages: tuple[str, ...]
    mirror: MirrorStatus | None
    warnings: list[str]
    sync: dict[str, Any]
    today: int = 0  # records sealed since local midnight
    disk_free_bytes: int | None = None  # on the station's home
    # What the centre made of the records (issue 12): counts by fate, how many ask something
    # of the office, the fate sequence's state (`fates --json` lists them).
    fates: dict[str, Any] = field(default_factory=dict)
    # Keys other parts of the station add to ``status --json`` (merged last).
    extra: dict[str, Any] = field(default_factory=dict)

    # --- what Beranda reads ------------------------------------------------------------------
    @property
    def behind(self) -> str | None:
        """None, "warn" or "refuse"."""
        return None if self.backlog == "ok" else self.backlog

    @property
    def card_check_only(self) -> bool:
        """The centre set this station up for card checks only (issue 19)."""
        return bool(self.extra.get("card_check_station", False))

    @property
    def behind_reason(self) -> str:
        return "; ".join(self.backlog_messages)

    @property
    def mirror_dir(self) -> str | None:
        return self.mirror.dir if self.mirror else None

    @property
    def mirror_ok(self) -> bool | None:
        return self.mirror.ok if self.mirror else None

    @property
    def needs_action(self) -> int:
        """Records the centre sent back, not yet re-recorded nor contacted."""
        return int(self.fates.get("needs_action", 0))

    @property
    def unconfirmed(self) -> int:
        return self.mirror.unconfirmed if self.mirror else 0

    def to_json(self) -> dict[str, Any]:
        """The ``status --json`` document (../shared/DESIGN.md's shape plus extras)."""
        mirror: dict[str, Any] | None = None
        if self.mirror is not None:
            mirror = {
                "dir": self.mirror.dir,
                "ok": self.mirror.ok,
                "message": self.mirror.message,
                "unconfirmed": self.mirror.unconfirmed,
                "records_without_copy": self.mirror.records_without_copy,
            }
        return {
            "records": self.records,
            "pending": self.pending,
            "pending_bytes": self.pending_bytes,
            "pending_rejected": self.pending_rejected,
            # which records the server refused and why: the uuid is what `requeue` takes
            "rejected_records": self.rejected_records,
            "oldest_pending_age_s": self.oldest_pending_age_s,
            "oldest_pending_sealed_at": self.oldest_pending_sealed_at,
            "station_id": self.station_id,
            "station_name": self.station_name,
            "kecamatan": self.kecamatan,
            "server_url": self.server_url,
            "backlog": self.backlog,
            "mirror": mirror,
            "warnings": self.warnings,
            "sync": self.sync,
            "records_today": self.today,
            "disk_free_bytes": self.disk_free_bytes,
            "fates": self.fates,
            **self.extra,
        }


def _mirror(store: Store, warnings: list[str]) -> MirrorStatus | None:
    settings = load_settings(store)
    if settings.mirror_path is None or settings.mirror_dir is None:
        return None
    check = check_mirror(settings.mirror_path)
    if not check.ok:
        warnings.append(check.message)
    waiting = unconfirmed_count(settings.mirror_path)
    # Sealed while the mirror was missing or full ("warn"): copied by the next enroll,
    # export or sync once it is back; named here until then.
    without = records_without_copy(store)
    if without:
        listed = ", ".join(without[:MISSING_LISTED])
        more = f" and {len(without) - MISSING_LISTED} more" if len(without) > MISSING_LISTED else ""
        warnings.append(
            f"{len(without)} record(s) have no copy in the mirror: {listed}{more} "
            "(copied at the next enroll, export or sync)"
        )
    if waiting:
        warnings.append(
            f"{waiting} mirror packet(s) in {settings.mirror_path / UNCONFIRMED_DIR} were "
            "never committed (an interrupted seal): a technician must check them"
        )
    return MirrorStatus(settings.mirror_dir, check.ok, check.message, waiting, without)


def _sealed_today(store: Store) -> int:
    midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    with store.read() as s:
        return int(
            s.execute(
                select(func.count()).where(Record.sealed_at >= midnight.astimezone(UTC))
            ).scalar_one()
        )


def station_status(store: Store) -> StationStatus:
    """Read the station's status. Changes nothing (the uninstaller asks ``status`` before
    removing data: no file is moved, no event written)."""
    now = utcnow()
    outbox = Outbox(store)
    identity = get_identity(store)
    pending = outbox.pending()
    alone = outbox.unsent_unexported()
    backlog = evaluate(alone, load_settings(store), now)
    warnings = list(backlog.messages)
    if pending.rejected:
        warnings.append(
            f"{pending.rejected} record(s) rejected by the server are waiting: see the reason "
            "(queue screen or `status`), then `requeue UUID...` or `requeue --all`"
        )
    mirror = _mirror(store, warnings)
    if identity is None:
        warnings.append("station is not initialized: run `init` or `provision`")
    oldest = pending.oldest_sealed_at
    rejected = outbox.rejected(REJECTED_LISTED) if pending.rejected else []
    try:
        free: int | None = shutil.disk_usage(store.home).free
    except OSError:
        free = None
    return StationStatus(
        records=outbox.counts(),
        pending=pending.count,
        pending_bytes=pending.bytes,
        pending_rejected=pending.rejected,
        rejected_records=[
            {"uuid": e.uuid, "sealed_at": iso(e.sealed_at), "reason": e.last_error}
            for e in rejected
        ],
        oldest_pending_age_s=None if oldest is None else round((now - oldest).total_seconds(), 3),
        oldest_pending_sealed_at=None if oldest is None else iso(oldest),
        station_id=identity.station_id if identity else None,
        station_name=identity.name if identity else None,
        kecamatan=identity.kecamatan if identity else None,
        server_url=identity.server_url if identity else None,
        backlog=backlog.level,
        backlog_messages=tuple(backlog.messages),
        mirror=mirror,
        warnings=warnings,
        sync=sync_summary(store, pending, alone),
        fates=fate_summary(store),
        # issue 12: each policy key's value and source (central/local/default), the
        # assignment's origin (an offline move: approved by whom, what the centre decided).
        extra=centre_status(store),
        today=_sealed_today(store),
        disk_free_bytes=free,
    )
