"""Opening and checking one packet: no database, no side effects.

The same rules as the station: biodata through ``app.domain`` (as of the day the record was
sealed, so an age that was right on the day stays right), the photo through
``app.capture.photo``'s decoder and the portrait's size rules, the signature image through
``app.enrollment``'s PNG check. The result is a ``Verdict``; the fate (processed or
duplicate) is decided against the NIK holders in ``fates``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app import packet as pkt
from app.domain import regions
from server.processing.counters import DAY_TZ

# Fates.
PROCESSED = "processed"
DUPLICATE = "duplicate"
RERECORD = "rerecord"
REJECTED = "rejected"
FATES = (PROCESSED, DUPLICATE, RERECORD, REJECTED)

# Reason codes. rejected: the packet cannot be opened or verified. rerecord: it opened, but
# the resident must come back.
UNKNOWN_STATION_KEY = "unknown_station_key"
BAD_SIGNATURE = "bad_signature"
CANNOT_DECRYPT = "cannot_decrypt"
MALFORMED = "malformed"
MANIFEST_MISMATCH = "manifest_mismatch"
PROCESSING_FAILED = "processing_failed"
BIODATA_INVALID = "biodata_invalid"
PHOTO_MISSING = "photo_missing"
PHOTO_UNREADABLE = "photo_unreadable"
PHOTO_TOO_SMALL = "photo_too_small"
SIGNATURE_MISSING = "signature_missing"
SIGNATURE_INVALID = "signature_invalid"
NIK_HELD = "nik_held"  # duplicate: another processed record holds the NIK

PHOTO_NAME = "face.jpg"
SIGNATURE_NAME = "signature.png"
CARD_NAME = "card.json"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_NIK = re.compile(r"^[0-9]{16}$")


class WrongSealingKey(RuntimeError):
    """The packet is sealed to a key this processor does not hold: it must not judge it."""


@dataclass(frozen=True)
class Verdict:
    """What the checks found. ``ok`` means: a candidate for processed (or duplicate)."""

    ok: bool
    fate: str | None = None  # RERECORD or REJECTED when not ok
    reasons: list[str] = field(default_factory=list)  # codes; the first is the reason
    details: list[str] = field(default_factory=list)  # "field:code", never a value
    nik: str | None = None
    desa: str | None = None
    operator: str | None = None
    rerecord_of: str | None = None
    card_uid: str | None = None  # the card read at recording (card.json), for card checks

    @property
    def reason(self) -> str | None:
        return self.reasons[0] if self.reasons else None


def rejected(reason: str, detail: str | None = None) -> Verdict:
    return Verdict(False, REJECTED, [reason], [detail] if detail else [])


def sealed_day(sealed_at: str) -> date | None:
    try:
        when = datetime.fromisoformat(sealed_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.astimezone(DAY_TZ).date() if when.tzinfo else when.date()


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


def _desa(raw: Any) -> str | None:
    code = regions.normalize_code(raw) if isinstance(raw, str) else None
    return code if code is not None and len(code) == 13 else None


def card_uid(card: pkt.Attachment | None) -> str | None:
    """The card UID sealed in ``card.json``, normalised as the station does; None when there
    is none or it is not one (a bad card file is no reason to send the resident back)."""
    import json

    from app.store.operators import OperatorError, normalize_card_uid

    if card is None:
        return None
    try:
        doc = json.loads(card.data)
        return normalize_card_uid(doc["uid"]) if isinstance(doc.get("uid"), str) else None
    except (ValueError, TypeError, AttributeError, KeyError, OperatorError):
        return None


def check(
    data: bytes,
    header: pkt.PacketHeader,
    station_key: Ed25519PublicKey | None,
    sealing_keys: Mapping[str, pkt.SealingPrivateKey],
) -> Verdict:
    """Verify, open and check one packet. Never raises for a bad packet; raises
    ``WrongSealingKey`` when this processor cannot judge it at all. ``sealing_keys``: the
    server's keys by key id (the current one and those `keys rotate` retired)."""
    sealing_key = sealing_keys.get(header.server_key_id)
    if sealing_key is None:
        raise WrongSealingKey(
            f"packet {header.uuid} is sealed to key {header.server_key_id}; this processor "
            f"holds {', '.join(sealing_keys)}: run it with the server's home (its "
            "sealing_key.pem and sealing_key.retired-*.pem, or --sealing-key)"
        )
    if station_key is None:
        return rejected(UNKNOWN_STATION_KEY, f"station_key_id:{header.station_key_id[:32]}")
    try:
        pkt.verify(data, station_key)
    except pkt.PacketError:
        return rejected(BAD_SIGNATURE)
    try:
        opened = pkt.open_packet(data, sealing_key)
    except pkt.PacketError as exc:
        hashes = "does not match its hash" in str(exc)
        return rejected(MALFORMED if hashes else CANNOT_DECRYPT, "attachments" if hashes else None)
    except Exception:  # a manifest the station signed but that is not one (bad JSON, sizes)
        return rejected(MALFORMED, "manifest")
    manifest = opened.manifest
    if not isinstance(manifest, dict) or manifest.get("station_id") != header.station_id:
        return rejected(MANIFEST_MISMATCH, "station_id")
    return _check_contents(manifest, opened.attachments, header)


def _check_contents(
    manifest: dict[str, Any], attachments: dict[str, pkt.Attachment], header: pkt.PacketHeader
) -> Verdict:
    from app.capture.photo import PhotoUnreadable, decode_image
    from app.capture.quality import QualityConfig
    from app.domain.biodata import validate_biodata
    from app.enrollment import InvalidInput, check_signature_png

    reasons: list[str] = []
    details: list[str] = []
    raw = manifest.get("biodata")
    raw_map = raw if isinstance(raw, dict) else {}
    validation = validate_biodata(raw_map, today=sealed_day(header.sealed_at) or date.today())
    nik = raw_map.get("nik") if isinstance(raw_map.get("nik"), str) else None
    desa = _desa(raw_map.get("kode_wilayah"))
    if validation.biodata is None:
        reasons.append(BIODATA_INVALID)
        details += [f"{e.field[:40]}:{e.code}" for e in validation.errors]
    else:
        nik = validation.biodata.nik
        desa = _desa(validation.biodata.kode_wilayah)

    config = QualityConfig()
    photo = attachments.get(PHOTO_NAME)
    if photo is None:
        reasons.append(PHOTO_MISSING)
    else:
        try:
            image = decode_image(photo.data, config)
        except PhotoUnreadable:
            reasons.append(PHOTO_UNREADABLE)
        else:
            h, w = image.shape[:2]
            # The station's portrait is 3:4, at least output_min_width wide.
            if w < config.output_min_width or h < w:
                reasons.append(PHOTO_TOO_SMALL)
                details.append(f"photo:{w}x{h}")

    signature = attachments.get(SIGNATURE_NAME)
    if signature is None:
        reasons.append(SIGNATURE_MISSING)
    else:
        try:
            check_signature_png(signature.data)
        except InvalidInput:
            reasons.append(SIGNATURE_INVALID)

    rerecord_of = manifest.get("rerecord_of")
    common: dict[str, Any] = {
        "card_uid": card_uid(attachments.get(CARD_NAME)),
        "nik": nik if isinstance(nik, str) and _NIK.match(nik) else None,
        "desa": desa,
        "operator": _text(manifest.get("operator"), 64),
        "rerecord_of": rerecord_of.lower()
        if isinstance(rerecord_of, str) and _UUID.match(rerecord_of.lower())
        else None,
    }
    if reasons:
        return Verdict(False, RERECORD, reasons, details, **common)
    return Verdict(True, None, [], [], **common)
