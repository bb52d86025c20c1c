"""Disk full (a real full tmpfs) and a locked database while sealing: clear errors, no
partial record, and the next seal works once the fault is gone."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app import packet
from app.enrollment import EnrollmentRequest, MirrorError, enroll
from app.store.audit import verify_chain
from app.store.db import open_store
from app.store.errors import StorageError
from app.store.models import AuditEvent, Record
from app.store.outbox import Outbox
from app.store.settings import set_setting
from tests.support.fs import fill, small_tmpfs
from tests.support.residents import BUDI_LAKI
from tests.support.station import face_jpeg, make_station, signature_png

TODAY = date(2026, 11, 23)


def _integrity(db: Path) -> str:
    con = sqlite3.connect(db)
    (result,) = con.execute("PRAGMA integrity_check").fetchone()
    con.close()
    return str(result)


def _req() -> EnrollmentRequest:
    return EnrollmentRequest("siti", BUDI_LAKI, face_jpeg(), signature_png=signature_png())


def test_disk_full_while_sealing(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "disk", "3m") as disk:
        st = make_station(disk)
        store = open_store(st.home)
        try:
            sealed: list[str] = []
            filler = fill(disk)
            error: StorageError | None = None
            # The WAL may still have room from earlier transactions: keep sealing until the
            # disk really refuses (bounded).
            for _ in range(40):
                try:
                    sealed.append(enroll(store, _req(), today=TODAY).uuid)
                except StorageError as exc:
                    error = exc
                    break
            assert error is not None, "the full disk never refused a write"
            assert error.kind == "disk_full" and "disk is full" in error.message
            with store.read() as s:
                uuids = list(s.execute(select(Record.uuid).order_by(Record.seq)).scalars())
                events = s.execute(
                    select(func.count()).where(AuditEvent.kind == "record.sealed")
                ).scalar_one()
            assert uuids == sealed and events == len(sealed)  # nothing partial
            filler.unlink()
            after = enroll(store, _req(), today=TODAY)
            assert Outbox(store).counts()["sealed"] == len(sealed) + 1
            ident = st.identity()
            for _uuid, data in Outbox(store).iter_packets():
                packet.verify(data, ident.signing_key.public_key())
            assert after.uuid not in sealed
            assert verify_chain(store).ok
        finally:
            store.close()
        assert _integrity(st.home / "station.db") == "ok"


def test_full_mirror_fails_the_seal_when_required(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    with small_tmpfs(tmp_path / "usb", "1m") as usb, st.open() as store:
        set_setting(store, "mirror_dir", str(usb), actor="tech")
        fill(usb)
        with pytest.raises(MirrorError, match="full"):
            enroll(store, _req(), today=TODAY)
        assert Outbox(store).counts()["sealed"] == 0
        assert [p.name for p in usb.iterdir()] == ["filler"]  # no temp file left behind
        (usb / "filler").unlink()
        uuid = enroll(store, _req(), today=TODAY).uuid
        assert (usb / f"{uuid}.ektp").exists()


def test_locked_database(tmp_path: Path) -> None:
    st = make_station(tmp_path)
    holder = sqlite3.connect(st.home / "station.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    holder.execute("INSERT INTO setting (key, value) VALUES ('x', 'y')")
    try:
        with open_store(st.home, busy_timeout_ms=300) as store:
            with pytest.raises(StorageError) as err:
                enroll(store, _req(), today=TODAY)
            assert err.value.kind == "locked" and "locked" in err.value.message
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with st.open() as store:
        assert Outbox(store).counts()["sealed"] == 0
        enroll(store, _req(), today=TODAY)
        assert Outbox(store).counts()["sealed"] == 1
