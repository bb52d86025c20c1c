"""The audit chain detects edits, deletions and reordering in the real database file."""

from __future__ import annotations

import sqlite3

from sqlalchemy import select

from app.store.audit import event_hash, record_event, record_event_raw, verify_chain
from app.store.models import AuditEvent
from tests.support.station import StationHome


def _raw(st: StationHome) -> sqlite3.Connection:
    return sqlite3.connect(st.home / "station.db", isolation_level=None)


def test_chain_holds_then_breaks_on_edit(station: StationHome) -> None:
    with station.open() as store:
        for i in range(5):
            record_event(store, "tech", "test.event", {"i": i})
        report = verify_chain(store)
        assert report.ok and report.events >= 5
        con = _raw(station)
        con.execute("UPDATE audit_event SET detail = '{\"i\":99}' WHERE id = 4")
        con.close()
        report = verify_chain(store)
        assert not report.ok and report.first_bad_id == 4


def test_chain_breaks_on_delete(station: StationHome) -> None:
    with station.open() as store:
        for i in range(3):
            record_event(store, "tech", "test.event", {"i": i})
        con = _raw(station)
        con.execute("DELETE FROM audit_event WHERE id = 2")
        con.close()
        report = verify_chain(store)
        assert not report.ok and report.first_bad_id == 3


def test_chain_breaks_when_a_whole_tail_is_rewritten_with_wrong_links(
    station: StationHome,
) -> None:
    with station.open() as store:
        record_event(store, "tech", "a", {})
        con = _raw(station)
        con.execute("UPDATE audit_event SET actor = 'someone-else' WHERE id = 1")
        con.close()
        assert not verify_chain(store).ok


def test_seal_path_events_hash_like_record_event(station: StationHome) -> None:
    """record_event_raw builds the hashed JSON by hand: the same bytes as the json module's,
    checked by verify_chain's independent path on quotes, escapes and non-ASCII."""
    actors = ["siti", 'o"brien', "back\\slash", "tab\there", "ñandú-Ω", "emoji-😀", "\u2028"]
    with station.open() as store:
        for i, actor in enumerate(actors):
            with store.write_raw() as cur:
                digest = record_event_raw(
                    cur, actor, f"test.kind-{actor}", {"uuid": f"u-{i}", "note": actor, "n": i}
                )
            with store.read() as s:
                ev = s.execute(select(AuditEvent).where(AuditEvent.hash == digest)).scalar_one()
            assert digest == event_hash(ev.prev_hash, ev.id, ev.at, ev.actor, ev.kind, ev.detail)
            record_event(store, actor, "test.session", {"i": i})  # the chain keeps linking
        report = verify_chain(store)
        assert report.ok and report.events >= 2 * len(actors)


def test_chain_reports_rows_edited_into_unreadable_values(station: StationHome) -> None:
    """An edit that leaves the detail not JSON, or the time not in the store's format, is
    tampering like any other: reported at that event, not a crash of verify_chain (doctor
    exited 70, "internal error", and showed none of its other checks)."""
    edits = [
        ("detail", "not json"),
        ("detail", '{"i":'),
        ("at", "2026-01-01 00:00:00"),
        ("at", "yesterday"),
    ]
    with station.open() as store:
        for i in range(4):
            record_event(store, "tech", "test.event", {"i": i})
        for column, value in edits:
            con = _raw(station)
            before = con.execute(f"SELECT {column} FROM audit_event WHERE id = 3").fetchone()[0]  # noqa: S608
            con.execute(f"UPDATE audit_event SET {column} = ? WHERE id = 3", (value,))  # noqa: S608
            report = verify_chain(store)
            assert not report.ok and report.first_bad_id == 3, (column, value, report)
            assert report.events == 2
            con.execute(f"UPDATE audit_event SET {column} = ? WHERE id = 3", (before,))  # noqa: S608
            con.close()
            assert verify_chain(store).ok
