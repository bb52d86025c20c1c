"""The audit chain detects edits, deletions and reordering in the real database file."""

from __future__ import annotations

import sqlite3

from app.store.audit import record_event, verify_chain
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
