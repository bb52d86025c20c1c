"""kill -9 at random moments of enroll, over at least 200 kill points.

Four station homes (each with a mirror directory) are driven in parallel; in each, a child
process runs the enroll code path in a loop and is SIGKILLed at a random moment, then the
next child opens the same home (recovering the WAL) and goes on. Afterwards: every UUID a
child reported after its commit is present and intact (sha256 matches, the signature
verifies, the server key opens it), nothing half-written exists in the database or the
mirror, PRAGMA integrity_check is ok, and the audit chain is whole.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from app import packet
from app.store.audit import verify_chain
from app.store.db import open_store
from app.store.mirror import UNCONFIRMED_DIR
from app.store.models import AuditEvent
from app.store.reconcile import reconcile_mirror
from app.store.settings import set_setting
from tests.store import crash_child
from tests.support.cli import ROOT, env_with_source
from tests.support.residents import BUDI_LAKI
from tests.support.station import StationHome, face_jpeg, make_station, signature_png

LANES = 4
KILLS_PER_LANE = 55  # 220 kill points in all
CALIBRATION_RECORDS = 3
TIME_LIMIT_S = 120


@dataclass
class Lane:
    station: StationHome
    mirror: Path
    out: Path
    kills: int = 0
    proc: multiprocessing.process.BaseProcess | None = None
    deadline: float = 0.0
    exits: list[int | None] = field(default_factory=list)


@pytest.mark.slow
def test_kill_9_during_enroll(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(crash_child.PRELOAD)
    rng = random.Random(20261123)
    photo, sig = face_jpeg(), signature_png()
    lanes = []
    for i in range(LANES):
        st = make_station(tmp_path / f"lane{i}")
        mirror = tmp_path / f"lane{i}" / "mirror"
        mirror.mkdir()
        with st.open() as store:
            set_setting(store, "mirror_dir", str(mirror), actor="tech")
            set_setting(store, "backlog_max_unsent", "0", actor="tech")  # no limit here
        lanes.append(Lane(st, mirror, tmp_path / f"lane{i}" / "printed.txt"))

    # Calibrate: how long does one enroll take on this machine right now? Kills are then
    # spread over about four enrolls' time, so they land in every phase (start, WAL recovery,
    # photo check, sealing, the transaction, the mirror write, between commit and report).
    def run_to_end(records: int) -> float:
        t = time.monotonic()
        child = ctx.Process(
            target=crash_child.enroll_loop,
            args=(str(lanes[0].station.home), str(lanes[0].out), photo, sig, records),
        )
        child.start()
        child.join(60)
        assert child.exitcode == 0
        return time.monotonic() - t

    run_to_end(0)  # boots the fork server (imports, region tables, face cascade)
    max_delay = 4 * run_to_end(CALIBRATION_RECORDS) / CALIBRATION_RECORDS

    def start(lane: Lane) -> None:
        lane.proc = ctx.Process(
            target=crash_child.enroll_loop,
            args=(str(lane.station.home), str(lane.out), photo, sig, 200),
        )
        lane.proc.start()
        lane.deadline = time.monotonic() + rng.uniform(0, max_delay)

    t0 = time.monotonic()
    for lane in lanes:
        start(lane)
    while any(lane.proc is not None for lane in lanes):
        assert time.monotonic() - t0 < TIME_LIMIT_S, "crash test ran out of time"
        lane = min((ln for ln in lanes if ln.proc is not None), key=lambda ln: ln.deadline)
        time.sleep(max(0.0, lane.deadline - time.monotonic()))
        assert lane.proc is not None
        lane.proc.kill()
        lane.proc.join(5)
        lane.exits.append(lane.proc.exitcode)
        lane.kills += 1
        lane.proc = None
        if lane.kills < KILLS_PER_LANE:
            start(lane)

    total_kills = sum(ln.kills for ln in lanes)
    assert total_kills >= 200
    # A child that ended by itself (not by our SIGKILL) would mean a crash of its own.
    assert all(code == -9 for ln in lanes for code in ln.exits), [ln.exits for ln in lanes]

    printed_total = committed_total = orphans = temps = moved = 0
    for lane in lanes:
        text = lane.out.read_text() if lane.out.exists() else ""
        printed = [line for line in text.split("\n")[:-1]]
        assert all(len(u) == 36 for u in printed)
        printed_total += len(printed)
        rows, lane_orphans = _verify_home(lane.station, lane.mirror, printed)
        committed_total += rows
        orphans += lane_orphans
        temps += len(list(lane.mirror.glob(".*.tmp")))
        moved += _reconcile_and_verify(lane.station, lane.mirror, printed, lane_orphans)
    assert printed_total > 0
    print(
        f"\n{total_kills} kills, {printed_total} records reported, {committed_total} committed, "
        f"{orphans} mirror copies without a commit, max delay {max_delay * 1000:.0f} ms, "
        f"{temps} mirror temp files left; reconciliation moved {moved} to unconfirmed/"
    )


def _reconcile_and_verify(
    station: StationHome, mirror: Path, printed: list[str], orphans: int
) -> int:
    """After the kills: reconciliation moves exactly the uncommitted copies to unconfirmed/
    (intact), removes every temp file, leaves every committed copy, audits the move."""
    with open_store(station.home) as store:
        rec = reconcile_mirror(store, actor="test")
        assert len(rec.moved) == orphans == rec.unconfirmed
        assert verify_chain(store).ok
        with store.read() as s:
            details = [
                json.loads(d)
                for d in s.execute(
                    select(AuditEvent.detail).where(AuditEvent.kind == "mirror.unconfirmed")
                ).scalars()
            ]
    assert [u for d in details for u in d["uuids"]] == rec.moved
    assert not list(mirror.glob(".*.tmp"))
    signer = station.identity().signing_key.public_key()
    for uuid in rec.moved:
        header = packet.verify((mirror / UNCONFIRMED_DIR / f"{uuid}.ektp").read_bytes(), signer)
        assert header.uuid == uuid
    # every committed record still has its mirror copy; no orphan is left beside them
    _, left = _verify_home(station, mirror, printed)
    assert left == 0
    return len(rec.moved)


def _verify_home(station: StationHome, mirror: Path, printed: list[str]) -> tuple[int, int]:
    """Everything reported is there and intact; nothing half-written anywhere.
    Returns (records committed, mirror copies whose commit never happened)."""
    db = station.home / "station.db"
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = {
        u: (status, blob, sha, size)
        for u, status, blob, sha, size in con.execute(
            "SELECT uuid, status, packet, sha256, size FROM record"
        )
    }
    sealed_events = con.execute(
        "SELECT count(*) FROM audit_event WHERE kind = 'record.sealed'"
    ).fetchone()[0]
    con.close()
    assert set(printed) <= set(rows), "a reported record is missing"
    assert sealed_events == len(rows)
    ident = station.identity()
    signer = ident.signing_key.public_key()
    for uuid, (status, blob, sha, size) in rows.items():
        assert status == "sealed"
        assert hashlib.sha256(blob).hexdigest() == sha and len(blob) == size
        packet.verify(blob, signer)
        opened = packet.open_packet(blob, station.server_key, signer)
        assert opened.manifest["uuid"] == uuid
        # written and fsynced to the mirror before the commit
        assert (mirror / f"{uuid}.ektp").read_bytes() == blob
    orphans = 0
    for f in mirror.glob("*.ektp"):
        # a copy whose commit never happened is still a complete, authentic packet
        header = packet.verify(f.read_bytes(), signer)
        assert f.name == f"{header.uuid}.ektp"
        orphans += f.stem not in rows
    with open_store(station.home) as store:
        assert verify_chain(store).ok
    return len(rows), orphans


@pytest.mark.slow
def test_kill_9_the_real_cli(tmp_path: Path) -> None:
    """The same with the real `ektp-station enroll` process (fewer kills: each costs a
    process start), two at a time on ONE home, killed anywhere from import to exit."""
    rng = random.Random(7)
    st = make_station(tmp_path)
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with st.open() as store:
        set_setting(store, "mirror_dir", str(mirror), actor="tech")
    bio = tmp_path / "bio.json"
    bio.write_text(json.dumps(BUDI_LAKI))
    photo = tmp_path / "face.jpg"
    photo.write_bytes(face_jpeg())
    cmd = [
        sys.executable, "-m", "app", "--home", str(st.home), "enroll", "--operator", "siti",
        "--biodata", str(bio), "--photo", str(photo),
    ]  # fmt: skip
    printed: list[str] = []
    killed = 0
    t0 = time.monotonic()
    for _ in range(8):
        assert time.monotonic() - t0 < 90
        procs = [
            subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=env_with_source(), cwd=ROOT)
            for _ in range(2)
        ]  # fmt: skip
        for p in procs:  # the operator's password (enroll reads it first)
            assert p.stdin is not None
            p.stdin.write(st.password.encode() + b"\n")
            p.stdin.flush()
        time.sleep(rng.uniform(0.3, 2.0))
        for p in procs:
            p.send_signal(signal.SIGKILL)
            out, _ = p.communicate(timeout=10)
            killed += p.returncode == -9
            printed += [line for line in out.decode().split("\n")[:-1] if line]
    assert killed >= 8  # most were killed mid-way, some may have finished first
    _, orphans = _verify_home(st, mirror, printed)
    _reconcile_and_verify(st, mirror, printed, orphans)
