"""The card check's tables (issue 19), created by revision 0019 (server/migrations/versions).

- ``card_links``: the card UID each processed record carries (the station reads it at
  recording time and seals it in ``card.json``); written by the processor in the fate's
  transaction. Only the UID and which record: the name and photo stay in the sealed packet.
- ``card_marks``: a card the office marked lost or replaced (``ektp-server card mark``).
- ``card_verifiers``: the stations set up for card checks (``station add --verifier``): they
  may check cards and may not record.

Every lookup is written to the office's audit (``office_audit``, action ``card_check``).
"""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, String, Table

from server.db import metadata

card_links = Table(
    "card_links",
    metadata,
    Column("uid", String(64), primary_key=True),
    Column("station_id", String(64), primary_key=True),
    Column("uuid", String(64), primary_key=True),
    Column("processed_at", Float, nullable=False),
    Index("ix_card_links_record", "station_id", "uuid"),
)

card_marks = Table(
    "card_marks",
    metadata,
    Column("uid", String(64), primary_key=True),
    Column("status", String(16), nullable=False),  # lost | replaced
    Column("marked_at", Float, nullable=False),
    Column("marked_by", String(100), nullable=False),
)

card_verifiers = Table(
    "card_verifiers",
    metadata,
    Column("station_id", String(64), primary_key=True),
    Column("since", Float, nullable=False),
)
