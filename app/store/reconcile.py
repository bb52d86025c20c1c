"""Mirror reconciliation: packets in the mirror that the database never committed.

A seal writes and fsyncs the mirror copy *before* its COMMIT (app/enrollment.py). A kill or
power cut between the two leaves a complete, authentic packet in the mirror whose record does
not exist: its ``enroll`` never printed a UUID, so the operator believes it failed and may
record the person again; imported at the server later, the person would exist twice. A kill
during the mirror write leaves a ``.<uuid>.ektp.<pid>.tmp`` file.

``reconcile_mirror`` runs under the store's write lock (BEGIN IMMEDIATE), which every seal
holds from before its mirror write until after its commit, so no seal is half-way while it
looks: every ``<uuid>.ektp`` with no record row (any status) is an orphan. Orphans are moved
to ``<mirror>/unconfirmed/`` (never deleted: the technician decides), stale packet temp files
are removed, and the move is audited (``mirror.unconfirmed``, UUIDs only) in the same
transaction.

The other way round: a record sealed while a mirror under the "warn" policy was missing or
full has no copy there. Once the mirror is back, the same run copies every record not yet at
the server (sealed or rejected) that lacks one (``mirror.caught_up``), and ``status`` names
those still without one (``records_without_copy``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.store.audit import record_event_raw
from app.store.db import Store
from app.store.errors import StoreError
from app.store.mirror import (
    UNCONFIRMED_DIR,
    MirrorError,
    fsync_dir,
    mirror_packet,
    move_to_unconfirmed,
    packet_uuids,
    stale_packet_temps,
    unconfirmed_count,
)
from app.store.settings import load_settings

_BATCH = 500  # below SQLite's bound-parameter limit


@dataclass(frozen=True)
class Reconciliation:
    mirror: Path | None
    moved: list[str] = field(default_factory=list)  # UUIDs moved to unconfirmed/ just now
    temp_removed: int = 0
    unconfirmed: int = 0  # packets now waiting in unconfirmed/ (this run's and earlier ones)
    copied: list[str] = field(default_factory=list)  # records given their missing copy now

    @property
    def warning(self) -> str | None:
        if not self.unconfirmed or self.mirror is None:
            return None
        return (
            f"{self.unconfirmed} mirror packet(s) were never committed to the database "
            f"(a seal was interrupted): moved to {self.mirror / UNCONFIRMED_DIR}; a technician "
            "must check them before the person is recorded again"
        )


def reconcile_mirror(store: Store, actor: str = "system") -> Reconciliation:
    """Move orphan mirror packets to ``unconfirmed/`` and remove stale temp files.

    Nothing to do without a mirror or when it is not plugged in. Raises StorageError
    (database) or OSError (mirror media) when it cannot finish; what was moved stays moved.
    """
    mirror = load_settings(store).mirror_path
    if mirror is None or not mirror.is_dir():
        return Reconciliation(mirror, unconfirmed=unconfirmed_count(mirror))
    moved: list[str] = []
    removed = 0
    with store.write_raw() as cur:
        for tmp in stale_packet_temps(mirror):
            tmp.unlink(missing_ok=True)
            removed += 1
        uuids = packet_uuids(mirror)
        known: set[str] = set()
        for i in range(0, len(uuids), _BATCH):
            batch = uuids[i : i + _BATCH]
            marks = ",".join("?" * len(batch))
            sql = f"SELECT uuid FROM record WHERE uuid IN ({marks})"  # noqa: S608 (marks only)
            known.update(row[0] for row in cur.execute(sql, batch))
        moved = [u for u in uuids if u not in known]
        if moved:
            move_to_unconfirmed(mirror, moved)
            record_event_raw(
                cur, actor, "mirror.unconfirmed", {"uuids": moved, "count": len(moved)}
            )
        elif removed:
            fsync_dir(mirror)
        have = set(uuids)
        copied: list[str] = []
        for uuid in [u for u in _unsent(cur) if u not in have]:
            (data,) = cur.execute("SELECT packet FROM record WHERE uuid = ?", (uuid,)).fetchone()
            try:
                mirror_packet(mirror, uuid, data)
            except MirrorError:
                break  # still full or gone: the rest waits for the next run
            copied.append(uuid)
        if copied:
            record_event_raw(
                cur, actor, "mirror.caught_up", {"uuids": copied, "count": len(copied)}
            )
    return Reconciliation(mirror, moved, removed, unconfirmed_count(mirror), copied)


_UNSENT_SQL = (
    "SELECT uuid FROM record WHERE status IN ('sealed', 'rejected') AND packet IS NOT NULL "
    "ORDER BY seq"
)


def _unsent(cur: Any) -> list[str]:
    return [row[0] for row in cur.execute(_UNSENT_SQL)]


def records_without_copy(store: Store) -> list[str] | None:
    """UUIDs of the records not yet at the server that have no copy in the mirror (oldest
    first); None without a mirror, or when it is not plugged in (nothing can be said)."""
    mirror = load_settings(store).mirror_path
    if mirror is None or not mirror.is_dir():
        return None
    try:
        have = set(packet_uuids(mirror))
    except OSError:
        return None
    with store.read() as session:
        unsent = [row[0] for row in session.connection().exec_driver_sql(_UNSENT_SQL)]
    return [u for u in unsent if u not in have]


def reconcile_quietly(store: Store, actor: str) -> Reconciliation | None:
    """``reconcile_mirror`` where a failure must not stop the command (enroll, export, the GUI): the
    command's own mirror check reports an unusable mirror. None when it could not run."""
    try:
        return reconcile_mirror(store, actor)
    except (OSError, StoreError):
        return None


__all__ = ["Reconciliation", "reconcile_mirror", "reconcile_quietly", "records_without_copy"]
