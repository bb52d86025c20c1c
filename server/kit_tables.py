"""What the centre keeps of its kits (issue 12): the policy it sets, the health they report,
their audit events and the moves they made offline. Created by revision 0008
(server/migrations/versions); none of these tables holds personal data."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, String, Table, Text

from server.db import metadata

# A policy value set by the office: for every kit (scope ``all``, target ""), the kits of a
# kecamatan (scope ``kecamatan``, target its code) or one kit (scope ``station``, target its
# id). The narrowest scope that sets a key wins (server/policy.py).
kit_policy = Table(
    "kit_policy",
    metadata,
    Column("scope", String(16), primary_key=True),
    Column("target", String(64), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
    Column("set_at", Float, nullable=False),
    Column("set_by", String(100), nullable=False),
)

# The latest health report of each kit (server/health.py); ``reported_at`` is its last seen.
kit_health = Table(
    "kit_health",
    metadata,
    Column("station_id", String(64), primary_key=True),
    Column("reported_at", Float, nullable=False),
    Column("version", String(64), nullable=True),
    Column("pending", Integer, nullable=True),
    Column("oldest_unsent_s", Float, nullable=True),
    Column("disk_free_bytes", BigInteger, nullable=True),
    Column("camera", String(32), nullable=True),
    Column("reader", String(32), nullable=True),
    Column("mirror", String(32), nullable=True),
    # The kit's clock minus the server's, from the signed request's timestamp.
    Column("clock_offset_s", Float, nullable=True),
    Column("last_seal_at", String(40), nullable=True),
    Column("report", Text, nullable=False),  # the whole report as sent (JSON)
)

# Each kit's audit chain as it uploaded it (server/audit_log.py): ``seq`` is the event id on
# the kit, ``hash`` = SHA-256(prev_hash + canonical event), as app/store/audit.py makes it.
kit_audit = Table(
    "kit_audit",
    metadata,
    Column("station_id", String(64), primary_key=True),
    # The station key that uploaded the chain: a kit set up again (a new home, a new key,
    # the same station id) starts a chain of its own; the earlier one is kept.
    Column("key_id", String(32), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("at", String(40), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("detail", Text, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("received_at", Float, nullable=False),
)

# A move of a kit made offline with a supervisor's approval, as the kit reported it
# (server/moves.py). ``outcome``: ``applied`` (the kit's kecamatan from then on) or
# ``superseded`` (a central assignment made after the move wins).
kit_moves = Table(
    "kit_moves",
    metadata,
    Column("station_id", String(64), primary_key=True),
    Column("moved_at", Float, primary_key=True),
    Column("to_kecamatan", String(32), primary_key=True),
    Column("from_kecamatan", String(32), nullable=True),
    Column("moved_by", String(100), nullable=False),
    Column("approved_by", String(100), nullable=False),
    Column("reason", Text, nullable=True),
    Column("reported_at", Float, nullable=False),
    Column("outcome", String(16), nullable=False),
    Index("ix_kit_moves_reported_at", "reported_at"),
)
