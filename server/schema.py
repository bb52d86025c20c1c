"""The server's schema under Alembic: create, upgrade, refuse a newer database.

Revisions live in server/migrations/versions. ``0003`` is the baseline: exactly the schema
the hand-versioned server called 3. A database made before Alembic holds ``schema_version``
(1, 2 or 3) and no ``alembic_version``: the old numbered steps in server.db bring it to 3, it
is stamped ``0003``, and the Alembic revisions after the baseline run. A database whose
revision this server does not know was made by a newer release: refused, nothing touched.

Every server process runs this at start. On PostgreSQL an advisory lock held for the
transaction makes processes that start together take turns; on SQLite the IMMEDIATE
transaction does the same.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, select, text
from sqlalchemy.engine import Connection

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BASELINE = "0003"  # == the hand-kept schema_version 3
_PG_LOCK = 4242001  # the lock the hand-versioned migrate() took: old and new servers exclude


class NewerSchemaError(RuntimeError):
    """The database was made or upgraded by a newer release of the server."""


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None
    return head


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _refuse(found: str, head: str) -> NewerSchemaError:
    return NewerSchemaError(
        f"database schema {found} is newer than this server (it knows up to {head}): run the "
        "newer ektp-server that made it; nothing was changed"
    )


def _legacy_to_baseline(conn: Connection, cfg: Config) -> None:
    """A hand-versioned database: the old steps up to schema 3, then stamp the baseline."""
    from server import db

    version = int(conn.execute(select(db.schema_version.c.version)).scalar() or 0)
    if version > db.SCHEMA_VERSION:
        raise _refuse(str(version), head_revision())
    if version < 2:
        # Schema 1 had no key history: the old create_all made the table before step 2.
        db.station_keys.create(conn, checkfirst=True)
    while version < db.SCHEMA_VERSION:
        version += 1
        db._MIGRATIONS[version](conn)
        conn.execute(db.schema_version.update().values(version=version))
    command.stamp(cfg, BASELINE)


def upgrade(engine: Engine) -> str:
    """Create or upgrade the schema to head; returns the revision now in force."""
    cfg = alembic_config()
    head = head_revision()
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        cfg.attributes["connection"] = conn
        found = current_revision(conn)
        if found is None:
            if inspect(conn).has_table("schema_version"):
                _legacy_to_baseline(conn, cfg)
        elif found != head:
            try:
                _scripts().get_revision(found)
            except Exception as exc:  # alembic: "Can't locate revision identified by ..."
                raise _refuse(found, head) from exc
        if found != head:
            command.upgrade(cfg, "head")
    return head
