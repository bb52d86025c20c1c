"""The outbox: sealed packets waiting for a server receipt, oldest first.

Lifecycle: sealed -> uploaded (receipt with the same SHA-256) -> purged (payload deleted
after retention; receipt kept forever). Or sealed -> rejected (the server refused it for a
reason a retry cannot fix; kept, with its payload, for the technician).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Executable, Table, bindparam, case, func, select, update

from app.store.db import Store
from app.store.errors import StoreError
from app.store.models import RECORD_STATUSES, Record, RecordFate
from app.store.timeutil import utcnow

# Receipts and errors come from the network: keep what is stored bounded.
MAX_ERROR_LEN = 500

_RECORD = cast(Table, Record.__table__)
# One statement for a group of receipts (executemany), built once: Core, no ORM DML per row.
_MARK_UPLOADED = (
    update(_RECORD)
    .where(_RECORD.c.uuid == bindparam("b_uuid"))
    .values(
        status="uploaded",
        receipt=bindparam("b_receipt"),
        next_attempt_at=None,
        last_error=None,
    )
)


class OutboxError(StoreError):
    """A lifecycle step that does not apply (unknown uuid, wrong status, hash mismatch)."""


class ReceiptMismatch(OutboxError):
    """The server's receipt names a different SHA-256 than the packet we sent."""


@dataclass(frozen=True)
class OutboxItem:
    uuid: str
    data: bytes
    sha256: str
    size: int
    attempts: int
    sealed_at: datetime


@dataclass(frozen=True)
class PendingStats:
    """Records not yet at the server: sealed (being sent) and rejected (waiting for a
    technician to requeue them). Neither is safe anywhere else until uploaded."""

    count: int
    bytes: int
    oldest_sealed_at: datetime | None
    rejected: int = 0  # of ``count``

    @property
    def sendable(self) -> int:
        return self.count - self.rejected


# Not yet at the server: what `status` calls pending and the falling-behind check counts.
UNSENT = ("sealed", "rejected")


@dataclass(frozen=True)
class QueueEntry:
    """One line of the queue screen: no personal data."""

    uuid: str
    status: str
    sealed_at: datetime
    attempts: int
    last_error: str | None
    kecamatan: str
    operator: str
    size: int
    fate: str | None = None  # what the centre made of it (app/store/fates.py)
    fate_reason: str | None = None


# The columns of a QueueEntry, in its order (the queue screen, `status`).
_QUEUE_ENTRY = select(
    Record.uuid,
    Record.status,
    Record.sealed_at,
    Record.attempts,
    Record.last_error,
    Record.kecamatan,
    Record.operator,
    Record.size,
    RecordFate.fate,
    RecordFate.fate_reason,
).outerjoin(RecordFate, RecordFate.uuid == Record.uuid)


class Outbox:
    def __init__(self, store: Store) -> None:
        self.store = store

    def due(self, now: datetime, limit: int) -> list[OutboxItem]:
        """Sealed records whose next attempt is due (or never tried), oldest first."""
        with self.store.read() as s:
            rows = s.execute(
                select(
                    Record.uuid,
                    Record.packet,
                    Record.sha256,
                    Record.size,
                    Record.attempts,
                    Record.sealed_at,
                )
                .where(
                    Record.status == "sealed",
                    (Record.next_attempt_at.is_(None)) | (Record.next_attempt_at <= now),
                )
                .order_by(Record.seq)
                .limit(limit)
            ).all()
        return [
            OutboxItem(r.uuid, bytes(r.packet), r.sha256, r.size, r.attempts, r.sealed_at)
            for r in rows
        ]

    def _get(self, s: Any, uuid: str) -> Record:
        rec = s.execute(select(Record).where(Record.uuid == uuid)).scalar_one_or_none()
        if rec is None:
            raise OutboxError(f"no record {uuid}")
        return rec

    def mark_uploaded(self, uuid: str, receipt: dict[str, Any]) -> None:
        """Record the server's receipt; only a receipt echoing our SHA-256 counts."""
        self.mark_uploaded_many([(uuid, receipt)])

    def mark_uploaded_many(self, receipts: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """Record several receipts in ONE write transaction (one fsync for the group).

        All or nothing: every receipt must echo its packet's SHA-256, else ReceiptMismatch
        and nothing is marked. A receipt for a record already uploaded (or purged) changes
        nothing. Safe to batch because the server is idempotent: a receipt lost to a crash
        before this commit means the record is sent again and answered 200, same receipt.
        """
        from app.store.audit import record_event

        if not receipts:
            return
        uuids = [u for u, _ in receipts]
        with self.store.write_connection() as conn:
            rows = {
                r.uuid: r
                for r in conn.execute(
                    select(Record.uuid, Record.sha256, Record.status).where(Record.uuid.in_(uuids))
                )
            }
            todo: list[tuple[str, str, dict[str, Any]]] = []
            for uuid, receipt in receipts:
                row = rows.get(uuid)
                if row is None:
                    raise OutboxError(f"no record {uuid}")
                if receipt.get("sha256") != row.sha256:
                    raise ReceiptMismatch(
                        f"receipt for {uuid} names sha256 {receipt.get('sha256')!r}, "
                        f"the packet is {row.sha256}"
                    )
                if row.status in ("uploaded", "purged"):
                    continue  # a repeated receipt for bytes already acknowledged
                todo.append((uuid, row.sha256, receipt))
            now = utcnow()
            params: dict[str, dict[str, Any]] = {}
            for uuid, sha, receipt in todo:
                params.setdefault(
                    uuid,
                    {
                        "b_uuid": uuid,
                        "b_receipt": json.dumps(receipt, sort_keys=True)[:4000],
                        "b_sha": sha,
                    },
                )
            if not params:
                return
            conn.execute(_MARK_UPLOADED.values(uploaded_at=now), list(params.values()))
            for p in params.values():
                record_event(
                    conn, "sync", "record.uploaded", {"uuid": p["b_uuid"], "sha256": p["b_sha"]}
                )

    def mark_retry(self, uuid: str, error: str, next_attempt_at: datetime) -> None:
        with self.store.write() as s:
            rec = self._get(s, uuid)
            if rec.status != "sealed":
                return
            rec.attempts += 1
            rec.last_error = error[:MAX_ERROR_LEN]
            rec.next_attempt_at = next_attempt_at

    def mark_rejected(self, uuid: str, reason: str) -> None:
        from app.store.audit import record_event

        with self.store.write() as s:
            rec = self._get(s, uuid)
            if rec.status != "sealed":
                raise OutboxError(f"record {uuid} is {rec.status}, not sealed")
            rec.status = "rejected"
            rec.attempts += 1
            rec.last_error = reason[:MAX_ERROR_LEN]
            rec.next_attempt_at = None
            record_event(
                s, "sync", "record.rejected", {"uuid": uuid, "reason": reason[:MAX_ERROR_LEN]}
            )

    def requeue(self, uuid: str, actor: str) -> None:
        """Technician: send a rejected record again (e.g. after the server was fixed)."""
        self.requeue_many([uuid], actor)

    def requeue_many(self, uuids: Sequence[str] | None, actor: str) -> list[str]:
        """Send rejected records again: these ``uuids`` (each must be rejected, else
        OutboxError and nothing changes), or every rejected record (``None``). One write
        transaction; each requeue is audited. Returns the uuids requeued, in seal order."""
        from app.store.audit import record_event

        with self.store.write() as s:
            if uuids is None:
                recs = list(
                    s.execute(
                        select(Record).where(Record.status == "rejected").order_by(Record.seq)
                    ).scalars()
                )
            else:
                recs = []
                for uuid in dict.fromkeys(uuids):
                    rec = self._get(s, uuid)
                    if rec.status != "rejected":
                        raise OutboxError(f"record {uuid} is {rec.status}, not rejected")
                    recs.append(rec)
            for rec in recs:
                rec.status = "sealed"
                rec.next_attempt_at = None
                # A fresh start once the cause is fixed: backoff begins again from the base,
                # not from the failures before the rejection (the audit keeps the reason).
                rec.attempts = 0
                record_event(
                    s, actor, "record.requeued", {"uuid": rec.uuid, "reason": rec.last_error}
                )
        return [rec.uuid for rec in recs]

    def purge(self, uploaded_before: datetime) -> int:
        """Delete the payload of records uploaded before the cut-off; receipts stay.

        Only records the centre itself holds (a fate from it, ``received`` or later,
        app/store/fates.py): a relay's receipt alone is not enough, the relay may hold the
        only copy."""
        from app.store.audit import record_event

        now = utcnow()
        with self.store.write() as s:
            result = s.execute(
                update(Record)
                .where(
                    Record.status == "uploaded",
                    Record.uploaded_at < uploaded_before,
                    Record.uuid.in_(select(RecordFate.uuid)),
                )
                .values(status="purged", packet=None, purged_at=now)
                .execution_options(synchronize_session=False)
            )
            count = int(result.rowcount or 0)  # type: ignore[attr-defined]
            if count:
                record_event(s, "retention", "records.purged", {"count": count})
        return count

    def counts(self) -> dict[str, int]:
        with self.store.read() as s:
            rows = s.execute(select(Record.status, func.count()).group_by(Record.status)).all()
        out = dict.fromkeys(RECORD_STATUSES, 0)
        out.update({str(status): int(n) for status, n in rows})
        return out

    def pending(self) -> PendingStats:
        """Every record not yet at the server (sealed or rejected)."""
        return self._unsent()

    def unsent_unexported(self) -> PendingStats:
        """Not yet at the server and never exported to removable media: the records that
        still live in one place only (the falling-behind limits count these)."""
        return self._unsent(Record.exported_at.is_(None))

    def _unsent(self, *extra: Any) -> PendingStats:
        where = (Record.status.in_(UNSENT), *extra)
        with self.store.read() as s:
            count, size, rejected = s.execute(
                select(
                    func.count(),
                    func.coalesce(func.sum(Record.size), 0),
                    func.coalesce(func.sum(case((Record.status == "rejected", 1), else_=0)), 0),
                ).where(*where)
            ).one()
            # min(seq) from the covering index, then one row: ORDER BY ... LIMIT 1 would
            # read every unsent row from the table to sort them.
            first = select(func.min(Record.seq)).where(*where).scalar_subquery()
            oldest = s.execute(
                select(Record.sealed_at).where(Record.seq == first)
            ).scalar_one_or_none()
        return PendingStats(int(count), int(size), oldest, int(rejected))

    def mark_exported(self, uuids: Sequence[str], at: datetime | None = None) -> None:
        """These records' packets are now on removable media (fsynced by the export)."""
        if not uuids:
            return
        with self.store.write() as s:
            s.execute(
                update(Record)
                .where(Record.uuid.in_(list(uuids)))
                .values(exported_at=at or utcnow())
                .execution_options(synchronize_session=False)
            )

    def next_attempt_at(self) -> datetime | None:
        """When the earliest sealed record is due (None: nothing pending)."""
        with self.store.read() as s:
            row = s.execute(
                select(Record.next_attempt_at)
                .where(Record.status == "sealed")
                .order_by(Record.next_attempt_at.is_not(None), Record.next_attempt_at)
                .limit(1)
            ).first()
        if row is None:
            return None
        return row[0] if row[0] is not None else utcnow()

    def iter_packets(
        self, statuses: Iterable[str] = RECORD_STATUSES
    ) -> Iterator[tuple[str, bytes]]:
        """(uuid, packet bytes) of every record in ``statuses`` that still has its payload,
        in seal order, one at a time (a short read transaction per record)."""
        wanted = [s for s in statuses if s != "purged"]
        last_seq = 0
        while True:
            with self.store.read() as s:
                row = s.execute(
                    select(Record.seq, Record.uuid, Record.packet)
                    .where(Record.status.in_(wanted), Record.seq > last_seq)
                    .order_by(Record.seq)
                    .limit(1)
                ).first()
            if row is None:
                return
            last_seq = row.seq
            yield row.uuid, bytes(row.packet)

    def recent(self, limit: int = 50) -> list[QueueEntry]:
        return self._entries(_QUEUE_ENTRY.order_by(Record.seq.desc()).limit(limit))

    def rejected(self, limit: int = 100) -> list[QueueEntry]:
        """The records the server refused, oldest first, with their reasons (``status``)."""
        return self._entries(
            _QUEUE_ENTRY.where(Record.status == "rejected").order_by(Record.seq).limit(limit)
        )

    def _entries(self, query: Executable) -> list[QueueEntry]:
        with self.store.read() as s:
            return [QueueEntry(*r) for r in s.execute(query).all()]

    def get_sha256(self, uuid: str) -> str | None:
        with self.store.read() as s:
            return s.execute(select(Record.sha256).where(Record.uuid == uuid)).scalar_one_or_none()
