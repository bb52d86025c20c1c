"""Opening the station's SQLite store: pragmas on every connection, migrations on open.

Every connection gets WAL, ``synchronous=FULL`` (a commit is on disk when it returns),
foreign keys, a busy timeout, in-memory temp tables (no temp files that could hold anything)
and ``secure_delete`` (freed pages are zeroed, so a purged packet's bytes do not linger).

pysqlite's own transaction handling is switched off (``isolation_level=None``) and SQLAlchemy
emits BEGIN itself: reads use a deferred BEGIN, writes ``BEGIN IMMEDIATE`` so a writer takes
the lock up front and waits on ``busy_timeout`` instead of failing half-way through.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import PoolProxiedConnection, QueuePool

from app.store.errors import StorageError, known_errors

DB_NAME = "station.db"
BUSY_TIMEOUT_MS = 5000
# The newest migration; tests check it equals the Alembic head. Comparing against this
# constant lets a normal open skip loading Alembic (~100 ms) when the schema is current.
SCHEMA_HEAD = "0011"

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA secure_delete=ON",
)


def apply_pragmas(dbapi_connection: sqlite3.Connection, busy_timeout_ms: int) -> None:
    """The store's pragmas, for SQLAlchemy's connections and the raw baseline in bench/."""
    cur = dbapi_connection.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        for pragma in PRAGMAS:
            cur.execute(pragma)
    finally:
        cur.close()


def make_engine(db_path: Path, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> Engine:
    # A small pool keeps connections (and the WAL) open between transactions: reopening per
    # transaction would checkpoint and delete the WAL every time. The pool hands a connection
    # to one thread at a time, so pysqlite's same-thread check can be off (the sync worker
    # runs on its own thread).
    engine = create_engine(
        f"sqlite:///{db_path}",
        poolclass=QueuePool,
        pool_size=2,
        max_overflow=4,
        connect_args={"check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN (see "begin")
        apply_pragmas(dbapi_connection, busy_timeout_ms)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


class Store:
    """An open station store: the home directory and its database."""

    def __init__(self, home: Path, engine: Engine) -> None:
        self.home = home
        self.db_path = home / DB_NAME
        self.engine = engine
        self._write_engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        self._raw: PoolProxiedConnection | None = None  # write_raw()'s connection
        self._raw_lock = threading.Lock()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session (deferred transaction, rolled back at the end)."""
        with known_errors(self.home), Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction (BEGIN IMMEDIATE): committed on success, rolled back on error.

        Known SQLite/OS failures surface as StorageError, including on COMMIT.
        """
        with (
            known_errors(self.home),
            Session(self._write_engine, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """Like ``write()`` but a Core connection: no ORM session, for the hot seal path."""
        with known_errors(self.home), self._write_engine.begin() as conn:
            yield conn

    @contextmanager
    def write_raw(self) -> Iterator[sqlite3.Cursor]:
        """One write transaction on a DB-API connection (BEGIN IMMEDIATE ... COMMIT), for
        the seal path: the same pragmas and durability as ``write()``, without SQLAlchemy's
        per-statement overhead (about 1 ms per seal, bench_store).

        The connection is checked out of the pool once and kept for the store's life (a
        pool check-out and reset cost ~0.1 ms per seal); a lock hands it to one thread at a
        time. Committed on success, rolled back on error; known failures surface as
        StorageError.
        """
        with known_errors(self.home), self._raw_lock:
            if self._raw is None:
                self._raw = self.engine.raw_connection()
            dbapi = self._raw.driver_connection
            assert isinstance(dbapi, sqlite3.Connection)
            cur = dbapi.cursor()
            try:
                cur.execute("BEGIN IMMEDIATE")
                yield cur
                cur.execute("COMMIT")
            except BaseException:
                try:
                    if dbapi.in_transaction:
                        dbapi.execute("ROLLBACK")
                except sqlite3.Error:
                    # A connection that cannot roll back is dropped, never reused.
                    self._raw.invalidate()
                    self._raw = None
                raise
            finally:
                cur.close()

    def close(self) -> None:
        with self._raw_lock:
            if self._raw is not None:
                self._raw.close()
                self._raw = None
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'")
        ).first()
        if exists is None:
            return None
        row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        return None if row is None else str(row[0])


def _newer(revision: str | None) -> bool:
    """A revision past this program's head (the revisions are numbered 0001, 0002, ...)."""
    return (
        revision is not None
        and revision.isdigit()
        and len(revision) == len(SCHEMA_HEAD)
        and revision > SCHEMA_HEAD
    )


def _owner_only(db_path: Path) -> None:
    """Create the database file with mode 0600 (SQLite gives -wal/-shm the same mode)."""
    if os.name == "posix" and not db_path.exists():
        os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT, 0o600))


def open_store(
    home: Path,
    *,
    create: bool = True,
    upgrade: bool = True,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
) -> Store:
    """Open (and create, and migrate to head) the store under ``home``.

    Opening a current store is cheap and changes nothing. Raises StorageError for known
    machine failures (disk full, locked, I/O).
    """
    home = Path(home)
    with known_errors(home if home.exists() else None):
        if create:
            # Owner-only: the database holds the station's signing key (ciphertext otherwise).
            home.mkdir(parents=True, exist_ok=True, mode=0o700)
            _owner_only(home / DB_NAME)
        elif not (home / DB_NAME).exists():
            raise StorageError("io", f"no station database under {home}")
        engine = make_engine(home / DB_NAME, busy_timeout_ms)
        try:
            revision = current_revision(engine) if upgrade else SCHEMA_HEAD
            if _newer(revision):
                # A program older than the data (an older installer over a newer station):
                # nothing is touched, and the technician is told what to install.
                raise StorageError(
                    "newer_schema",
                    f"the station database under {home} is from a newer version of the program "
                    f"(schema {revision}; this version knows up to {SCHEMA_HEAD}): install "
                    "that version or a later one; nothing was changed",
                )
            if revision != SCHEMA_HEAD:
                from app.store.migrate import upgrade_to

                upgrade_to(engine, "head")
        except BaseException:
            engine.dispose()
            raise
    return Store(home, engine)
