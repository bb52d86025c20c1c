"""enroll(): validation, photo, sealing, one transaction, mirror policy, errors."""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from app import packet
from app.capture.photo import PhotoRejected, PhotoUnreadable
from app.enrollment import (
    EnrollmentRequest,
    FallingBehind,
    InvalidBiodata,
    InvalidInput,
    MirrorError,
    NotInitialized,
    UnknownOperator,
    enroll,
    seal_record,
)
from app.store.audit import verify_chain
from app.store.db import open_store
from app.store.models import AuditEvent, Record
from app.store.operators import set_active
from app.store.outbox import Outbox
from app.store.settings import set_setting
from tests.support.residents import BUDI_LAKI, RATNA_PEREMPUAN, resident
from tests.support.station import StationHome, face_jpeg, no_face_jpeg, signature_png

TODAY = date(2026, 11, 23)


def _request(st: StationHome, biodata: dict | None = None, **kw: object) -> EnrollmentRequest:
    return EnrollmentRequest(
        operator=kw.pop("operator", st.operator),  # type: ignore[arg-type]
        biodata=biodata or BUDI_LAKI,
        photo=kw.pop("photo", face_jpeg()),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def test_enroll_seals_a_packet_only_the_server_opens(station: StationHome) -> None:
    woken: list[str] = []
    with station.open() as store:
        result = enroll(
            store,
            _request(
                station, signature_png=signature_png(), card_uid="04:a2:3b:7c", card_atr="3B8F8001"
            ),
            today=TODAY,
            on_sealed=woken.append,
        )
        with store.read() as s:
            rec = s.execute(select(Record).where(Record.uuid == result.uuid)).scalar_one()
        data = bytes(rec.packet)
    assert woken == [result.uuid]
    assert (
        rec.status == "sealed" and rec.sha256 == hashlib.sha256(data).hexdigest() == result.sha256
    )
    assert rec.size == len(data) and rec.kecamatan == "36.03.32" and rec.operator == "siti"
    identity = station.identity()
    opened = packet.open_packet(data, station.server_key, identity.signing_key.public_key())
    m = opened.manifest
    assert m["uuid"] == result.uuid and m["station_id"] == identity.station_id
    assert m["operator"] == "siti" and m["kecamatan"] == "36.03.32"
    assert m["biodata"]["nik"] == BUDI_LAKI["nik"] and m["biodata"]["nama"] == BUDI_LAKI["nama"]
    assert m["quality"]["width"] > 0 and "report" in m["quality"]
    assert set(opened.attachments) == {"face.jpg", "signature.png", "card.json"}
    assert opened.attachments["signature.png"].data == signature_png()
    assert json.loads(opened.attachments["card.json"].data) == {
        "uid": "04A23B7C",
        "atr": "3B8F8001",
    }
    assert opened.attachments["face.jpg"].data.startswith(b"\xff\xd8")
    # UUIDv7: version nibble 7, time-ordered
    assert result.uuid[14] == "7"


def test_uuids_are_time_ordered_and_outbox_oldest_first(station: StationHome) -> None:
    with station.open() as store:
        uuids = [
            enroll(store, _request(station, b), today=TODAY).uuid
            for b in (BUDI_LAKI, RATNA_PEREMPUAN, BUDI_LAKI)
        ]
        from app.store.timeutil import utcnow

        due = Outbox(store).due(utcnow(), 10)
    assert uuids == sorted(uuids)
    assert [d.uuid for d in due] == uuids


def test_invalid_biodata_writes_nothing(station: StationHome) -> None:
    with station.open() as store:
        before = _row_counts(store)
        with pytest.raises(InvalidBiodata) as err:
            enroll(store, _request(station, resident(nik="123")), today=TODAY)
        assert any(e.field == "nik" for e in err.value.errors)
        assert _row_counts(store) == before


def test_photo_errors_pass_through(station: StationHome) -> None:
    with station.open() as store:
        with pytest.raises(PhotoUnreadable):
            enroll(store, _request(station, photo=b"not an image at all"), today=TODAY)
        with pytest.raises(PhotoRejected):
            enroll(store, _request(station, photo=no_face_jpeg()), today=TODAY)
        assert Outbox(store).counts()["sealed"] == 0


def test_operator_must_exist_and_be_active(station: StationHome) -> None:
    with station.open() as store:
        with pytest.raises(UnknownOperator):
            enroll(store, _request(station, operator="nobody"), today=TODAY)
        set_active(store, "siti", False, actor="test")
        with pytest.raises(UnknownOperator):
            enroll(store, _request(station), today=TODAY)


def test_not_initialized(tmp_path: Path) -> None:
    with open_store(tmp_path / "home") as store, pytest.raises(NotInitialized):
        enroll(store, EnrollmentRequest("siti", BUDI_LAKI, face_jpeg()), today=TODAY)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"signature_png": b"GIF89a...."}, "signature"),
        ({"card_uid": "xyz"}, "card_uid"),
        ({"card_atr": "3B8"}, "card_atr"),
    ],
)
def test_bad_attachments_name_the_field(station: StationHome, kw: dict, field: str) -> None:
    with station.open() as store:
        with pytest.raises(InvalidInput) as err:
            enroll(store, _request(station, **kw), today=TODAY)
        assert err.value.field == field
        assert Outbox(store).counts()["sealed"] == 0


def test_mirror_copy_is_written_before_success(station: StationHome, tmp_path: Path) -> None:
    mirror = tmp_path / "usb"
    mirror.mkdir()
    with station.open() as store:
        set_setting(store, "mirror_dir", str(mirror), actor="tech")
        result = enroll(store, _request(station), today=TODAY)
        with store.read() as s:
            data = s.execute(select(Record.packet).where(Record.uuid == result.uuid)).scalar_one()
    assert (mirror / f"{result.uuid}.ektp").read_bytes() == data
    assert result.mirror_warning is None
    assert [p.name for p in mirror.iterdir()] == [f"{result.uuid}.ektp"]


def test_missing_mirror_is_an_error_when_required(station: StationHome, tmp_path: Path) -> None:
    with station.open() as store:
        set_setting(store, "mirror_dir", str(tmp_path / "unplugged"), actor="tech")
        before = _row_counts(store)
        with pytest.raises(MirrorError, match="missing"):
            enroll(store, _request(station), today=TODAY)
        assert _row_counts(store) == before  # no record, no audit event


def test_missing_mirror_is_a_warning_when_policy_warn(station: StationHome, tmp_path: Path) -> None:
    with station.open() as store:
        set_setting(store, "mirror_dir", str(tmp_path / "unplugged"), actor="tech")
        set_setting(store, "mirror_policy", "warn", actor="tech")
        result = enroll(store, _request(station), today=TODAY)
        assert result.mirror_warning and "missing" in result.mirror_warning
        with store.read() as s:
            kinds = list(s.execute(select(AuditEvent.kind)).scalars())
        assert "mirror.failed" in kinds
        assert verify_chain(store).ok


def test_falling_behind_refuses_new_records(station: StationHome) -> None:
    with station.open() as store:
        set_setting(store, "backlog_max_unsent", "2", actor="central")
        enroll(store, _request(station), today=TODAY)
        enroll(store, _request(station), today=TODAY)
        with pytest.raises(FallingBehind, match="2 records unsent"):
            enroll(store, _request(station), today=TODAY)
        assert Outbox(store).counts()["sealed"] == 2


def test_audit_details_hold_no_personal_data(station: StationHome) -> None:
    with station.open() as store:
        enroll(store, _request(station), today=TODAY)
        with store.read() as s:
            details = " ".join(s.execute(select(AuditEvent.detail)).scalars())
    for value in (BUDI_LAKI["nik"], BUDI_LAKI["nama"], BUDI_LAKI["alamat"], "SANTOSO"):
        assert value not in details


def _row_counts(store) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    from sqlalchemy import func

    with store.read() as s:
        return (
            s.execute(select(func.count()).select_from(Record)).scalar_one(),
            s.execute(select(func.count()).select_from(AuditEvent)).scalar_one(),
        )


def test_seal_record_rechecks_operator_and_reads_settings_in_its_transaction(
    station: StationHome, tmp_path: Path
) -> None:
    """seal_record's own check (one statement for the settings rows and the operator's flag):
    a deactivated or unknown operator writes nothing, whatever settings rows exist."""
    identity = station.identity()
    attachments = [packet.Attachment("face.jpg", "image/jpeg", face_jpeg())]
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    with station.open() as store:
        set_setting(store, "retention_days", "10", actor="test")
        set_setting(store, "mirror_dir", str(mirror), actor="test")
        set_active(store, "siti", False, actor="test")
        for name in ("siti", "nobody"):
            with pytest.raises(UnknownOperator):
                seal_record(store, identity, operator=name, manifest={}, attachments=attachments)
        assert Outbox(store).counts()["sealed"] == 0
        assert list(mirror.iterdir()) == []
        set_active(store, "siti", True, actor="test")
        uuid, sha, warning = seal_record(
            store, identity, operator="siti", manifest={}, attachments=attachments
        )
        assert warning is None and Outbox(store).get_sha256(uuid) == sha
        assert hashlib.sha256((mirror / f"{uuid}.ektp").read_bytes()).hexdigest() == sha
        assert verify_chain(store).ok
