"""The PostgreSQL fast path of a station's ``PUT /packets/{uuid}``: one statement per packet.

``PacketIngest.put`` runs on the event loop with psycopg 3 (async, a ``psycopg_pool`` pool,
autocommit, server-side prepared statements). It takes only the path where everything checks
out; every refusal is left to ``ServerCore.receive_packet`` (the general path, SQLAlchemy), so
the answers to bad requests are the general path's:

1. Request signature and packet signature are checked with the station's public key from a
   per-process cache (station id -> key). The cache holds keys only, never the revocation or
   assignment state.
2. One statement (data-modifying CTEs) then does, atomically and with one commit:
   sender (and, for another station's packet, the packet's station) still has exactly that
   key and is not revoked (and only a relay may hand over another station's packet), and the
   packet's kecamatan is in that station's assignment history by its sealing time
   (server/labels.py; the checks that need no database are made before) -> the
   request nonce is recorded if new -> the packet is inserted if the nonce was new. A packet
   signed with a station's earlier key fails the check with the cached (current) key and is
   left to the general path, which knows the key history. So a revocation or a new
   key takes effect on the next request in every process, as with the general path.
3. The statement's three answers: station check failed -> forget the cached key, hand the
   request to the general path (nothing was written); nonce already used -> 401 replay;
   packet inserted -> 201 (the commit is done: autocommit, ``synchronous_commit`` as
   configured); (station, uuid) already held -> read it back -> 200 same bytes / 409 (its
   nonce is deleted again: a refusal keeps nothing of the request, as on the general path),
   or, when the held one is an unverified import, the general path replaces it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url
from starlette.concurrency import run_in_threadpool

from app import packet as pkt
from app import protocol
from app.protocol import Reason
from server import blobs as blob_store
from server import db, labels
from server.card_tables import card_verifiers
from server.core import ServerCore
from server.errors import ServiceError
from server.packets import (
    NEW_PACKET_COLUMNS,
    RECEIPT_COLUMNS,
    UUID_RE,
    PutResult,
    packet_row,
    unstorable_header_field,
)
from server.request_auth import nonce_cutoff

# Station keys held per process; a key is one small object, so a large national fleet fits.
_KEY_CACHE_MAX = 100_000


def _put_statement() -> str:
    """The one statement of a packet PUT, with the packets columns' types from ``server.db``.

    Casts: the parameters of ``INSERT ... SELECT`` are not typed by their column. ``data`` is
    sent in binary (``%b``: no hex text of 100 KB to build and parse).
    """
    pg = postgresql.dialect()
    cols = db.packets.c
    values = ", ".join(
        "%(data)b" if name == "data" else f"CAST(%({name})s AS {cols[name].type.compile(pg)})"
        for name in NEW_PACKET_COLUMNS
    )
    st, n, a = db.stations.name, db.nonces.name, db.station_assignments.name
    return f"""
WITH s AS (
    SELECT is_relay FROM {st}
    WHERE id = %(sender)s AND public_key = %(sender_key)s AND revoked_at IS NULL
), o AS (
    SELECT 1 FROM {st}
    WHERE id = %(station_id)s AND public_key = %(origin_key)s AND revoked_at IS NULL
      AND (id = %(sender)s OR (SELECT is_relay FROM s))
      AND EXISTS (SELECT 1 FROM {a} WHERE station_id = %(station_id)s
                  AND kecamatan = %(kecamatan)s AND since <= %(sealed_by)s)
), n AS (
    INSERT INTO {n} (station_id, nonce, seen_at)
    SELECT %(sender)s, %(nonce)s, %(received_at)s
    WHERE EXISTS (SELECT 1 FROM s) AND EXISTS (SELECT 1 FROM o)
    ON CONFLICT DO NOTHING
    RETURNING 1
), p AS (
    INSERT INTO {db.packets.name} ({", ".join(NEW_PACKET_COLUMNS)})
    SELECT {values}
    WHERE EXISTS (SELECT 1 FROM n)
    ON CONFLICT (station_id, uuid) DO NOTHING
    RETURNING 1
)
SELECT EXISTS (SELECT 1 FROM s) AND EXISTS (SELECT 1 FROM o),
       EXISTS (SELECT 1 FROM n), EXISTS (SELECT 1 FROM p)
"""


PUT_SQL = _put_statement()
# A card-check station's key is not taken here: the general path refuses its packets.
_KEY_SQL = (
    f"SELECT public_key FROM {db.stations.name} "
    "WHERE id = %s AND public_key IS NOT NULL AND revoked_at IS NULL "
    f"AND id NOT IN (SELECT station_id FROM {card_verifiers.name})"
)
_HELD_SQL = (
    f"SELECT {', '.join(RECEIPT_COLUMNS)}, verified FROM {db.packets.name} "
    "WHERE station_id = %s AND uuid = %s"
)
_NONCE_GC_SQL = f"DELETE FROM {db.nonces.name} WHERE seen_at < %s"
_NONCE_FORGET_SQL = f"DELETE FROM {db.nonces.name} WHERE station_id = %s AND nonce = %s"


def libpq_url(url: str) -> str:
    """``postgresql+psycopg://...`` (SQLAlchemy) -> a URI libpq takes."""
    return (
        make_url(db.normalize_url(url))
        .set(drivername="postgresql")
        .render_as_string(hide_password=False)
    )


class PacketIngest:
    """The fast path for one server process. Open it on the event loop that serves requests."""

    def __init__(
        self, core: ServerCore, *, relay_mode: bool = False, max_connections: int = 20
    ) -> None:
        self.core = core
        self.relay_mode = relay_mode
        self.max_connections = max_connections
        self._keys: dict[str, tuple[str, Ed25519PublicKey]] = {}
        self._pool: Any = None

    async def open(self) -> None:
        from psycopg_pool import AsyncConnectionPool

        pool = AsyncConnectionPool(
            libpq_url(self.core.db_url),
            min_size=4,
            max_size=self.max_connections,
            # prepare_threshold=0: a server-side prepared statement from the first execution
            kwargs={"autocommit": True, "prepare_threshold": 0},
            open=False,
        )
        await pool.open(wait=True)
        await run_in_threadpool(self.core.accepted_key_ids)  # read once, off the event loop
        self._pool = pool

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def _station_key(self, conn: Any, station_id: str) -> tuple[str, Ed25519PublicKey] | None:
        cached = self._keys.get(station_id)
        if cached is not None:
            return cached
        row = await (await conn.execute(_KEY_SQL, (station_id,))).fetchone()
        if row is None:
            return None
        try:
            entry = (row[0], pkt.load_signing_public_key_b64(row[0]))
        except pkt.PacketError:
            return None
        if len(self._keys) >= _KEY_CACHE_MAX:
            self._keys.clear()
        self._keys[station_id] = entry
        return entry

    def _forget(self, *station_ids: str | None) -> None:
        for sid in station_ids:
            if sid is not None:
                self._keys.pop(sid, None)

    async def put(
        self, method: str, path: str, headers: Mapping[str, str], uuid: str, body: bytes
    ) -> PutResult | None:
        """The stored packet's result, or None: the general path must answer this request."""
        if self._pool is None or len(body) > self.core.max_body or not UUID_RE.match(uuid):
            return None
        sender_id = headers.get(protocol.H_STATION.lower())
        if not sender_id:
            return None
        async with self._pool.connection() as conn:
            sender = await self._station_key(conn, sender_id)
            if sender is None:
                return None
            header: pkt.PacketHeader | None = None
            try:
                signed = protocol.verify_request(method, path, headers, body, sender[1])
                header = pkt.read_header(body)
                if (
                    header.uuid != uuid
                    or header.server_key_id not in self.core.accepted_key_ids()
                    or unstorable_header_field(header) is not None
                ):
                    return None
                origin = sender
                if header.station_id != sender_id:
                    origin_key = await self._station_key(conn, header.station_id)
                    if origin_key is None:
                        return None
                    origin = origin_key
                pkt.verify(body, origin[1])
                sealed = labels.check_plain(header, time.time())
            except labels.LabelError:
                return None  # the general path gives the reason
            except (protocol.AuthError, pkt.PacketError):
                # Maybe a key that changed since it was cached: the general path reads it.
                self._forget(sender_id, header.station_id if header else None)
                return None
            now = time.time()
            params: dict[str, Any] = {
                "sender": sender_id,
                "sender_key": sender[0],
                "origin_key": origin[0],
                "nonce": signed.nonce,
                # the kecamatan must have been assigned by then (server/labels.py)
                "sealed_by": sealed + labels.SKEW_S,
                # verify_request checked that the body hashes to this digest
                **packet_row(
                    uuid,
                    body,
                    signed.body_sha256,
                    header,
                    received_from=sender_id,
                    verified=True,
                    relay_mode=self.relay_mode,
                    now=now,
                ),
            }
            if self.core.blobs.external:
                # The object is durable before the row commits (server.blobs).
                ref = blob_store.Ref(header.station_id, uuid, signed.body_sha256)
                params["data"] = await run_in_threadpool(self.core.blobs.stored, ref, body)
            current, fresh, inserted = await (await conn.execute(PUT_SQL, params)).fetchone()
            if not current:
                # A new key, a revocation, a vouching change, or a kecamatan not in the
                # station's assignment history: the general path reads it all.
                self._forget(sender_id, header.station_id)
                return None
            if not fresh:
                raise ServiceError(401, "replayed request (nonce already used)", Reason.REPLAY)
            cutoff = nonce_cutoff(now)
            if cutoff is not None:
                await conn.execute(_NONCE_GC_SQL, (cutoff,))
            if inserted:
                row: dict[str, Any] | None = {k: params[k] for k in RECEIPT_COLUMNS}
            else:
                row = await self._held(conn, params, signed.nonce)
                if row is None:
                    return None
        return PutResult(201 if inserted else 200, self.core.receipt(row))

    @staticmethod
    async def _held(conn: Any, params: dict[str, Any], nonce: str) -> dict[str, Any] | None:
        """The receipt columns of the packet of this station and uuid held already (the same
        bytes: 200); None when the general path must answer (the held one an unverified
        import, which it replaces); 409 for other bytes."""
        uuid, sender_id = params["uuid"], params["sender"]
        held = await (await conn.execute(_HELD_SQL, (params["station_id"], uuid))).fetchone()
        if held is None:  # pragma: no cover - packets are never deleted
            raise ServiceError(409, f"packet {uuid} vanished while being stored")
        row = dict(zip((*RECEIPT_COLUMNS, "verified"), held, strict=True))
        if row["sha256"] != params["sha256"] and not row["verified"]:
            # An unverified import: the general path replaces it (ServerCore).
            await conn.execute(_NONCE_FORGET_SQL, (sender_id, nonce))
            return None
        if row["sha256"] != params["sha256"]:
            # A refusal keeps nothing of the request, as on the general path (whose
            # transaction rolls back): the nonce the statement recorded goes again.
            await conn.execute(_NONCE_FORGET_SQL, (sender_id, nonce))
            raise ServiceError(409, f"packet {uuid} already exists with different bytes")
        return row
