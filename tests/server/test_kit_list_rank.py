"""The Kit list's order: the database ranks the fleet (``kit_page``) exactly as the kit's own
alerts do (``_ranked`` over every kit in Python), page by page, on SQLite and PostgreSQL."""

from __future__ import annotations

import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import update

from app import packet as pkt
from server import db
from server.core import ServerCore
from server.health import record_report
from server.processing.tables import station_counts
from server.web import kits

HOUR = 3600.0
LONG_AGO = 50 * HOUR  # beyond the 48 h after which a kit is silent


def _kit(core: ServerCore, name: str, *, enrolled: bool = True) -> str:
    station, code = core.add_station(name, "36.03.32")
    if enrolled:
        core.enroll(code, pkt.signing_public_key_b64(Ed25519PrivateKey.generate().public_key()))
    return station.id


def _report(core: ServerCore, sid: str, at: float, **doc: float) -> None:
    record_report(
        core.engine,
        core.get_station(sid),
        {"pending": 0, **{k: v for k, v in doc.items() if k != "clock"}},
        clock_offset_s=doc.get("clock", 0.0),
        reported_at=at,
    )


def _fleet(core: ServerCore) -> dict[str, str]:
    """A kit in each state the list tells apart; returns name -> expected light."""
    now = time.time()
    expected: dict[str, str] = {}

    def kit(name: str, light: str, **kw: bool) -> str:
        expected[name] = light
        return _kit(core, name, **kw)

    sid = kit("revoked and reporting", "red")
    _report(core, sid, now)
    core.revoke(sid)
    core.revoke(kit("revoked", "red"))
    kit("awaiting its code", "amber", enrolled=False)
    silent = kit("enrolled long ago, never heard of", "red")
    with core.engine.begin() as conn:
        conn.execute(
            update(db.stations).where(db.stations.c.id == silent).values(enrolled_at=now - LONG_AGO)
        )
    kit("enrolled just now, no report yet", "green")
    _report(core, kit("falling behind", "amber"), now, oldest_unsent_s=30 * HOUR)
    _report(core, kit("clock off", "amber"), now, clock=-400.0)
    _report(core, kit("clock off a little", "green"), now, clock=120.0)
    _report(core, kit("all well", "green"), now - HOUR, oldest_unsent_s=60.0)
    _report(core, kit("reported long ago", "red"), now - LONG_AGO)
    sid = kit("reported long ago, uploaded today", "green")
    _report(core, sid, now - LONG_AGO)
    with core.engine.begin() as conn:
        conn.execute(station_counts.insert().values(station_id=sid, last_received_at=now - HOUR))
    sid = kit("uploaded long ago, reported now, behind", "amber")
    _report(core, sid, now, oldest_unsent_s=90000.0)
    with core.engine.begin() as conn:
        conn.execute(station_counts.insert().values(station_id=sid, last_received_at=0.0))
    return expected


def test_the_database_ranks_the_kits_as_their_alerts_do(server, monkeypatch) -> None:
    core = ServerCore(server.home, server.db_url)
    try:
        expected = _fleet(core)
        monkeypatch.setattr(kits, "PAGE_SIZE", 3)  # several pages from a dozen kits
        in_python = kits._ranked(core, kits.reported, time.time())
        assert {r.name: ("red", "amber", "green")[r.rank] for r in in_python} == expected
        shown = []
        first = kits.kit_page(core, 1)
        for page in range(1, first.pages + 1):
            listing = kits.kit_page(core, page)
            assert listing.counts == first.counts and listing.page == page
            assert len(listing.rows) <= 3
            shown += [(r.station.id, r.light, r.alerts) for r in listing.rows]
        assert shown == [(r.id, ("red", "amber", "green")[r.rank], r.alerts) for r in in_python]
        lights = list(expected.values())
        assert first.counts == {
            "all": len(expected),
            **{light: lights.count(light) for light in ("red", "amber", "green")},
        }
        # Past the last page: the last page, not an empty one.
        assert kits.kit_page(core, 99).rows == kits.kit_page(core, first.pages).rows
    finally:
        core.close()


def test_a_page_before_the_first_is_the_first(server) -> None:
    core = ServerCore(server.home, server.db_url)
    try:
        _kit(core, "Kit A")
        for page in (0, -3):
            assert [r.station.name for r in kits.kit_page(core, page).rows] == ["Kit A"]
    finally:
        core.close()
