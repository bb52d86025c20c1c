"""What counts as unsent: rejected records wait (and count), exported ones leave the limits."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.enrollment import EnrollmentRequest, enroll
from app.store.backlog import FallingBehind, check_backlog_policy
from app.store.db import SCHEMA_HEAD, current_revision, open_store
from app.store.export import export_packets
from app.store.outbox import Outbox, OutboxError
from app.store.settings import set_setting
from app.store.timeutil import utcnow
from tests.store.test_migrations import old_db_with_one_record
from tests.support.residents import BUDI_LAKI, RATNA_PEREMPUAN
from tests.support.station import StationHome, face_jpeg, make_station


def _seal(st: StationHome, store, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    people = [BUDI_LAKI, RATNA_PEREMPUAN]
    return [
        enroll(store, EnrollmentRequest(st.operator, people[i % 2], face_jpeg())).uuid
        for i in range(n)
    ]


def test_rejected_records_count_as_unsent_and_can_be_requeued(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    with st.open() as store:
        ob = Outbox(store)
        a, b, c = _seal(st, store, 3)
        for _ in range(6):  # a few network failures before the rejection
            ob.mark_retry(a, "connection refused", utcnow())
        ob.mark_rejected(a, "HTTP 422: manifest: unknown field")
        ob.mark_rejected(b, "HTTP 413: too large")
        p = ob.pending()
        assert (p.count, p.rejected, p.sendable) == (3, 2, 1)
        # the oldest record not at the server is the rejected one
        with store.read() as s:
            from sqlalchemy import select

            from app.store.models import Record

            first = s.execute(select(Record.sealed_at).where(Record.uuid == a)).scalar_one()
        assert p.oldest_sealed_at == first
        # falling behind counts rejected records too (no mirror, limit 3)
        set_setting(store, "backlog_max_unsent", "3", actor="central")
        assert check_backlog_policy(store).refused
        with pytest.raises(FallingBehind):
            _seal(st, store, 1)

        with pytest.raises(OutboxError, match=c):
            ob.requeue_many([a, c], actor="teknisi")  # c is not rejected: nothing changes
        assert ob.pending().rejected == 2
        assert ob.requeue_many([b], actor="teknisi") == [b]
        assert ob.requeue_many(None, actor="teknisi") == [a]
        assert ob.pending().rejected == 0 and ob.counts()["sealed"] == 3
        due = {i.uuid: i for i in ob.due(utcnow(), 10)}
        assert set(due) == {a, b, c}
        assert due[a].attempts == 0  # backoff starts again from its base
        with store.read() as s:
            from app.store.models import AuditEvent

            kinds = [
                (e.actor, e.kind)
                for e in s.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars()
            ]
        assert kinds.count(("teknisi", "record.requeued")) == 2


def test_export_lifts_the_falling_behind_refusal(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    with st.open() as store:
        set_setting(store, "backlog_max_unsent", "2", actor="central")
        uuids = _seal(st, store, 2)
        state = check_backlog_policy(store)
        assert state.refused and "sync or export" in state.messages[0]
        with pytest.raises(FallingBehind):
            _seal(st, store, 1)
        export_packets(store, tmp_path / "usb")
        assert check_backlog_policy(store).level == "ok"
        ob = Outbox(store)
        assert ob.unsent_unexported().count == 0
        # still waiting for the server: exported records are uploaded as usual
        assert ob.pending().count == 2
        assert {i.uuid for i in ob.due(utcnow(), 10)} == set(uuids)
        more = _seal(st, store, 2)  # recording goes on, up to the limit again
        assert check_backlog_policy(store).refused
        assert ob.unsent_unexported().count == 2
        export_packets(store, tmp_path / "usb")
        assert check_backlog_policy(store).level == "ok"
        with store.read() as s:
            from sqlalchemy import select

            from app.store.models import Record

            stamped = dict(s.execute(select(Record.uuid, Record.exported_at)).all())
        assert all(stamped[u] is not None for u in uuids + more)


def test_age_limit_ignores_exported_records(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    with st.open() as store:
        _seal(st, store, 1)
        # sealed 100 h ago (the age limit is 72 h by default)
        con = sqlite3.connect(store.db_path)
        con.execute("UPDATE record SET sealed_at = '2020-01-01T00:00:00.000000Z'")
        con.commit()
        con.close()
        assert check_backlog_policy(store).refused
        export_packets(store, tmp_path / "usb")
        assert check_backlog_policy(store).level == "ok"


def test_0002_database_gets_exported_at(tmp_path: Path) -> None:
    con = old_db_with_one_record(tmp_path, "0002")
    con.commit()
    con.close()
    with open_store(tmp_path) as store:
        assert current_revision(store.engine) == SCHEMA_HEAD
        ob = Outbox(store)
        assert ob.unsent_unexported().count == 1
        ob.mark_exported(["u-1"])
        assert ob.unsent_unexported().count == 0 and ob.pending().count == 1


def test_unsent_figures_read_only_the_status_index(tmp_path: Path) -> None:
    """``status`` runs these on every call (100,000 records on an old station): each must be
    answered from the (status, exported_at, size) index, never by reading or sorting rows."""
    from sqlalchemy import event

    st = make_station(tmp_path)
    with st.open() as store:
        _seal(st, store, 2)
        seen: list[tuple[str, object]] = []

        def capture(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
            if "FROM record" in statement:
                seen.append((statement, params))

        event.listen(store.engine, "before_cursor_execute", capture)
        try:
            ob = Outbox(store)
            ob.pending()
            ob.unsent_unexported()
        finally:
            event.remove(store.engine, "before_cursor_execute", capture)
        assert len(seen) == 4
        con = sqlite3.connect(store.db_path)
        try:
            for statement, params in seen:
                plan = " | ".join(
                    row[3] for row in con.execute("EXPLAIN QUERY PLAN " + statement, params)
                )
                assert "ix_record_status_exported_at_size" in plan, plan
                assert "SCAN record" not in plan and "TEMP B-TREE" not in plan, plan
        finally:
            con.close()
