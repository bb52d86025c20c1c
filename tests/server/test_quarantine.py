"""`station revoke ID --since TIME` quarantines what the stolen key signed after the theft;
the office lists and decides on each quarantined packet (audited), and the back office is
told never to count them (issue 18, item 6; server/quarantine.py). Real server process,
SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, server_cli


def _packets(srv: ServerProcess) -> dict[str, dict[str, Any]]:
    res = server_cli(srv, "packets", "--json")
    assert res.returncode == 0, res.stderr
    return {p["uuid"]: p for p in json.loads(res.stdout)["packets"]}


def test_revoke_since_quarantines_what_the_thief_signed(server: ServerProcess) -> None:
    st = TestStation.enroll(server)
    other = TestStation.enroll(server, name="Kit 2")
    before = st.seal(nama="SEBELUM PENCURIAN")
    receipt = st.put(before)
    assert receipt.status_code == 201
    received = datetime.fromisoformat(receipt.json()["received_at"]).timestamp()
    theft = datetime.fromtimestamp(received + 0.5).astimezone().isoformat()  # local zone
    time.sleep(1.0)
    forged = [st.seal(nama="PALSU 1"), st.seal(nama="PALSU 2")]
    for p in forged:
        assert st.put(p).status_code == 201
    bystander = other.seal()
    assert other.put(bystander).status_code == 201

    bad = server_cli(server, "station", "revoke", st.station_id, "--since", "kemarin")
    assert bad.returncode == 2 and "--since" in bad.stderr, bad.stderr
    assert st.put(st.seal()).status_code == 201  # nothing revoked by the bad input
    res = server_cli(server, "station", "revoke", st.station_id, "--since", theft)
    assert res.returncode == 0, res.stderr
    assert "3 packet(s)" in res.stdout and "quarantined" in res.stdout, res.stdout

    listed = _packets(server)
    assert listed[before.uuid]["review"] is None
    assert listed[bystander.uuid]["review"] is None
    for p in forged:
        assert listed[p.uuid]["review"] == "quarantined"
        assert "revoked" in listed[p.uuid]["review_reason"]
    q = json.loads(server_cli(server, "quarantine", "list", "--json").stdout)
    assert q["count"] == 3 and {p["station"] for p in q["packets"]} == {st.station_id}

    def decide(word: str, uuid: str, by: str) -> Any:
        return server_cli(server, "quarantine", word, uuid, "--station", st.station_id, "--by", by)

    assert decide("release", forged[0].uuid, "Ibu Sari").returncode == 0
    assert decide("reject", forged[1].uuid, "Pak Budi").returncode == 0
    again = decide("release", forged[1].uuid, "Pak Budi")
    assert again.returncode == 2 and "rejected" in again.stderr, again.stderr
    nobody = decide("release", before.uuid, "")
    assert nobody.returncode == 2, nobody.stderr
    listed = _packets(server)
    assert listed[forged[0].uuid]["review"] == "released"
    assert listed[forged[0].uuid]["reviewed_by"] == "Ibu Sari"
    assert listed[forged[0].uuid]["reviewed_at"]
    assert listed[forged[1].uuid]["review"] == "rejected"
    assert listed[forged[1].uuid]["reviewed_by"] == "Pak Budi"

    # What the back office asks (server/processing/): never count the rejected or the
    # still-quarantined packets.
    from server import db, quarantine
    from server.core import ServerCore

    core = ServerCore(server.home, server.db_url)
    try:
        with core.engine.begin() as conn:
            verdict = {
                uuid: quarantine.packet_must_not_count(conn, p["station"], uuid)
                for uuid, p in listed.items()
            }
            countable = conn.execute(
                select(func.count()).select_from(db.packets).where(quarantine.COUNTABLE)
            ).scalar()
    finally:
        core.close()
    assert verdict[before.uuid] is False and verdict[bystander.uuid] is False
    assert verdict[forged[0].uuid] is False  # released by the office
    assert verdict[forged[1].uuid] is True  # rejected
    assert sum(verdict.values()) == 2  # the rejected one and the one still quarantined
    assert countable == len(listed) - 2
