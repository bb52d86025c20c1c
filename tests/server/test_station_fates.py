"""``GET /api/v1/station/fates``: the centre writes ``received`` when it stores a packet and
the back office's fate when it processes it, in one per-station sequence with no gap; the
query is signed, the answer is signed and echoes the question; a station reads only its own
fates. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from alembic import command
from sqlalchemy import inspect

from app import packet as pkt
from app import protocol
from app.fates import fates_path, parse_page
from server import db, schema
from tests.support.office import office_json, person, seal_record
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation


def _fates(kit: TestStation, after: int, limit: int = 500, **extra: Any) -> Any:
    path = fates_path(after, limit, **extra)
    resp = kit.signed("GET", path)
    assert resp.status_code == 200, resp.text
    assert resp.headers.get(protocol.H_SERVER_SIGNATURE)
    doc = resp.json()
    parse_page(doc, extra.get("station", kit.station_id), after)  # well formed, no gap
    return doc


def test_received_then_the_processors_fate_in_one_sequence(server: ServerProcess) -> None:
    kit = TestStation.enroll(server)
    other = TestStation.enroll(server, name="Kit 2")
    first = seal_record(kit, person(1))
    second = seal_record(kit, person(1))  # the same NIK: a duplicate
    small = seal_record(kit, person(3), with_signature=False)  # must be recorded again
    for p in (first, second, small):
        assert kit.put(p).status_code == 201
    assert other.put(seal_record(other, person(9))).status_code == 201
    uuids = [pkt.read_header(p.data).uuid for p in (first, second, small)]

    doc = _fates(kit, 0)
    assert [(f["seq"], f["uuid"], f["fate"]) for f in doc["fates"]] == [
        (1, uuids[0], "received"),
        (2, uuids[1], "received"),
        (3, uuids[2], "received"),
    ]
    assert doc["last_seq"] == 3
    # The other kit has its own sequence, from 1.
    assert [f["seq"] for f in _fates(other, 0)["fates"]] == [1]

    office_json(server.home, server.db_url, "process", "--once", "--json")
    doc = _fates(kit, 3)
    got = {f["uuid"]: f for f in doc["fates"]}
    assert [f["seq"] for f in doc["fates"]] == [4, 5, 6]
    assert got[uuids[0]]["fate"] == "processed"
    assert got[uuids[1]]["fate"] == "duplicate"
    assert got[uuids[1]]["duplicate_of"] == uuids[0]
    assert got[uuids[1]]["reason"] == "nik_held"
    assert (got[uuids[2]]["fate"], got[uuids[2]]["reason"]) == ("rerecord", "signature_missing")
    # No personal data travels back.
    assert person(1)["nik"] not in str(doc) and "BUDI" not in str(doc)

    # Paging: limit 2 from 0 gives 1, 2 and says more is held.
    doc = _fates(kit, 0, limit=2)
    assert [f["seq"] for f in doc["fates"]] == [1, 2] and doc["last_seq"] == 6
    # Caught up: nothing after the last.
    doc = _fates(kit, 6)
    assert doc["fates"] == [] and doc["last_seq"] == 6


def test_a_station_reads_only_its_own_fates_and_bad_queries_are_refused(
    server: ServerProcess,
) -> None:
    kit = TestStation.enroll(server)
    other = TestStation.enroll(server, name="Kit 2")
    assert kit.put(seal_record(kit, person(1))).status_code == 201
    # A plain station asking for another's fates: 403, signed, with the reason.
    resp = other.signed("GET", fates_path(0, station=kit.station_id))
    assert resp.status_code == 403, resp.text
    assert resp.json()["error"] == "foreign_station"
    assert resp.headers.get(protocol.H_SERVER_SIGNATURE)
    for query in ("after=-1", "after=x", "limit=0", "limit=100000"):
        resp = kit.signed("GET", f"{protocol.API_PREFIX}/station/fates?{query}")
        assert resp.status_code == 400, (query, resp.text)
        assert resp.json()["error"] == "invalid"
    # The query is signed: a request signed for after=0 but sent with after=1 is refused.
    path = fates_path(0)
    headers = protocol.sign_request("GET", path, b"", kit.station_id, kit.key)
    resp = kit.session.get(kit.url + fates_path(1), headers=headers, timeout=30)
    assert resp.status_code == 401, resp.text


def test_revision_0007_gives_what_a_server_already_holds_its_fates(server: ServerProcess) -> None:
    kit = TestStation.enroll(server)
    for p in (
        seal_record(kit, person(1)),
        seal_record(kit, person(1)),
        seal_record(kit, person(2)),
    ):
        assert kit.put(p).status_code == 201
    office_json(server.home, server.db_url, "process", "--once", "--json")
    before = _fates(kit, 0)["fates"]
    server.stop()
    # The database as the previous revision left it (no fates), then upgraded again.
    engine = db.make_engine(server.db_url or f"sqlite:///{server.home / 'server.db'}")
    try:
        cfg = schema.alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0006")
            assert not inspect(conn).has_table("station_fates")
        assert schema.upgrade(engine) == schema.head_revision()
    finally:
        engine.dispose()
    server.start()
    after = _fates(kit, 0)["fates"]
    assert [f["seq"] for f in after] == [1, 2, 3, 4, 5, 6]
    assert [f["fate"] for f in after[:3]] == ["received"] * 3  # received first, then the fates
    assert {(f["uuid"], f["fate"], f.get("duplicate_of")) for f in after} == {
        (f["uuid"], f["fate"], f.get("duplicate_of")) for f in before
    }
    # The sequence goes on from there.
    fresh = seal_record(kit, person(3))
    assert kit.put(fresh).status_code == 201
    assert [(f["seq"], f["fate"]) for f in _fates(kit, 6)["fates"]] == [(7, "received")]
