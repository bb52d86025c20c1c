"""The back office's processor: every packet gets exactly one fate with a reason, duplicates
name the record they duplicate, re-recordings supersede, the figures are counted once; a
processor without the right key judges nothing. SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import packet as pkt
from tests.support.cli import run_server
from tests.support.office import (
    Tables,
    office,
    office_json,
    person,
    portrait_jpeg,
    seal_record,
)
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, sqlite_only


def _put(station: TestStation, packet: pkt.SealedPacket) -> str:
    resp = station.put(packet)
    assert resp.status_code == 201, resp.text
    return pkt.read_header(packet.data).uuid


def test_each_packet_gets_one_fate_with_its_reason(server: ServerProcess, tmp_path: Path) -> None:
    kit = TestStation.enroll(server)
    first = _put(kit, seal_record(kit, person(1)))
    second = _put(kit, seal_record(kit, person(1)))  # the same NIK again
    other = _put(kit, seal_record(kit, person(2, kode_wilayah="36.03.32.2002")))
    unreadable = _put(kit, seal_record(kit, person(3), photo=b"\xff\xd8 not a jpeg"))
    small = _put(kit, seal_record(kit, person(4), photo=_small_jpeg()))
    unsigned = _put(kit, seal_record(kit, person(5), with_signature=False))
    bad_bio = _put(kit, seal_record(kit, person(6, pekerjaan="ASTRONOT")))
    mismatch = _put(kit, seal_record(kit, person(7), station_id="another-kit"))
    # A kit this server never enrolled: its exported packet is imported unverified.
    stranger = TestStation(
        kit.url, "kit-unknown-9", Ed25519PrivateKey.generate(), kit.server_key, "36.03.32"
    )
    export = tmp_path / "export"
    export.mkdir()
    foreign = seal_record(stranger, person(8))
    (export / "foreign.ektp").write_bytes(foreign.data)
    assert office(server.home, server.db_url, "import", str(export)).returncode == 0

    done = office_json(server.home, server.db_url, "process", "--once", "--json")
    assert done["this_run"] == {"processed": 2, "duplicate": 1, "rerecord": 4, "rejected": 2}
    assert done["totals"]["queued"] == 0

    listed = office_json(server.home, server.db_url, "records", "--json")
    by_uuid = {r["uuid"]: r for r in listed["records"]}
    assert len(by_uuid) == 9
    expect = {
        first: ("processed", None),
        second: ("duplicate", "nik_held"),
        other: ("processed", None),
        unreadable: ("rerecord", "photo_unreadable"),
        small: ("rerecord", "photo_too_small"),
        unsigned: ("rerecord", "signature_missing"),
        bad_bio: ("rerecord", "biodata_invalid"),
        mismatch: ("rejected", "manifest_mismatch"),
        pkt.read_header(foreign.data).uuid: ("rejected", "unknown_station_key"),
    }
    assert {u: (r["fate"], r["reason"]) for u, r in by_uuid.items()} == expect
    assert by_uuid[second]["duplicate_of"] == first
    assert by_uuid[second]["duplicate_of_station"] == kit.station_id
    assert by_uuid[bad_bio]["detail"] == "pekerjaan:not_in_list"
    assert by_uuid[first]["desa"] == "36.03.32.2001"
    assert by_uuid[first]["operator"] == "siti"
    # The index and its listing hold no name, address nor NIK.
    assert "BUDI" not in str(listed) and person(1)["nik"] not in str(listed)

    dups = office_json(server.home, server.db_url, "records", "--json", "--status", "duplicate")
    assert [r["uuid"] for r in dups["records"]] == [second]

    cov = office_json(server.home, server.db_url, "coverage", "--json", "--wilayah", "36.03.32")
    assert cov["wilayah"]["terekam"] == 2
    by_desa = {a["kode"]: a["terekam"] for a in cov["areas"]}
    assert by_desa["36.03.32.2001"] == 1 and by_desa["36.03.32.2002"] == 1

    t = Tables(server.home, server.db_url)
    try:
        recap = office_json(server.home, server.db_url, "recap", "--date", _wib_day(t), "--json")
        assert recap["total"] == {
            "received": 9,
            "processed": 2,
            "duplicate": 1,
            "rerecord": 4,
            "rejected": 2,
        }
        kits = {s["kode"]: s for s in recap["stations"]}
        assert kits[kit.station_id]["received"] == 8
        assert kits["kit-unknown-9"]["rejected"] == 1
        # Nothing processes twice: a second run finds nothing and changes nothing.
        again = office_json(server.home, server.db_url, "process", "--once", "--json")
        assert sum(again["this_run"].values()) == 0
        assert t.received_counted() == 9 and t.terekam() == 2
        # The counters rolled up the wilayah tree and per kit agree with the fates (the
        # rejected packets, whose desa is unknown, count for their kit and in no area).
        assert t.rollup_mismatches() == []
    finally:
        t.close()


def _wib_day(t: Tables) -> str:
    from sqlalchemy import select

    from server.processing.tables import daily_counts

    with t.engine.connect() as conn:
        (day,) = {r[0] for r in conn.execute(select(daily_counts.c.day))}
    return str(day)


def _small_jpeg() -> bytes:
    import cv2
    import numpy as np

    img = cv2.imdecode(np.frombuffer(portrait_jpeg(), np.uint8), cv2.IMREAD_COLOR)
    assert img is not None
    ok, buf = cv2.imencode(".jpg", cv2.resize(img, (120, 160)))
    assert ok
    return bytes(buf)


def test_a_rerecording_supersedes_the_record_it_replaces(server: ServerProcess) -> None:
    kit = TestStation.enroll(server)
    held = _put(kit, seal_record(kit, person(1)))
    blurred = _put(kit, seal_record(kit, person(2), photo=b"\xff\xd8 broken"))
    typo = _put(kit, seal_record(kit, person(1)))  # NIK typed wrong: really resident 3
    assert office(server.home, server.db_url, "process", "--once").returncode == 0
    again = _put(kit, seal_record(kit, person(2), rerecord_of=blurred))
    fixed = _put(kit, seal_record(kit, person(3), rerecord_of=typo))
    # Naming a processed record does not make a re-recording: judged as any other.
    not_one = _put(kit, seal_record(kit, person(1), rerecord_of=held))
    assert office(server.home, server.db_url, "process", "--once").returncode == 0
    recs = {
        r["uuid"]: r
        for r in office_json(server.home, server.db_url, "records", "--json")["records"]
    }
    assert (recs[again]["fate"], recs[again]["rerecord_of"]) == ("processed", blurred)
    assert recs[blurred]["superseded_by"] == again
    assert recs[fixed]["fate"] == "processed" and recs[typo]["superseded_by"] == fixed
    assert recs[not_one]["fate"] == "duplicate" and recs[not_one]["duplicate_of"] == held
    assert recs[held]["superseded_by"] is None
    cov = office_json(server.home, server.db_url, "coverage", "--json", "--wilayah", "36.03.32")
    assert cov["wilayah"]["terekam"] == 3


def test_a_processor_without_the_servers_key_judges_nothing(
    server: ServerProcess, tmp_path: Path
) -> None:
    kit = TestStation.enroll(server)
    _put(kit, seal_record(kit, person(1)))
    url = server.db_url or f"sqlite:///{server.home / 'server.db'}"
    # No key at all in the home given: refused before anything is written.
    empty = tmp_path / "elsewhere"
    res = office(empty, url, "process", "--once")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "no sealing private key" in res.stderr
    assert not empty.exists()
    # A processor given another key (issue 15: the cluster has one key): refused at start in
    # one line; the packet is left for a processor holding the cluster's key.
    other = tmp_path / "other.pem"
    assert run_server("keys", "new", str(other)).returncode == 0
    res = office(tmp_path / "other", url, "--sealing-key", str(other), "process", "--once")
    assert res.returncode == 2, res.stdout
    assert res.stderr.count("\n") == 1 and "the cluster's (recorded in the database)" in res.stderr
    t = Tables(server.home, server.db_url)
    try:
        assert t.fates() == {} and t.queued() == 1 and t.leased() == 0
    finally:
        t.close()
    assert office(server.home, server.db_url, "process", "--once").returncode == 0
    t = Tables(server.home, server.db_url)
    try:
        assert list(t.fates().values()) == ["processed"]
    finally:
        t.close()


def test_serve_process_processes_what_arrives(tmp_path: Path, db_url: str | None) -> None:
    srv = ServerProcess(tmp_path / "server", db_url, extra=["--process"]).start()
    try:
        kit = TestStation.enroll(srv)
        uuid = _put(kit, seal_record(kit, person(1)))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            recs = office_json(srv.home, srv.db_url, "records", "--json")["records"]
            if recs:
                break
            time.sleep(0.2)
        assert [(r["uuid"], r["fate"]) for r in recs] == [(uuid, "processed")]
    finally:
        srv.stop()


def test_a_packet_its_processors_died_on_is_rejected_alone(server: ServerProcess) -> None:
    """Five processors died holding this packet (its queue row says 5 attempts, lease run
    out); its batch neighbours were taken once and not finished either."""
    from sqlalchemy import update

    from server.processing.tables import queue

    kit = TestStation.enroll(server)
    poisoned = _put(kit, seal_record(kit, person(1)))
    neighbour = _put(kit, seal_record(kit, person(2)))
    fresh = _put(kit, seal_record(kit, person(3)))
    t = Tables(server.home, server.db_url)
    try:
        with t.engine.begin() as conn:
            for uuid, attempts in ((poisoned, 5), (neighbour, 1)):
                conn.execute(
                    update(queue)
                    .where(queue.c.uuid == uuid)
                    .values(attempts=attempts, lease_owner="dead:1:x", lease_until=1.0)
                )
    finally:
        t.close()
    assert office(server.home, server.db_url, "process", "--once").returncode == 0
    recs = {
        r["uuid"]: r
        for r in office_json(server.home, server.db_url, "records", "--json")["records"]
    }
    assert (recs[poisoned]["fate"], recs[poisoned]["reason"]) == ("rejected", "processing_failed")
    assert recs[neighbour]["fate"] == "processed" and recs[fresh]["fate"] == "processed"


@sqlite_only
def test_quarantined_packets_are_never_counted_until_released(server: ServerProcess) -> None:
    """What a stolen kit's key signed after the theft (`station revoke --since`) waits,
    uncounted, for the office; released, it is processed like any other."""
    kit = TestStation.enroll(server)
    before = _put(kit, seal_record(kit, person(1)))
    time.sleep(1.1)
    since = datetime.fromtimestamp(int(time.time()), UTC).isoformat()  # the theft
    time.sleep(1.1)
    after = _put(kit, seal_record(kit, person(2)))
    revoke = office(server.home, server.db_url, "station", "revoke", kit.station_id,
                    "--since", since)  # fmt: skip
    assert revoke.returncode == 0, revoke.stderr
    assert office(server.home, server.db_url, "process", "--once").returncode == 0
    recs = office_json(server.home, server.db_url, "records", "--json")["records"]
    assert [r["uuid"] for r in recs] == [before]  # the quarantined one is not judged
    cov = office_json(server.home, server.db_url, "coverage", "--json", "--wilayah", "36.03.32")
    assert cov["wilayah"]["terekam"] == 1
    released = office(server.home, server.db_url, "quarantine", "release", after,
                      "--station", kit.station_id, "--by", "kepala dinas")  # fmt: skip
    assert released.returncode == 0, released.stderr
    assert office(server.home, server.db_url, "process", "--once").returncode == 0
    recs = office_json(server.home, server.db_url, "records", "--json")["records"]
    assert {r["uuid"]: r["fate"] for r in recs} == {before: "processed", after: "processed"}


@sqlite_only
def test_a_packet_processed_before_the_revoke_is_withdrawn(server: ServerProcess) -> None:
    """`station revoke --since` after the processor had judged what the thief sent: those
    records' counts are taken back (coverage, the recap's counters, the kit's), a legitimate
    duplicate of a forged NIK becomes the resident's record, a record the forgery superseded
    waits again, and the forgeries wait for the office like any quarantined packet."""
    stolen = TestStation.enroll(server)
    other = TestStation.enroll(server, name="Kit 2")
    before = _put(stolen, seal_record(stolen, person(1)))
    unsigned = _put(stolen, seal_record(stolen, person(4), with_signature=False))
    assert office(server.home, server.db_url, "process", "--once").returncode == 0
    time.sleep(1.1)
    since = datetime.fromtimestamp(int(time.time()), UTC).isoformat()  # the theft
    time.sleep(1.1)
    forged = _put(stolen, seal_record(stolen, person(2)))
    forged_3 = _put(stolen, seal_record(stolen, person(3)))
    again = _put(stolen, seal_record(stolen, person(1)))  # a duplicate of `before`
    rerecord = _put(stolen, seal_record(stolen, person(4), rerecord_of=unsigned))
    first, second = (_put(other, seal_record(other, person(2))) for _ in range(2))
    assert office(server.home, server.db_url, "process", "--once").returncode == 0

    def fates() -> dict[str, dict[str, Any]]:
        recs = office_json(server.home, server.db_url, "records", "--json")["records"]
        return {r["uuid"]: r for r in recs}

    def terekam() -> int:
        cov = office_json(server.home, server.db_url, "coverage", "--json", "--wilayah", "36.03.32")
        return int(cov["wilayah"]["terekam"])

    recs = fates()
    assert recs[forged]["fate"] == "processed" and recs[first]["duplicate_of"] == forged
    assert recs[again]["duplicate_of"] == before
    assert recs[unsigned]["superseded_by"] == rerecord
    assert terekam() == 4  # residents 1, 2, 3 and 4

    revoke = office(server.home, server.db_url, "station", "revoke", stolen.station_id,
                    "--since", since)  # fmt: skip
    assert revoke.returncode == 0, revoke.stderr
    recs = fates()
    assert set(recs) == {before, unsigned, first, second}
    assert (recs[first]["fate"], recs[first]["duplicate_of"]) == ("processed", None)
    assert (recs[second]["fate"], recs[second]["duplicate_of"]) == ("duplicate", first)
    assert recs[unsigned]["fate"] == "rerecord" and recs[unsigned]["superseded_by"] is None
    assert terekam() == 2  # resident 1 (before the theft) and 2 (the other kit's recording)
    tables = Tables(server.home, server.db_url)
    try:
        assert tables.rollup_mismatches() == []
        assert tables.received_counted() == 4 and tables.processed_counted() == 2
        assert tables.terekam() == 2
        assert tables.queued() == 4  # the four forgeries wait for the office
    finally:
        tables.close()
    # The other kit learns that its recording now stands for the resident.
    pulled = other.signed("GET", "/api/v1/station/fates?after=0&limit=500").json()["fates"]
    assert [f["fate"] for f in pulled if f["uuid"] == first][-1] == "processed"

    # The office releases one forgery (judged afresh: a duplicate now) and rejects another.
    decide = [("release", forged), ("reject", forged_3)]
    for word, uuid in decide:
        res = office(server.home, server.db_url, "quarantine", word, uuid,
                     "--station", stolen.station_id, "--by", "kepala dinas")  # fmt: skip
        assert res.returncode == 0, res.stderr
    assert office(server.home, server.db_url, "process", "--once").returncode == 0
    recs = fates()
    assert (recs[forged]["fate"], recs[forged]["duplicate_of"]) == ("duplicate", first)
    assert forged_3 not in recs and terekam() == 2
    tables = Tables(server.home, server.db_url)
    try:
        assert tables.rollup_mismatches() == []
    finally:
        tables.close()
