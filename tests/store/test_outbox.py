"""Outbox lifecycle on a real SQLite file: due, retry, uploaded, rejected, purged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import packet
from app.enrollment import seal_record
from app.store.audit import verify_chain
from app.store.db import Store
from app.store.fates import apply_page
from app.store.models import Record
from app.store.outbox import Outbox, OutboxError, ReceiptMismatch
from app.store.timeutil import utcnow
from tests.support.station import StationHome


def _seal(st: StationHome, store: Store, n: int = 1) -> list[tuple[str, str]]:
    identity = st.identity()
    out = []
    for i in range(n):
        uuid, sha, _ = seal_record(
            store,
            identity,
            operator=st.operator,
            manifest={"n": i},
            attachments=[packet.Attachment("face.jpg", "image/jpeg", bytes([i]) * 1000)],
        )
        out.append((uuid, sha))
    return out


def test_counts_include_every_status(station: StationHome) -> None:
    with station.open() as store:
        assert Outbox(store).counts() == {"sealed": 0, "uploaded": 0, "rejected": 0, "purged": 0}
        p = Outbox(store).pending()
        assert (p.count, p.bytes, p.oldest_sealed_at) == (0, 0, None)
        assert Outbox(store).next_attempt_at() is None


def test_lifecycle(station: StationHome) -> None:
    with station.open() as store:
        ob = Outbox(store)
        (a, sha_a), (b, sha_b), (c, _sha_c) = _seal(station, store, 3)
        now = utcnow()
        assert [i.uuid for i in ob.due(now, 10)] == [a, b, c]
        assert [i.uuid for i in ob.due(now, 2)] == [a, b]
        pending = ob.pending()
        assert pending.count == 3 and pending.bytes == sum(i.size for i in ob.due(now, 10))

        ob.mark_retry(a, "connection refused", now + timedelta(seconds=30))
        assert [i.uuid for i in ob.due(now, 10)] == [b, c]
        assert [i.uuid for i in ob.due(now + timedelta(seconds=31), 10)] == [a, b, c]
        assert ob.due(now + timedelta(seconds=31), 1)[0].attempts == 1
        assert ob.next_attempt_at() is not None

        with pytest.raises(ReceiptMismatch):
            ob.mark_uploaded(b, {"sha256": sha_a})
        ob.mark_uploaded(b, {"sha256": sha_b, "stored_at": "2026-11-23T12:00:00Z"})
        ob.mark_uploaded(b, {"sha256": sha_b})  # a repeated receipt changes nothing
        ob.mark_rejected(c, "station revoked")
        with pytest.raises(OutboxError):
            ob.mark_rejected(c, "again")
        assert ob.counts() == {"sealed": 1, "uploaded": 1, "rejected": 1, "purged": 0}
        recent = ob.recent(10)
        assert [r.uuid for r in recent] == [c, b, a]
        assert recent[0].last_error == "station revoked" and recent[0].status == "rejected"

        # export sees every payload that still exists
        assert [u for u, _ in ob.iter_packets()] == [a, b, c]
        assert ob.purge(utcnow() - timedelta(days=1)) == 0  # too recent
        # Uploaded, but the centre's `received` has not come back: the payload stays (the
        # receipt may be a relay's, which may hold the only copy).
        assert ob.purge(utcnow() + timedelta(seconds=1)) == 0
        at = "2026-11-23T12:00:01Z"
        apply_page(store, 0, [{"seq": 1, "uuid": b, "fate": "received", "reason": None, "at": at}])
        assert ob.purge(utcnow() + timedelta(seconds=1)) == 1
        with store.read() as s:
            rec = s.execute(select(Record).where(Record.uuid == b)).scalar_one()
        assert rec.status == "purged" and rec.packet is None and rec.receipt is not None
        assert '"sha256"' in rec.receipt and rec.purged_at is not None
        assert [u for u, _ in ob.iter_packets()] == [a, c]
        assert ob.counts() == {"sealed": 1, "uploaded": 0, "rejected": 1, "purged": 1}

        ob.requeue(c, "tech")
        assert [i.uuid for i in ob.due(utcnow() + timedelta(minutes=1), 10)] == [a, c]
        assert verify_chain(store).ok


def test_unknown_uuid(station: StationHome) -> None:
    with station.open() as store, pytest.raises(OutboxError):
        Outbox(store).mark_uploaded("0190f0e0-0000-7000-8000-00000000dead", {"sha256": "x"})
