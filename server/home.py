"""One server home + one database: the directory, the engine, the cluster's keys, the
signing key and the ``meta`` table. ``ServerCore`` (server/core.py) is built on it."""

from __future__ import annotations

import os
import sys
import uuid as uuidlib
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.engine import Connection

from app import packet as pkt
from server import blobs as blob_store
from server import cluster_key, db
from server.keys import load_or_create_signing_key


def private_home(home: Path) -> None:
    """The server home, mode 0700: it holds the sealing key and, on SQLite, every packet."""
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    if home.stat().st_mode & 0o077:
        os.chmod(home, 0o700)


def private_file(path: Path) -> None:
    """Create ``path`` (if absent) mode 0600, or tighten it: SQLite gives its -wal and -shm
    files the database file's mode."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        loose = os.fstat(fd).st_mode & 0o077
    finally:
        os.close(fd)
    # Windows (the demo's server) has no fchmod, and its modes are not what guards the
    # folder: the installer's ACL is (docs/security.md).
    if loose and sys.platform != "win32":
        os.chmod(path, 0o600)


class ServerHome:
    """One server home + one database. Cheap to share between threads."""

    def __init__(
        self,
        home: Path,
        db_url: str | None = None,
        *,
        max_body: int | None = None,
        sealing_keys: Sequence[str | Path] | None = None,
        blobs: str | None = None,
    ):
        self.home = Path(home)
        private_home(self.home)
        if db_url is None:
            private_file(self.home / "server.db")
        self.db_url = db_url or f"sqlite:///{self.home / 'server.db'}"
        self.engine: Engine = db.make_engine(self.db_url)
        db.migrate(self.engine)
        # The cluster's key, checked against the one the database records (server.cluster_key).
        self.keyring = cluster_key.establish(self.engine, self.home, sealing_keys)
        self.sealing_key = self.keyring.current
        self.own_key_id = self.keyring.current_id
        # Where packet bytes live: this database, or an S3 bucket (server.blobs).
        self.blobs = blob_store.open_store(self.engine, blobs)
        # Every key this cluster opens with, the one in force first (server.cluster_key).
        self.sealing_keys: list[pkt.SealingPrivateKey] = self.keyring.keys
        # Signs every answer to a station (server.answer_signing) and the enrollment reply.
        self.signing_key = load_or_create_signing_key(self.home)
        self.signing_public_b64 = pkt.signing_public_key_b64(self.signing_key.public_key())
        self.signing_key_id = pkt.key_id(self.signing_key.public_key())
        self.max_body = max_body or pkt.MAX_PACKET_BYTES
        self._key_ids: set[str] | None = None
        self._stations_key_id = self.own_key_id
        self._stations_key_pem = ""
        self.server_id = self._meta_get_or_set("server_id", lambda: str(uuidlib.uuid4()))

    def close(self) -> None:
        self.engine.dispose()

    # --- meta -----------------------------------------------------------------------------

    def meta_get(self, key: str) -> str | None:
        with self.engine.begin() as conn:
            return conn.execute(select(db.meta.c.value).where(db.meta.c.key == key)).scalar()

    def meta_set(self, values: Mapping[str, str]) -> None:
        if "upstream_sealing_key" in values:
            # Only then: another thread may be reading the cache (a relay's pull records
            # its state here while packets arrive).
            self._key_ids = None
        with self.engine.begin() as conn:
            for k, v in values.items():
                conn.execute(delete(db.meta).where(db.meta.c.key == k))
                conn.execute(db.meta.insert().values(key=k, value=v))

    def _meta_get_or_set(self, key: str, make: Any) -> str:
        with self.engine.begin() as conn:
            db.insert_ignore(conn, db.meta, {"key": key, "value": make()})
            value = conn.execute(select(db.meta.c.value).where(db.meta.c.key == key)).scalar()
        assert value is not None
        return str(value)

    # --- the key stations seal to ---------------------------------------------------------

    def sealing_public_key(self) -> pkt.SealingPublicKey:
        """The key stations must seal to: ours, or in relay mode the upstream's."""
        upstream_pem = self.meta_get("upstream_sealing_key")
        if upstream_pem:
            return pkt.load_sealing_public_key(upstream_pem.encode())
        return self.sealing_key.public_key()

    def sealing_public_pem(self) -> bytes:
        return pkt.sealing_public_key_pem(self.sealing_public_key())

    def _tx(self, conn: Connection | None) -> Any:
        """The caller's transaction, or a new one."""
        return nullcontext(conn) if conn is not None else self.engine.begin()
