"""Card checks (issue 19): the wire format of ``POST /api/v1/card/check``, shared by the
server (server/cards.py, server/card_api.py) and the station (app/service/card_check.py).

The station sends ``{"uid": HEX, "operator": NAME}`` signed; the centre answers, signed,
``{"uid", "found", "card_status", "card_marked_at", "checked_at"}`` and, when a record is
linked to the card, ``fate``, ``reason``, ``record_number``, ``kecamatan``,
``kecamatan_nama``, ``recorded_at``, ``nama`` and ``photo_jpeg_b64``. Nothing else of the
resident (no NIK, no address) ever travels.
"""

from __future__ import annotations

from app import protocol

CARD_CHECK_PATH = protocol.API_PREFIX + "/card/check"
# How the office marks a card (``ektp-server card mark UID lost|replaced``).
LOST = "lost"
REPLACED = "replaced"
MARKS = (LOST, REPLACED)
CARD_STATES = ("active", *MARKS)
# A record the card is linked to whose re-recording has arrived but is not processed yet.
NOT_PROCESSED = "not_processed"
FATES = ("processed", "duplicate", "rerecord", "rejected", NOT_PROCESSED)
