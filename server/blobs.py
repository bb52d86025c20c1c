"""Where packet bytes live: in the database (the default) or in S3-compatible object storage.

The metadata row (``packets``) is always in the database. With ``--blobs s3://BUCKET[/PREFIX]``
the bytes go to one object per packet and the row's ``data`` column is left empty (a packet is
never empty, so an empty ``data`` means "in the bucket"):

- the object is written (S3 answers a PUT only once it is durable) **before** the row is
  committed; the receipt (201) follows the commit. A crash between the two leaves an object
  without a row, an orphan that ``blobs sweep`` removes; never a row without its object.
- the object key names the packet and its bytes: ``PREFIX/<station>/<uuid>.<sha256>``
  (station id percent-encoded). The same uuid with the same bytes writes the same object
  again (200); other bytes write another object, the row keeps the first (409), and the
  second object is an orphan for the sweep.
- every reader (``open-packet``, the back office's processor, ``import``'s duplicates)
  goes through ``BlobStore.read``, which checks the bytes against the row's SHA-256.

Endpoint and credentials come from the environment, as for any boto3 program:
``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``), ``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``. The bucket must exist.

Which store a database uses is recorded in it (``server_meta.blobs_url``): a host started
without ``--blobs`` uses the recorded one, a host given another refuses to start.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, unquote

from sqlalchemy import Engine, and_, func, or_, select, tuple_

from server import db

ENV = "EKTP_BLOBS"
META_KEY = "blobs_url"
SWEEP_GRACE_S = 3600.0
RETRY_AFTER_S = 5


class BlobStoreError(RuntimeError):
    """The object store failed (unreachable, refused, missing object): 503 to a station."""


class BlobConfigError(ValueError):
    """A bad ``--blobs`` value or one that contradicts the database's record (exit 2)."""


@dataclass(frozen=True)
class Ref:
    """A packet's bytes by what names them."""

    station_id: str
    uuid: str
    sha256: str


class BlobStore:
    """Packets in the database: the row's ``data`` column holds the bytes."""

    url: str | None = None
    external = False

    def check(self) -> None:
        """The store answers (``serve`` asks at start)."""

    def stored(self, ref: Ref, data: bytes) -> bytes:
        """Make ``data`` durable where this store keeps it; returns what the row's ``data``
        column gets (the bytes here, empty when they are in the bucket)."""
        return data

    def read(self, ref: Ref, row_data: bytes | memoryview | None) -> bytes:
        """A packet's bytes from its row's ``data`` (or, when that is empty, the bucket)."""
        data = bytes(row_data or b"")
        if data:
            return data
        raise BlobStoreError(
            f"packet {ref.uuid} of station {ref.station_id} is in object storage, and this "
            "server was given none (--blobs s3://BUCKET)"
        )


class S3Store(BlobStore):
    """Packets in an S3-compatible bucket (boto3)."""

    external = True

    def __init__(self, url: str, client: Any = None) -> None:
        self.url = url
        self.bucket, self.prefix = parse_url(url)
        self._client = client

    @property
    def client(self) -> Any:
        """Made on first use: a command that reads or writes no packet bytes (``station
        add``) needs no credentials. One per process (``serve --workers`` forks first)."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            self._client = boto3.client(
                "s3",
                config=Config(
                    max_pool_connections=64,
                    retries={"max_attempts": 3, "mode": "standard"},
                    connect_timeout=5,
                    read_timeout=30,
                ),
            )
        return self._client

    def key(self, ref: Ref) -> str:
        return f"{self.prefix}{quote(ref.station_id, safe='')}/{ref.uuid}.{ref.sha256}"

    def parse_key(self, key: str) -> Ref | None:
        rest = key[len(self.prefix) :] if key.startswith(self.prefix) else None
        if rest is None or rest.count("/") != 1:
            return None
        station, name = rest.split("/")
        uuid, _, sha = name.rpartition(".")
        if not uuid or len(sha) != 64:
            return None
        return Ref(unquote(station), uuid, sha)

    def check(self) -> None:
        """The bucket answers (at start, so a wrong name or endpoint is said at once)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except Exception as exc:
            raise BlobStoreError(f"--blobs: {self.url}: {_why(exc)}") from exc

    def stored(self, ref: Ref, data: bytes) -> bytes:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self.key(ref), Body=data)
        except Exception as exc:
            raise BlobStoreError(f"object store: {_why(exc)}") from exc
        return b""

    def read(self, ref: Ref, row_data: bytes | memoryview | None) -> bytes:
        data = bytes(row_data or b"")
        if data:
            return data  # not moved yet (migrate-blobs)
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key(ref))["Body"]
            data = body.read()
        except Exception as exc:
            raise BlobStoreError(f"object store: packet {ref.uuid}: {_why(exc)}") from exc
        if hashlib.sha256(data).hexdigest() != ref.sha256:
            raise BlobStoreError(
                f"object store: packet {ref.uuid}: the object's bytes do not match its SHA-256"
            )
        return bytes(data)

    def objects(self) -> Iterator[tuple[str, float]]:
        """Every object under the prefix: key and last-modified time."""
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        )
        for page in pages:
            for obj in page.get("Contents", []):
                yield obj["Key"], obj["LastModified"].timestamp()

    def delete(self, keys: list[str]) -> None:
        for i in range(0, len(keys), 1000):
            chunk = [{"Key": k} for k in keys[i : i + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": chunk, "Quiet": True})


def _why(exc: BaseException) -> str:
    first = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {first[0] if first else ''}"


def parse_url(url: str) -> tuple[str, str]:
    """``s3://BUCKET[/PREFIX]`` -> (bucket, prefix ending in "/" or empty)."""
    if not url.startswith("s3://"):
        raise BlobConfigError(f"--blobs: expected s3://BUCKET[/PREFIX], got {url!r}")
    bucket, _, prefix = url[len("s3://") :].partition("/")
    if not bucket:
        raise BlobConfigError(f"--blobs: no bucket in {url!r}")
    prefix = prefix.strip("/")
    return bucket, f"{prefix}/" if prefix else ""


def open_store(engine: Engine, given: str | None = None) -> BlobStore:
    """The store this database's packets are in: ``given`` (``--blobs``, else ``EKTP_BLOBS``)
    is checked against (or recorded as) the database's record; no value -> the recorded one,
    else the database itself."""
    given = given or os.environ.get(ENV) or None
    with engine.begin() as conn:
        recorded = conn.execute(select(db.meta.c.value).where(db.meta.c.key == META_KEY)).scalar()
    if given is not None:
        parse_url(given)
        if recorded is not None and recorded != given:
            raise BlobConfigError(
                f"--blobs: this database's packets are in {recorded} (recorded in the "
                f"database), not {given}"
            )
    url = given or recorded
    if url is None:
        return BlobStore()
    store = S3Store(url)
    if recorded is None:
        store.check()  # record only a bucket that answers
        record(engine, url)
    return store


def record(engine: Engine, url: str) -> None:
    with engine.begin() as conn:
        db.insert_ignore(conn, db.meta, {"key": META_KEY, "value": url})


def migrate(engine: Engine, store: S3Store, batch: int = 100, limit: int | None = None) -> int:
    """Move packets whose bytes are still in the database into the bucket; returns how many
    moved. Each batch: objects written, then the rows emptied in one transaction (guarded by
    the SHA-256, so a row replaced meanwhile keeps its bytes). Stopped at any point, it goes
    on where it stopped when run again."""
    p = db.packets.c
    moved = 0
    after: tuple[str, str] | None = None
    while limit is None or moved < limit:
        take = batch if limit is None else min(batch, limit - moved)
        cond = [func.length(p.data) > 0]
        if after is not None:
            cond.append(tuple_(p.station_id, p.uuid) > tuple_(*after))
        with engine.connect() as conn:
            rows = conn.execute(
                select(p.station_id, p.uuid, p.sha256, p.data)
                .where(and_(*cond))
                .order_by(p.station_id, p.uuid)
                .limit(take)
            ).all()
            conn.rollback()
        if not rows:
            break
        for r in rows:
            store.stored(Ref(r.station_id, r.uuid, r.sha256), bytes(r.data))
        with engine.begin() as conn:
            for r in rows:
                conn.execute(
                    db.packets.update()
                    .where(p.station_id == r.station_id, p.uuid == r.uuid, p.sha256 == r.sha256)
                    .values(data=b"")
                )
        moved += len(rows)
        after = (rows[-1].station_id, rows[-1].uuid)
    return moved


def in_database(engine: Engine) -> int:
    """How many packets still have their bytes in the database."""
    p = db.packets.c
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).where(func.length(p.data) > 0)).scalar()
        conn.rollback()
    return int(n or 0)


def sweep(engine: Engine, store: S3Store, grace_s: float = SWEEP_GRACE_S) -> int:
    """Delete objects no row points at (a crash between the object and the row's commit, or
    other bytes for a uuid already held), once older than ``grace_s`` (an upload in flight
    writes its object before its row). Returns how many were deleted."""
    p = db.packets.c
    cutoff = time.time() - grace_s
    deleted = 0
    page: list[tuple[str, Ref]] = []

    def flush() -> int:
        if not page:
            return 0
        refs = {(r.station_id, r.uuid, r.sha256) for _, r in page}
        with engine.connect() as conn:
            held = {
                (row.station_id, row.uuid, row.sha256)
                for row in conn.execute(
                    select(p.station_id, p.uuid, p.sha256).where(
                        or_(
                            *(
                                and_(p.station_id == s, p.uuid == u)
                                for s, u in {(s, u) for s, u, _ in refs}
                            )
                        )
                    )
                )
            }
            conn.rollback()
        orphans = [key for key, r in page if (r.station_id, r.uuid, r.sha256) not in held]
        if orphans:
            store.delete(orphans)
        page.clear()
        return len(orphans)

    for key, modified in store.objects():
        ref = store.parse_key(key)
        if ref is None or modified > cutoff:
            continue
        page.append((key, ref))
        if len(page) >= 500:
            deleted += flush()
    deleted += flush()
    return deleted
