"""Enrolling one resident: validate, check the photo, seal, store durably, mirror.

``enroll`` is the one path from a finished recording to a sealed record, used by the GUI
and by ``ektp-station enroll``. After it returns, the packet is committed to SQLite (and
fsynced to the mirror when one is set) and no plaintext copy of the biodata or photo was
written anywhere: the packet is sealed in memory and only ciphertext reaches the disk.
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uuid6

from app import packet
from app.store.audit import record_event_raw
from app.store.backlog import FallingBehind, check_backlog_policy
from app.store.central import is_card_check_station
from app.store.clock import ClockImplausible, check_seal_time
from app.store.db import Store
from app.store.errors import NotInitialized, StorageError
from app.store.mirror import MirrorError, mirror_packet, remove_packet
from app.store.operators import OperatorError, UnknownOperator, normalize_card_uid, require_active
from app.store.settings import settings_from_rows
from app.store.station import StationIdentity, identity_from
from app.store.timeutil import iso, parse_store_time, store_time, utcnow

if TYPE_CHECKING:
    from app.capture.photo import AcceptedPhoto
    from app.domain.biodata import Validation

MANIFEST_VERSION = 1
MAX_SIGNATURE_BYTES = 512 * 1024
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_HEX = re.compile(r"[0-9A-F]*")

# The seal path's statements, as plain SQL on the DB-API cursor (see seal_record).
_INSERT_RECORD_SQL = (
    "INSERT INTO record (uuid, status, sha256, size, kecamatan, operator, sealed_at,"
    " attempts, packet, rerecord_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
# The settings rows and the operator's ``active`` flag (the row whose key is NULL; no row:
# no such operator) in one statement: one round trip into SQLite instead of two.
# The newest seal by seq (the rowid: no scan), to check the clock against.
_LAST_SEAL_SQL = "SELECT sealed_at FROM record ORDER BY seq DESC LIMIT 1"
_SEAL_CHECKS_SQL = (
    "SELECT key, value FROM setting UNION ALL SELECT NULL, active FROM operator WHERE username = ?"
)

__all__ = [
    "ClockImplausible",
    "CardCheckStation",
    "EnrollResult",
    "EnrollmentRequest",
    "FallingBehind",
    "InvalidBiodata",
    "InvalidInput",
    "MirrorError",
    "NotInitialized",
    "StorageError",
    "UnknownOperator",
    "enroll",
    "seal_record",
]


class InvalidBiodata(Exception):
    """The biodata has field errors; ``validation.errors`` lists them."""

    def __init__(self, validation: Validation) -> None:
        errors = list(getattr(validation, "errors", []))
        first = errors[0] if errors else None
        text = f"{first.field}: {first.message}" if first is not None else "invalid biodata"
        super().__init__(text)
        self.validation = validation
        self.errors = errors


class CardCheckStation(Exception):
    """The centre set this station up for card checks only (``ektp-server station add
    --verifier``, issue 19) and said so in its assignment: it records nothing."""

    def __init__(self) -> None:
        super().__init__(
            "this is a card-check station (the centre set it up with --verifier): it records "
            "nothing; check cards with `card check`, record on a recording kit"
        )


class InvalidInput(ValueError):
    """A non-biodata input is wrong (signature image, card UID/ATR); ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class EnrollmentRequest:
    operator: str
    biodata: Mapping[str, Any]
    # Raw image bytes (checked here), or a photo the capture screen already accepted.
    photo: bytes | AcceptedPhoto
    signature_png: bytes | None = None
    card_uid: str | None = None
    card_atr: str | None = None
    captured_at: datetime | None = None
    # A re-recording of this earlier record, which the centre sent back (rerecord or
    # duplicate): ``rerecord_of`` in the manifest, so the new record supersedes it.
    rerecord_of: str | None = None


@dataclass(frozen=True)
class EnrollResult:
    uuid: str
    sha256: str
    warnings: list[Any] = field(default_factory=list)  # FieldIssue(field, code, message)
    flags: list[str] = field(default_factory=list)
    mirror_warning: str | None = None
    clock_warning: str | None = None  # the clock far ahead of the last seal (app.store.clock)


def _issue_dict(issue: Any) -> dict[str, str]:
    return {
        "field": str(getattr(issue, "field", "")),
        "code": str(getattr(issue, "code", "")),
        "message": str(getattr(issue, "message", "")),
    }


def check_signature_png(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG within limits, else InvalidInput("signature")."""
    if len(data) > MAX_SIGNATURE_BYTES:
        raise InvalidInput("signature", f"larger than {MAX_SIGNATURE_BYTES // 1024} KB")
    if not data.startswith(PNG_MAGIC) or data[12:16] != b"IHDR" or len(data) < 33:
        raise InvalidInput("signature", "not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    if not (0 < width <= 4000 and 0 < height <= 4000):
        raise InvalidInput("signature", f"image size {width}x{height} is out of range")
    return width, height


def _card(uid: str | None, atr: str | None) -> dict[str, str] | None:
    if uid is None and atr is None:
        return None
    card: dict[str, str] = {}
    if uid is not None:
        try:
            card["uid"] = normalize_card_uid(uid)
        except OperatorError as exc:
            raise InvalidInput("card_uid", exc.message) from exc
    if atr is not None:
        atr_hex = re.sub(r"[\s:-]", "", atr).upper()
        if not atr_hex or len(atr_hex) % 2 or len(atr_hex) > 66 or not _HEX.fullmatch(atr_hex):
            raise InvalidInput("card_atr", "must be up to 33 bytes of hex")
        card["atr"] = atr_hex
    return card


def _validate(biodata: Mapping[str, Any], today: date | None) -> Validation:
    from app.domain.biodata import validate_biodata

    if today is None:
        return validate_biodata(dict(biodata))
    return validate_biodata(dict(biodata), today=today)


def _accept(photo: bytes | AcceptedPhoto) -> AcceptedPhoto:
    if isinstance(photo, bytes | bytearray | memoryview):
        from app.capture.photo import accept_photo

        return accept_photo(bytes(photo))
    return photo


def _quality(photo: AcceptedPhoto) -> dict[str, Any]:
    figures: dict[str, Any] = {"width": photo.width, "height": photo.height}
    report = getattr(photo, "report", None)
    if report is not None and hasattr(report, "as_dict"):
        figures["report"] = report.as_dict()
    if hasattr(photo, "quality"):
        figures["jpeg_quality"] = photo.quality
    return figures


def seal_record(
    store: Store,
    identity: StationIdentity,
    *,
    operator: str,
    manifest: dict[str, Any],
    attachments: list[packet.Attachment],
    record_uuid: str | None = None,
    clock_warnings: list[str] | None = None,
) -> tuple[str, str, str | None]:
    """Seal and store one packet in ONE transaction: record + audit event + mirror copy.

    The mirror copy is written and fsynced before the commit; if the commit fails it is
    deleted again. Returns (uuid, sha256, mirror_warning). Raises ClockImplausible when the
    clock is before the build date or the last seal; a warning for a clock far ahead of the
    last seal is appended to ``clock_warnings``.
    """
    rec_uuid = record_uuid or str(uuid6.uuid7())
    sealed_at = utcnow()
    sealed_iso = iso(sealed_at)
    full = dict(manifest)
    full.update(
        {
            "version": MANIFEST_VERSION,
            "uuid": rec_uuid,
            "station_id": identity.station_id,
            "operator": operator,
            "kecamatan": identity.kecamatan,
            "sealed_at": sealed_iso,
        }
    )
    full.setdefault("captured_at", sealed_iso)
    sealed = packet.seal(
        full,
        attachments,
        uuid=rec_uuid,
        station_id=identity.station_id,
        kecamatan=identity.kecamatan,
        server_public_key=identity.server_public_key,
        station_key=identity.signing_key,
        sealed_at=sealed_iso,
    )
    data = sealed.data
    sha = hashlib.sha256(data).hexdigest()
    rerecord_of = str(full["rerecord_of"]) if full.get("rerecord_of") else None
    mirror_dir: Path | None = None
    mirrored: Path | None = None
    mirror_warning: str | None = None
    try:
        # Raw DB-API statements inside BEGIN IMMEDIATE ... COMMIT (Store.write_raw): the
        # same transaction, rows and durability as through SQLAlchemy, minus ~1 ms of
        # statement overhead per seal (bench_store). Settings and the operator are read
        # inside the transaction, so a change committed just before is always seen.
        with store.write_raw() as cur:
            last = cur.execute(_LAST_SEAL_SQL).fetchone()
            clock_warning = check_seal_time(
                sealed_at, None if last is None else parse_store_time(last[0])
            )
            if clock_warning is not None:
                record_event_raw(cur, operator, "clock.jumped", {"warning": clock_warning})
                if clock_warnings is not None:
                    clock_warnings.append(clock_warning)
            rows = cur.execute(_SEAL_CHECKS_SQL, (operator,)).fetchall()
            settings = settings_from_rows(r for r in rows if r[0] is not None)
            mirror_dir = settings.mirror_path
            # The operator may have been deactivated since the checks before sealing.
            if not any(r[0] is None and r[1] for r in rows):
                raise UnknownOperator(operator)
            cur.execute(
                _INSERT_RECORD_SQL,
                (
                    rec_uuid,
                    "sealed",
                    sha,
                    len(data),
                    identity.kecamatan,
                    operator,
                    store_time(sealed_at),
                    0,
                    data,
                    rerecord_of,
                ),
            )
            sealed_detail: dict[str, Any] = {"uuid": rec_uuid, "sha256": sha, "size": len(data)}
            if rerecord_of:
                sealed_detail["rerecord_of"] = rerecord_of
            record_event_raw(cur, operator, "record.sealed", sealed_detail)
            if mirror_dir is not None:
                try:
                    mirrored = mirror_packet(mirror_dir, rec_uuid, data)
                except MirrorError as exc:
                    if settings.mirror_policy == "required":
                        raise
                    mirror_warning = exc.message
                    record_event_raw(
                        cur,
                        operator,
                        "mirror.failed",
                        {"uuid": rec_uuid, "reason": exc.message},
                    )
    except BaseException:
        if mirrored is not None and mirror_dir is not None:
            remove_packet(mirror_dir, rec_uuid)
        raise
    return rec_uuid, sha, mirror_warning


def enroll(
    store: Store,
    request: EnrollmentRequest,
    *,
    today: date | None = None,
    on_sealed: Callable[[str], None] | None = None,
    before_seal: Callable[[], None] | None = None,
) -> EnrollResult:
    """Validate, check the photo, seal and store one recording.

    Raises NotInitialized, CardCheckStation, UnknownOperator, InvalidBiodata, InvalidInput, PhotoUnreadable /
    PhotoRejected (from app.capture.photo), FallingBehind, MirrorError (policy required) or
    StorageError (disk full, locked, I/O). ``before_seal()`` runs once every check has
    passed, just before the seal (so bad input writes nothing); ``on_sealed(uuid)`` runs
    after the commit.
    """
    with store.read() as session:
        identity = identity_from(session)
        if identity is None:
            raise NotInitialized()
        if is_card_check_station(session):  # before anything is read, checked or sealed
            raise CardCheckStation()
        require_active(session, request.operator)
    validation = _validate(request.biodata, today)
    if not validation.ok or validation.biodata is None:
        raise InvalidBiodata(validation)
    signature = request.signature_png
    if signature is not None:
        check_signature_png(signature)
    card = _card(request.card_uid, request.card_atr)
    backlog = check_backlog_policy(store)
    if backlog.refused:
        raise FallingBehind(backlog.messages[0])
    photo = _accept(request.photo)

    warnings = list(getattr(validation, "warnings", []))
    flags = [str(f) for f in getattr(validation, "flags", [])]
    manifest: dict[str, Any] = {
        "biodata": validation.biodata.to_dict(),
        "warnings": [_issue_dict(w) for w in warnings],
        "flags": flags,
        "quality": _quality(photo),
    }
    if request.captured_at is not None:
        manifest["captured_at"] = iso(request.captured_at)
    if request.rerecord_of is not None:
        from app.store.fates import FateActionError, check_rerecord_of

        try:
            check_rerecord_of(store, request.rerecord_of)
        except FateActionError as exc:
            raise InvalidInput("rerecord_of", str(exc).removeprefix("rerecord_of: ")) from exc
        manifest["rerecord_of"] = request.rerecord_of
    attachments = [packet.Attachment("face.jpg", "image/jpeg", photo.jpeg)]
    if signature is not None:
        attachments.append(packet.Attachment("signature.png", "image/png", signature))
    if card is not None:
        attachments.append(
            packet.Attachment(
                "card.json", "application/json", json.dumps(card, sort_keys=True).encode()
            )
        )
    if before_seal is not None:
        before_seal()
    clock_warnings: list[str] = []
    rec_uuid, sha, mirror_warning = seal_record(
        store,
        identity,
        operator=request.operator,
        manifest=manifest,
        attachments=attachments,
        clock_warnings=clock_warnings,
    )
    if on_sealed is not None:
        on_sealed(rec_uuid)
    return EnrollResult(
        rec_uuid,
        sha,
        warnings,
        flags,
        mirror_warning,
        clock_warnings[0] if clock_warnings else None,
    )
