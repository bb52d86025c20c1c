"""The records in the outbox: sending rejected ones again, exporting packets to a stick.
``ektp-station requeue`` / ``export`` and the Antrian screen run these."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from app.errors import BadInput, Code
from app.store.db import Store
from app.store.export import ExportConflict, Exported, export_packets
from app.store.outbox import Outbox, OutboxError

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def check_uuids(given: list[str]) -> list[str]:
    """Record UUIDs as typed (any case, spaces around) -> lower case, or BadInput("uuid")."""
    uuids = [u.strip().lower() for u in given]
    for typed, uuid in zip(given, uuids, strict=True):
        if not UUID_RE.match(uuid):
            raise BadInput("uuid", f"{typed!r} is not a record UUID")
    return uuids


def requeue(store: Store, uuids: list[str] | None, *, actor: str) -> list[str]:
    """Send rejected records again (these, or every rejected one with ``None``), once the
    cause is fixed; audited under ``actor``. Returns the uuids requeued, in seal order."""
    if uuids is not None:
        uuids = check_uuids(uuids)
    try:
        return Outbox(store).requeue_many(uuids, actor=actor)
    except OutboxError as exc:
        raise BadInput("uuid", str(exc)) from exc


def check_export_target(target: Path) -> None:
    """A folder, or one that can be made in an existing folder; BadInput("to") otherwise.
    Nothing is created here."""
    if target.exists() and not target.is_dir():
        raise BadInput("to", f"{target} is not a directory")
    if not target.exists() and not target.absolute().parent.is_dir():
        # The stick is not there (E:\\ missing, /media/usb not mounted): export_packets
        # makes only the last folder.
        raise BadInput(
            "to", f"{target.absolute().parent} does not exist (is the drive plugged in?)"
        )


def export(
    store: Store,
    target: Path,
    *,
    actor: str,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Exported:
    """Copy every packet that still has its payload to ``target`` (``<uuid>.ektp`` +
    ``manifest.json``, never overwriting a different file), reporting ``progress(done,
    total)``; ``should_stop()`` is asked after each packet. Audited under ``actor``: the
    copies leave the station with them. Also lifts the falling-behind refusal for what it
    wrote."""
    check_export_target(target)
    try:
        return export_packets(
            store, target, actor=actor, progress=progress, should_stop=should_stop
        )
    except ExportConflict as exc:
        raise BadInput("to", str(exc), Code.EXPORT_CONFLICT) from exc
