"""Fates back to the station, with real parts: a central server (SQLite and PostgreSQL), a
relay between kit and centre, a real station store, the fault proxy on the fate pull.

- Through a relay, a duplicate and a record to re-record show on the kit (``fates --json``,
  ``status --json``) within one pull after processing.
- Neither the kit nor the relay purges a payload before the centre's ``received``: a relay's
  receipt is not the centre's.
- A page naming a record the kit does not hold, or one with a gap, is refused whole.
- Faults on the fate pull (reset, a lost or cut reply, 503) never apply a fate twice or half.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from uuid6 import uuid7

from app import packet as pkt
from app.enrollment import seal_record
from app.store import fates as fate_store
from app.store.db import Store, open_store
from app.store.models import Record, RecordFate
from app.store.settings import set_setting
from app.store.station import get_identity
from app.sync.station import StationSync
from server import db, station_fates
from server.core import ServerCore
from tests.server.test_relay_pull import provision_relay
from tests.server.test_relay_trouble import relay_status
from tests.support.cli import run_server, run_station
from tests.support.faultproxy import FaultProxy
from tests.support.office import office_json, person, portrait_jpeg
from tests.support.office import seal_record as seal_packet
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, sqlite_only
from tests.support.station import signature_png
from tests.support.wait import wait_for
from tests.sync.helpers import OPERATOR, provisioned_home


def seal(store: Store, bio: dict[str, Any], *, signed: bool = True, **manifest: Any) -> str:
    identity = get_identity(store)
    assert identity is not None
    attachments = [pkt.Attachment("face.jpg", "image/jpeg", portrait_jpeg())]
    if signed:
        attachments.append(pkt.Attachment("signature.png", "image/png", signature_png()))
    uuid, _, _ = seal_record(
        store,
        identity,
        operator=OPERATOR,
        manifest={"biodata": bio, **manifest},
        attachments=attachments,
    )
    return uuid


def station_json(home: Path, *args: str) -> Any:
    res = run_station("--home", str(home), *args)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def relay_packets(core: ServerCore) -> dict[str, tuple[str | None, float | None, int]]:
    p = db.packets.c
    with core.engine.connect() as conn:
        rows = conn.execute(select(p.uuid, p.fwd_status, p.purged_at, p.data)).all()
        conn.rollback()
    return {u: (s, at, len(d)) for u, s, at, d in rows}


@sqlite_only
def test_through_a_relay_fates_reach_the_kit_and_nothing_is_purged_early(
    tmp_path: Path, db_url: str | None
) -> None:
    central = ServerProcess(tmp_path / "central", db_url).start()
    proxy = FaultProxy(central.port).start()
    relay = None
    try:
        relay_home, _ = provision_relay(tmp_path, central)
        # The relay's fate pulls fail until the test lets them through.
        proxy.forced_on = "/station/fates"
        proxy.forced = ["503"] * 100_000
        relay = ServerProcess(
            relay_home,
            upstream=proxy.url,
            extra=[
                "--upstream-timeout", "2", "--upstream-backoff-cap", "1",
                "--upstream-pull-interval", "0.3", "--relay-retention-days", "0",
            ],
        ).start()  # fmt: skip
        home = provisioned_home(tmp_path / "kit", relay)
        with open_store(home) as store:
            set_setting(store, "retention_days", "0", actor="test")
            first = seal(store, person(1))
            second = seal(store, person(1))  # the same resident again: a duplicate
            unsigned = seal(store, person(3), signed=False)  # must be recorded again
            sync = StationSync(store)
            done = sync.once()
            assert done.uploaded == 3 and done.error is None
            look = ServerCore(relay_home)
            try:
                wait_for(
                    lambda: {s for s, _, _ in relay_packets(look).values()} == {"uploaded"},
                    30,
                    "the relay forwarded the packets",
                )
                # The centre holds them, but its `received` cannot reach the relay: several
                # purges pass and keep every payload.
                wait_for(lambda: proxy.counts["503"] >= 3, 30, "the relay's fate pulls")
                assert all(at is None and size > 0 for _, at, size in relay_packets(look).values())
                # Nor does the kit purge on the relay's receipt.
                sync.once()
                assert Outbox_counts(store)["purged"] == 0
                assert fate_store.counts(store)["received"] == 0

                assert office_json(central.home, central.db_url, "process", "--once", "--json")[
                    "this_run"
                ] == {"processed": 1, "duplicate": 1, "rerecord": 1, "rejected": 0}
                proxy.forced = []  # the fates flow again
                wait_for(
                    lambda: sum(station_fates.counts(look.engine).values()) == 6,
                    30,
                    "the relay kept the kit's fates",
                )
                wait_for(
                    lambda: all(at is not None for _, at, _ in relay_packets(look).values()),
                    30,
                    "the relay purged what the centre holds",
                )
                assert all(size == 0 for _, _, size in relay_packets(look).values())
            finally:
                look.close()
            shown = relay_status(relay_home)["fates"]
            assert shown["purged_payloads"] == 3 and shown["refused"] is None
            assert shown["held"]["received"] == 3 and shown["last_pull_at"]
            text = run_server("--home", str(relay_home), "relay", "status")
            assert text.returncode == 0, text.stderr
            assert "payloads purged (the centre holds them): 3" in text.stdout
            # One pull at the kit: the fates are there.
            sync.once()
            assert Outbox_counts(store)["purged"] == 3  # the centre holds them all now
        fates = station_json(home, "fates", "--json")
        by = {r["uuid"]: r for r in fates["records"]}
        # Which of the two arrived first (two uploads run at once) holds the NIK.
        holder, dup = (first, second) if by[first]["fate"] == "processed" else (second, first)
        assert by[holder]["fate"] == "processed"
        assert (by[dup]["fate"], by[dup]["duplicate_of"]) == ("duplicate", holder)
        assert (by[unsigned]["fate"], by[unsigned]["reason"]) == ("rerecord", "signature_missing")
        assert by[unsigned]["receipt_number"] == fate_store.receipt_number(unsigned)
        needs = station_json(home, "fates", "--json", "--needs-action")
        assert [r["uuid"] for r in needs["records"]] == [unsigned]
        status = station_json(home, "status", "--json")["fates"]
        assert {k: status[k] for k in ("received", "processed", "duplicate", "rerecord")} == {
            "received": 0,
            "processed": 1,
            "duplicate": 1,
            "rerecord": 1,
        }
        assert status["needs_action"] == 1 and status["last_seq"] == 6 and status["error"] is None
        # A re-recording names the record it replaces; the list then leaves it out.
        with open_store(home) as store:
            again = seal(store, person(3), rerecord_of=unsigned)
            with store.read() as s:
                assert (
                    s.execute(select(Record.rerecord_of).where(Record.uuid == again)).scalar()
                    == unsigned
                )
        assert station_json(home, "fates", "--json", "--needs-action")["records"] == []
    finally:
        if relay is not None:
            relay.stop()
        proxy.stop()
        central.stop()


def Outbox_counts(store: Store) -> dict[str, int]:  # noqa: N802
    from app.store.outbox import Outbox

    return Outbox(store).counts()


def test_fates_for_records_the_kit_does_not_hold_are_refused_whole(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "server") as srv:
        home = provisioned_home(tmp_path / "kit", srv)
        with open_store(home) as store:
            mine = seal(store, person(1))
            sync = StationSync(store)
            assert sync.once().uploaded == 1
            assert fate_store.last_seq(store) == 1
            # A packet under this kit's name that this kit never sealed (its key in other
            # hands, or a store restored from an old backup): its fate names an unknown record.
            identity = get_identity(store)
            assert identity is not None
            stranger = TestStation(
                srv.url,
                identity.station_id,
                identity.signing_key,
                identity.server_public_key,
                identity.kecamatan,
            )
            foreign = seal_packet(stranger, person(2))
            assert stranger.put(foreign).status_code == 201
            office_json(srv.home, srv.db_url, "process", "--once", "--json")
            sync.once()
            # Refused whole: the fate of our own record, in the same page, is not applied.
            assert fate_store.last_seq(store) == 1
            summary = fate_store.summary(store)
            assert summary["processed"] == 0 and summary["received"] == 1
            assert pkt.read_header(foreign.data).uuid in summary["error"]
            assert "does not hold" in summary["error"]
            with store.read() as s:
                assert s.execute(
                    select(RecordFate.fate).where(RecordFate.uuid == mine)
                ).scalar() == ("received")
        status = station_json(home, "status", "--json")
        assert "does not hold" in status["fates"]["error"]


def test_a_page_with_a_gap_changes_nothing(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "server") as srv:
        home = provisioned_home(tmp_path / "kit", srv)
        with open_store(home) as store:
            a, b = seal(store, person(1)), seal(store, person(2))
            at = "2026-12-07T01:00:00Z"
            gap = [
                {"seq": 1, "uuid": a, "fate": "received", "reason": None, "at": at},
                {"seq": 3, "uuid": b, "fate": "received", "reason": None, "at": at},
            ]
            with pytest.raises(fate_store.FateRefused, match="gap"):
                fate_store.apply_page(store, 0, gap)
            # A page that does not continue what was applied here.
            with pytest.raises(fate_store.FateRefused, match="continues"):
                fate_store.apply_page(store, 5, [{**gap[1], "seq": 6}])
            assert fate_store.last_seq(store) == 0
            assert fate_store.counts(store)["received"] == 0
            # One way: received after processed changes nothing; a repeat is harmless.
            page = [
                {"seq": 1, "uuid": a, "fate": "processed", "reason": None, "at": at},
                {"seq": 2, "uuid": a, "fate": "received", "reason": None, "at": at},
            ]
            done = fate_store.apply_page(store, 0, page)
            assert (done.applied, done.unchanged, done.last_seq) == (1, 1, 2)
            assert fate_store.counts(store)["processed"] == 1
            # Sideways changes nothing, but for a duplicate the centre made the resident's
            # record (the record it duplicated withdrawn after a revoke --since).
            dup = {"reason": "nik_held", "at": at, "duplicate_of": a}
            page = [
                {"seq": 3, "uuid": b, "fate": "duplicate", **dup},
                {"seq": 4, "uuid": a, "fate": "duplicate", **dup, "duplicate_of": b},
                {"seq": 5, "uuid": b, "fate": "processed", "reason": None, "at": at},
                {"seq": 6, "uuid": b, "fate": "rejected", "reason": "malformed", "at": at},
            ]
            done = fate_store.apply_page(store, 2, page)
            assert (done.applied, done.unchanged, done.last_seq) == (2, 2, 6)
            assert fate_store.counts(store)["processed"] == 2


@pytest.mark.parametrize("fault", ["reset", "truncate", "lost_reply", "503", "502"])
def test_faults_on_the_fate_pull_never_apply_twice_or_half(tmp_path: Path, fault: str) -> None:
    with ServerProcess(tmp_path / "server") as srv, FaultProxy(srv.port) as proxy:
        home = provisioned_home(tmp_path / "kit", srv, url=proxy.url)
        with open_store(home) as store:
            uuids = [seal(store, person(n)) for n in range(1, 4)]
            sync = StationSync(store, timeout=(2.0, 2.0))
            proxy.forced_on = "/station/fates"
            proxy.forced = [fault] * 2
            first = sync.once()
            assert first.uploaded == 3
            # The pull failed (the fault); nothing half applied.
            assert fate_store.last_seq(store) in (0, 3)
            office_json(srv.home, srv.db_url, "process", "--once", "--json")
            for _ in range(4):
                sync.once()
            assert fate_store.last_seq(store) == 6
            counts = fate_store.counts(store)
            assert counts["processed"] == 3 and counts["received"] == 0
            with store.read() as s:
                fates = dict(s.execute(select(RecordFate.uuid, RecordFate.fate)).all())
            assert fates == dict.fromkeys(uuids, "processed")
            assert proxy.counts[fault] >= 1


def test_the_pull_cycle_runs_its_steps_in_order_and_follows_up_an_upload() -> None:
    from app.sync.engine import SyncError
    from app.sync.pull import PullCycle

    now = [1000.0]
    ran: list[str] = []

    class Step:
        def __init__(self, name: str, fail: bool = False) -> None:
            self.name, self.fail = name, fail

        def run(self) -> str:
            ran.append(self.name)
            if self.fail:
                raise SyncError("server", f"{self.name} failed")
            return self.name

    cycle = PullCycle(
        [Step("fates", fail=True), Step("policy")],
        interval_s=120,
        follow_up_s=15,
        clock=lambda: now[0],
    )
    assert cycle.due()
    out = cycle.run()
    # A failing step is recorded; the next one still runs.
    assert ran == ["fates", "policy"] and out["policy"] == "policy"
    assert [e.message for e in cycle.errors()] == ["fates failed"]
    now[0] += 14
    assert not cycle.due()
    cycle.follow_up()  # records were uploaded: the verdict follows within seconds
    now[0] += 14.9
    assert not cycle.due()
    now[0] += 0.2
    assert cycle.due()
    cycle.run()
    now[0] += 119
    assert not cycle.due()
    now[0] += 1
    assert cycle.due()


def test_a_relay_refused_one_kits_fates_goes_on_with_the_others(tmp_path: Path) -> None:
    from server.relay import RelayForwarder
    from server.relay_fates import FATES_PULL_ERROR, pull_fates

    with ServerProcess(tmp_path / "central") as central:
        relay_home, _ = provision_relay(tmp_path, central)
        # A kit the central office enrolled directly: this relay never vouched for it, yet
        # the relay's table says it registered it (a kit moved between relays, say).
        stranger = TestStation.enroll(central, name="Direct kit")
        assert stranger.put(seal_packet(stranger, person(1))).status_code == 201
        core = ServerCore(relay_home)
        try:
            now = time.time()
            with core.engine.begin() as conn:
                conn.execute(
                    db.stations.insert().values(
                        id=stranger.station_id,
                        name="Direct kit",
                        kecamatan="36.03.32",
                        created_at=now,
                        assigned_at=now,
                        upstream_registered_at=now,
                    )
                )
            forwarder = RelayForwarder(core)
            out = pull_fates(core, forwarder.puller.engine)
            assert list(out.refused) == [stranger.station_id]
            assert "may not read the fates" in out.refused[stranger.station_id]
            assert out.stored == 0
            assert stranger.station_id in (core.meta_get(FATES_PULL_ERROR) or "")
            # And a page that does not continue what the relay holds is kept nowhere.
            at = "2026-12-07T01:00:00.000Z"
            entry = {"seq": 2, "uuid": str(uuid7()), "fate": "received", "reason": None, "at": at}
            with pytest.raises(station_fates.FateSequenceError):
                station_fates.check_page(
                    {"station": "kit-x", "after": 0, "fates": [entry], "last_seq": 2}, "kit-x", 0
                )
            with pytest.raises(station_fates.FateSequenceError):
                station_fates.store_pulled(core.engine, "kit-x", 1, [entry])
            assert station_fates.counts(core.engine)["received"] == 0
        finally:
            core.close()
