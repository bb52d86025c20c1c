"""The server's database: schema, engine set-up for SQLite and PostgreSQL, schema version.

SQLAlchemy Core tables (no ORM: every request is one short transaction of a few statements).
The tables below are the schema in force; it is created and upgraded by Alembic
(server/schema.py, server/migrations). ``schema_version`` and ``_MIGRATIONS`` are the
hand-kept steps from before Alembic: they bring an old database to schema 3, the baseline.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Engine,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError

# The last hand-kept step: Alembic's baseline revision 0003 (server.schema).
SCHEMA_VERSION = 3

metadata = MetaData()

schema_version = Table(
    "schema_version",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("version", Integer, nullable=False),
)

# Key/value facts shared by every server process: server_id, relay upstream identity.
meta = Table(
    "server_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

stations = Table(
    "stations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("kecamatan", String(32), nullable=False),
    # base64 raw Ed25519 public key; NULL while the station is added but not yet enrolled.
    Column("public_key", String(64), nullable=True),
    Column("key_id", String(32), nullable=True, index=True),
    Column("created_at", Float, nullable=False),
    Column("enrolled_at", Float, nullable=True),
    Column("assigned_at", Float, nullable=False),
    Column("revoked_at", Float, nullable=True),
    # Set when a relay registered this station here: the relay may upload its packets.
    Column("vouched_by", String(64), nullable=True),
    # Relay side: when the registration reached the upstream (NULL = still to forward).
    Column("upstream_registered_at", Float, nullable=True),
    # Schema 2. Set by the central admin (`station add --relay`): this station is a kecamatan
    # relay and may vouch for the stations enrolled at it.
    Column("is_relay", Boolean, nullable=False, default=False, server_default=text("false")),
    # Schema 2, relay side: why the upstream refused this station's registration (NULL = no
    # error); shown by `station list` and `relay status`.
    Column("upstream_error", Text, nullable=True),
)

# Schema 2: every public key a station has had, so packets sealed before a key change still
# verify (a kit re-registered with a fresh key after its PC died; its mirror stick is
# imported later). A packet names its key in the header (station_key_id).
station_keys = Table(
    "station_keys",
    metadata,
    Column("station_id", String(64), primary_key=True),
    Column("key_id", String(32), primary_key=True),
    Column("public_key", String(64), nullable=False),
    Column("added_at", Float, nullable=False),
    # When a newer key replaced this one: packets sealed after it are refused.
    Column("replaced_at", Float, nullable=True),
)

enrollment_codes = Table(
    "enrollment_codes",
    metadata,
    Column("code_sha256", String(64), primary_key=True),
    Column("station_id", String(64), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float, nullable=True),
    # Schema 3: the station and key the code was redeemed for, so a retry of that redemption
    # by the same key (its reply was lost) gets the same answer (ServerCore.enroll).
    Column("used_by", String(64), nullable=True),
    Column("used_key_id", String(32), nullable=True),
)

# Revision 0005: a packet is identified within its station ((station_id, uuid), the station the
# header names): no station, and no import of an unknown station's file, can occupy another
# station's record by taking its uuid first.
packets = Table(
    "packets",
    metadata,
    Column("station_id", String(64), primary_key=True),
    Column("uuid", String(64), primary_key=True),
    Column("sha256", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("kecamatan", String(32), nullable=False),
    Column("sealed_at", String(40), nullable=False),
    Column("received_at", Float, nullable=False, index=True),
    # Who handed it to us: the station itself, a relay's station id, or "import".
    Column("received_from", String(64), nullable=False),
    # False when imported from a station whose key this server does not (yet) know.
    Column("verified", Boolean, nullable=False, default=True),
    # Relay forwarding state (unused on a central server): pending / uploaded / rejected.
    Column("fwd_status", String(16), nullable=True, index=True),
    Column("fwd_attempts", Integer, nullable=False, default=0),
    Column("fwd_next_at", Float, nullable=True),
    Column("fwd_error", Text, nullable=True),
    Column("fwd_receipt", Text, nullable=True),
    # Revision 0005 (server/quarantine.py): NULL, or quarantined / released / rejected, why, and
    # who decided when.
    Column("review", String(16), nullable=True, index=True),
    Column("review_reason", Text, nullable=True),
    Column("reviewed_by", String(200), nullable=True),
    Column("reviewed_at", Float, nullable=True),
    # Revision 0007, relay side: when the payload was dropped (``data`` is then empty): the
    # centre's `received` for it had arrived and the retention had passed.
    Column("purged_at", Float, nullable=True),
    Index("ix_packets_uuid", "uuid"),
)

# Revision 0005: every kecamatan a station has been assigned, from when (server/labels.py): a
# packet's kecamatan must be one its station had been assigned when it was sealed.
station_assignments = Table(
    "station_assignments",
    metadata,
    Column("station_id", String(64), primary_key=True),
    Column("kecamatan", String(32), primary_key=True),
    Column("since", Float, primary_key=True),
)

# Seen request nonces (replay protection). Rows older than twice the clock window are useless:
# a request that old is refused by its timestamp already.
nonces = Table(
    "request_nonces",
    metadata,
    Column("station_id", String(64), primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("seen_at", Float, nullable=False, index=True),
)


def _migrate_2(conn: Connection) -> None:
    """Relay flag, relay-side registration errors, station key history."""
    false = "false" if conn.dialect.name == "postgresql" else "0"
    conn.exec_driver_sql(
        f"ALTER TABLE stations ADD COLUMN is_relay BOOLEAN NOT NULL DEFAULT {false}"
    )
    conn.exec_driver_sql("ALTER TABLE stations ADD COLUMN upstream_error TEXT")
    # A station that has already vouched for others is a relay in service: keep it working.
    conn.execute(
        stations.update()
        .where(
            stations.c.id.in_(
                select(stations.c.vouched_by)
                .where(stations.c.vouched_by.is_not(None))
                .scalar_subquery()
            )
        )
        .values(is_relay=True)
    )
    # station_keys was made by create_all; seed it with every enrolled station's current key.
    rows = conn.execute(
        select(
            stations.c.id, stations.c.key_id, stations.c.public_key, stations.c.enrolled_at
        ).where(stations.c.public_key.is_not(None))
    ).all()
    for sid, kid, pub, enrolled_at in rows:
        conn.execute(
            station_keys.insert().values(
                station_id=sid, key_id=kid, public_key=pub, added_at=enrolled_at or 0.0
            )
        )


def _migrate_3(conn: Connection) -> None:
    """Codes remember the station and key they were redeemed for (a retry is answered again).

    Codes used before keep NULL: a retry of one is matched against the station the code was
    made for (ServerCore.enroll)."""
    conn.exec_driver_sql("ALTER TABLE enrollment_codes ADD COLUMN used_by VARCHAR(64)")
    conn.exec_driver_sql("ALTER TABLE enrollment_codes ADD COLUMN used_key_id VARCHAR(32)")


_MIGRATIONS: dict[int, Callable[[Connection], None]] = {2: _migrate_2, 3: _migrate_3}


class DatabaseURLError(ValueError):
    """The --db value is not a database URL this server supports."""


def normalize_url(url: str) -> str:
    """Accept ``postgresql://`` and use psycopg 3 for it; SQLite and PostgreSQL only."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseURLError(f"--db: not a database URL: {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername in ("postgresql", "postgresql+psycopg2"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return parsed.render_as_string(hide_password=False)
    if backend == "sqlite":
        return url
    raise DatabaseURLError(f"--db: unsupported database {backend!r} (sqlite or postgresql)")


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" hook issue BEGIN IMMEDIATE: a write transaction that starts as a
    # reader can fail with SQLITE_BUSY_SNAPSHOT in WAL mode, which busy_timeout does not retry.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # No pre-ping (a round trip per checkout); recycle instead, and a dead connection
    # fails one request that the station retries.
    return create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800)


def insert_ignore(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """INSERT unless the primary key exists; True when a row was inserted."""
    # RETURNING, not rowcount: psycopg 3 reports rowcount -1 for ON CONFLICT DO NOTHING here.
    pk = list(table.primary_key.columns)[0]
    if conn.dialect.name == "postgresql":
        stmt: Any = postgresql.insert(table).values(**values).on_conflict_do_nothing()
    else:
        stmt = sqlite.insert(table).values(**values).on_conflict_do_nothing()
    return conn.execute(stmt.returning(pk)).first() is not None


def migrate(engine: Engine) -> str:
    """Create or upgrade the schema (Alembic, server.schema); returns the revision in force."""
    from server.schema import upgrade

    return upgrade(engine)
