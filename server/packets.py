"""Packets: a station's upload (the general path), checks and the durable insert, import,
receipts, listing and reading back."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from app import packet as pkt
from app.protocol import Reason
from server import blobs as blob_store
from server import db, labels, quarantine
from server.errors import InputError, ServiceError
from server.request_auth import RequestAuth
from server.stations import Station
from server.timeutil import iso

# Canonical form only (lower case): an upper-cased uuid was stored as a second packet.
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# What a receipt is made of, and the columns a new packet's row sets (the rest stay NULL).
RECEIPT_COLUMNS = ("uuid", "sha256", "size", "station_id", "kecamatan", "sealed_at", "received_at")
NEW_PACKET_COLUMNS = (
    *RECEIPT_COLUMNS,
    "data",
    "received_from",
    "verified",
    "fwd_status",
    "fwd_attempts",
    "fwd_next_at",
)


def unstorable_header_field(header: pkt.PacketHeader) -> str | None:
    """Why a header field cannot be stored as it is (too long for its ``packets`` column, or
    holding a NUL character), else None.

    Refused before any write: PostgreSQL would refuse the INSERT (a 500, an import stopped
    halfway) or, through the fast path's casts, cut a long value short; SQLite would store
    it."""
    for name in ("uuid", "station_id", "kecamatan", "sealed_at"):
        value = getattr(header, name)
        limit = db.packets.c[name].type.length  # type: ignore[attr-defined]
        if len(value) > limit:
            return f"packet header {name} is longer than {limit} characters"
        if "\x00" in value:
            return f"packet header {name} holds a NUL character"
    return None


def packet_row(
    uuid: str,
    data: bytes,
    sha256: str,
    header: pkt.PacketHeader,
    *,
    received_from: str,
    verified: bool,
    relay_mode: bool,
    now: float,
) -> dict[str, Any]:
    """The ``packets`` row of a newly received packet (``NEW_PACKET_COLUMNS``)."""
    return {
        "uuid": uuid,
        "sha256": sha256,
        "size": len(data),
        "station_id": header.station_id,
        "kecamatan": header.kecamatan,
        "sealed_at": header.sealed_at,
        "received_at": now,
        "data": data,
        "received_from": received_from,
        "verified": verified,
        "fwd_status": "pending" if relay_mode else None,
        "fwd_attempts": 0,
        "fwd_next_at": now if relay_mode else None,
    }


@dataclass(frozen=True)
class PutResult:
    status: int  # 201 stored now, 200 already held these bytes
    receipt: dict[str, Any]


class Packets(RequestAuth):
    """Receiving, storing and reading packets."""

    def receive_packet(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        uuid: str,
        body: bytes,
        relay_mode: bool = False,
    ) -> PutResult:
        """A station's signed PUT: authentication, checks and the insert in ONE transaction
        (one commit per packet). On PostgreSQL, ``server.ingest`` answers the requests that
        pass every check with one statement and hands the rest to this function."""
        if len(body) > self.max_body:
            raise ServiceError(413, f"packet is larger than {self.max_body} bytes")
        # Outside the transaction: on SQLite a second connection would wait on our own lock.
        self.accepted_key_ids()
        with self.engine.begin() as conn:
            sender, nonce = self._check_signed(method, path, headers, body, False, conn)
            self._record_nonce(conn, sender.id, nonce)
            return self.store_packet(
                uuid, body, sender=sender, received_from=sender.id, relay_mode=relay_mode, conn=conn
            )

    # --- packets --------------------------------------------------------------------------

    def receipt(self, row: Any) -> dict[str, Any]:
        return {
            "uuid": row["uuid"],
            "sha256": row["sha256"],
            "size": row["size"],
            "station": row["station_id"],
            "kecamatan": row["kecamatan"],
            "sealed_at": row["sealed_at"],
            "received_at": iso(row["received_at"]),
            "server_id": self.server_id,
        }

    def accepted_key_ids(self) -> set[str]:
        # Read once per process: the upstream key changes only with `relay provision`,
        # after which the relay's server processes are restarted (docs/server.md).
        # A relay accepts only the upstream's key, the one it hands its stations: a packet
        # sealed to the relay's own key could never be opened by the central server.
        if self._key_ids is None:
            upstream = self.meta_get("upstream_sealing_key")
            given = (
                pkt.load_sealing_public_key(upstream.encode())
                if upstream
                else self.sealing_key.public_key()
            )
            self._stations_key_id = pkt.key_id(given)
            self._stations_key_pem = pkt.sealing_public_key_pem(given).decode()
            if upstream:
                self._key_ids = {self._stations_key_id}
            else:
                # Earlier cluster keys kept after a rotation: stations provisioned before it
                # still seal to them (server.cluster_key).
                self._key_ids = set(self.keyring.by_id)
        return self._key_ids

    def stations_key_pem(self) -> str:
        """The key (PEM) stations seal to, read once with ``accepted_key_ids``."""
        self.accepted_key_ids()
        return self._stations_key_pem

    def stations_key_id(self) -> str:
        """The key id this server's stations seal to: the upstream's on a relay, else its own."""
        self.accepted_key_ids()  # read once, with it
        return self._stations_key_id

    def store_packet(
        self,
        uuid: str,
        data: bytes,
        *,
        sender: Station | None,
        received_from: str,
        relay_mode: bool = False,
        conn: Connection | None = None,
    ) -> PutResult:
        """Check and durably store one packet (idempotent on uuid + bytes).

        ``sender`` is the authenticated uploader (None for a file import, where the packet's
        own signature is checked when its station is known).
        """
        header = self._checked_header(uuid, data)
        sha = hashlib.sha256(data).hexdigest()
        with self._tx(conn) as conn:
            origin, verified = self._verified_origin(conn, header, data, sender)
            # The labels of a packet whose signature checked out (or of an unknown station's
            # import): a forgery gets its signature's reason first (server/labels.py).
            held_for_review = None
            try:
                sealed = labels.check_plain(header, time.time())
                if origin is not None and origin.public_key:
                    held_for_review = labels.check_station(conn, header, origin.id, sealed)
            except labels.LabelError as exc:
                raise ServiceError(400, exc.message, exc.reason) from exc
            now = time.time()
            values = packet_row(
                uuid,
                data,
                sha,
                header,
                received_from=received_from,
                verified=verified,
                relay_mode=relay_mode,
                now=now,
            )
            # In the bucket before the row commits (server.blobs): never a row without bytes.
            values["data"] = self.blobs.stored(blob_store.Ref(header.station_id, uuid, sha), data)
            if held_for_review is not None:
                values["review"] = quarantine.QUARANTINED
                values["review_reason"] = held_for_review
            inserted = db.insert_ignore(conn, db.packets, values)
            row: Mapping[str, Any] = {k: values[k] for k in RECEIPT_COLUMNS}
            if not inserted:
                row, inserted = self._held_or_replaced(conn, header, values, verified)
        if row["sha256"] != sha:
            raise ServiceError(409, f"packet {uuid} already exists with different bytes")
        return PutResult(201 if inserted else 200, self.receipt(row))

    def _checked_header(self, uuid: str, data: bytes) -> pkt.PacketHeader:
        """The packet's header, when the packet may be stored here at all (size, uuid, the
        header's fields, the key it is sealed to); else ServiceError."""
        if len(data) > self.max_body:
            raise ServiceError(413, f"packet is larger than {self.max_body} bytes")
        if not UUID_RE.match(uuid):
            raise ServiceError(400, "uuid: not a UUID")
        try:
            header = pkt.read_header(data)
        except pkt.PacketError as exc:
            raise ServiceError(400, f"not a valid packet: {exc}") from exc
        if header.uuid != uuid:
            raise ServiceError(400, "packet uuid does not match the URL")
        unstorable = unstorable_header_field(header)
        if unstorable is not None:
            raise ServiceError(400, unstorable)
        if header.server_key_id not in self.accepted_key_ids():
            raise ServiceError(
                400,
                f"packet is sealed to key {header.server_key_id}, not to the key this server "
                f"hands its stations ({', '.join(sorted(self.accepted_key_ids()))})",
                Reason.WRONG_SERVER_KEY,
            )
        return header

    def _verified_origin(
        self, conn: Connection, header: pkt.PacketHeader, data: bytes, sender: Station | None
    ) -> tuple[Station | None, bool]:
        """The packet's station and whether its signature was checked (it is whenever the
        station is known here); ServiceError when ``sender`` may not hand it over, the station
        is revoked or the signature is not its."""
        # The usual case (a station uploads its own packet) needs no second lookup.
        if sender is not None and header.station_id == sender.id:
            origin: Station | None = sender
        else:
            origin = self.find_station(header.station_id, conn)
        if sender is not None:
            # Only a relay may hand over another station's packets (the packet's own
            # signature, checked below, proves where it was made).
            if header.station_id != sender.id and not sender.is_relay:
                raise ServiceError(403, "packet belongs to another station", Reason.FOREIGN_STATION)
            if origin is None or not origin.public_key:
                raise ServiceError(403, "packet's station is not enrolled", Reason.UNKNOWN_STATION)
            if origin.revoked:
                raise ServiceError(
                    403, "the packet's station has been revoked", Reason.STATION_REVOKED
                )
            from server.cards import refuse_verifier

            refuse_verifier(conn, origin)  # a card-check station records nothing
        elif origin is not None and origin.revoked:
            # An import: a revoked station's key may be in other hands, so nothing signed
            # with it is trusted (docs/server.md).
            raise ServiceError(
                403,
                f"station {origin.id} has been revoked: its packets are refused",
                Reason.STATION_REVOKED,
            )
        if origin is None or not origin.public_key:
            return origin, False
        public_b64 = origin.public_key
        if header.station_key_id != origin.key_id:
            public_b64 = self._older_key(conn, origin, header)
        try:
            pkt.verify(data, pkt.load_signing_public_key_b64(public_b64))
        except pkt.PacketError as exc:
            raise ServiceError(400, f"packet signature: {exc}", Reason.BAD_SIGNATURE) from exc
        return origin, True

    @staticmethod
    def _held_or_replaced(
        conn: Connection, header: pkt.PacketHeader, values: dict[str, Any], verified: bool
    ) -> tuple[Mapping[str, Any], bool]:
        """A packet of this station and uuid is held already: its receipt columns, or (the
        held one an unverified import, this one verified) this one's after it replaced it;
        and whether it was replaced."""
        p = db.packets.c
        uuid = values["uuid"]
        held = dict(
            conn.execute(
                select(*(p[k] for k in RECEIPT_COLUMNS), p.verified).where(
                    p.station_id == header.station_id, p.uuid == uuid
                )
            )
            .mappings()
            .one()
        )
        if held["sha256"] != values["sha256"] and verified and not held["verified"]:
            # An unverified import (a file of a station unknown then: anyone can
            # make one) never blocks the record its station really signed.
            conn.execute(
                db.packets.update()
                .where(p.station_id == header.station_id, p.uuid == uuid)
                .values(**{k: v for k, v in values.items() if k not in ("uuid",)})
            )
            return {k: values[k] for k in RECEIPT_COLUMNS}, True
        return held, False

    @staticmethod
    def _older_key(conn: Connection, origin: Station, header: pkt.PacketHeader) -> str:
        """The replaced key a packet names, if it was sealed before the replacement."""
        k = db.station_keys.c
        row = conn.execute(
            select(k.public_key, k.replaced_at).where(
                k.station_id == origin.id, k.key_id == header.station_key_id
            )
        ).first()
        if row is None:
            raise ServiceError(
                400,
                f"packet is signed with key {header.station_key_id}, which station "
                f"{origin.id} never had here",
                Reason.BAD_SIGNATURE,
            )
        public_b64, replaced_at = row
        if replaced_at is not None:
            try:
                when = datetime.fromisoformat(header.sealed_at)
                sealed = (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()
            except ValueError as exc:
                raise ServiceError(400, "packet sealed_at is not a timestamp") from exc
            if sealed > replaced_at:
                raise ServiceError(
                    400,
                    f"packet was sealed at {header.sealed_at}, after key "
                    f"{header.station_key_id} of station {origin.id} was replaced",
                    Reason.KEY_REPLACED,
                )
        return str(public_b64)

    def packet_status(self, uuid: str, asker: Station | None = None) -> dict[str, Any]:
        """A packet's receipt for ``asker``: its own packet of that uuid, else one it handed
        over or whose station it vouched for (a uuid is unique per station only)."""
        with self.engine.begin() as conn:
            rows = (
                conn.execute(
                    select(db.packets.c.uuid, *self._list_columns())
                    .where(db.packets.c.uuid == uuid)
                    .order_by(db.packets.c.received_at)
                )
                .mappings()
                .all()
            )
            found = None
            for candidate in sorted(
                rows, key=lambda r: asker is None or r["station_id"] != asker.id
            ):
                if asker is None or candidate["station_id"] == asker.id:
                    found = candidate
                    break
                origin = self.find_station(candidate["station_id"], conn)
                forwarded = candidate["received_from"] == asker.id and asker.is_relay
                if forwarded or (origin is not None and origin.vouched_by == asker.id):
                    found = candidate
                    break
            if found is None:
                raise ServiceError(404, f"no packet {uuid}")
            row = found
        out = self.receipt(row)
        out["forward"] = row["fwd_status"]
        return out

    @staticmethod
    def _list_columns() -> list[Any]:
        c = db.packets.c
        return [
            c.sha256,
            c.size,
            c.station_id,
            c.kecamatan,
            c.sealed_at,
            c.received_at,
            c.received_from,
            c.verified,
            c.fwd_status,
            c.fwd_error,
            c.review,
            c.review_reason,
            c.reviewed_by,
            c.reviewed_at,
        ]

    def list_packets(self) -> list[dict[str, Any]]:
        with self.engine.begin() as conn:
            head = func.substr(db.packets.c.data, 1, pkt.HEADER_PREFIX_BYTES).label("head")
            rows = conn.execute(
                select(db.packets.c.uuid, *self._list_columns(), head).order_by(
                    db.packets.c.received_at, db.packets.c.station_id, db.packets.c.uuid
                )
            ).mappings()
            out = []
            for r in rows:
                d = self.receipt(r)
                d["received_from"] = r["received_from"]
                d["verified"] = bool(r["verified"])
                # The HPKE suite the packet names (hybrid ML-KEM-768 + X25519, or X25519).
                header = pkt.header_from_prefix(bytes(r["head"] or b""))
                d["suite"] = header.suite if header is not None else None
                # quarantine state (server/quarantine.py); null when never quarantined
                d.update(quarantine.review_fields(r))
                if r["fwd_status"] is not None:
                    d["forward"] = r["fwd_status"]
                    if r["fwd_status"] in ("held", "rejected"):
                        d["forward_error"] = r["fwd_error"]
                out.append(d)
            return out

    def count_packets(self) -> int:
        with self.engine.begin() as conn:
            return int(conn.execute(select(func.count()).select_from(db.packets)).scalar() or 0)

    def packet_bytes(self, uuid: str, station_id: str | None = None) -> bytes:
        """One packet's bytes; ``station_id`` is needed only when several stations hold
        packets with this uuid (it is unique per station)."""
        c = db.packets.c
        cond = [c.uuid == uuid] + ([c.station_id == station_id] if station_id else [])
        with self.engine.begin() as conn:
            rows = conn.execute(select(c.station_id, c.data, c.sha256).where(*cond)).all()
        if not rows:
            where = f" of station {station_id}" if station_id else ""
            raise InputError(f"UUID: no packet {uuid}{where}")
        if len(rows) > 1:
            ids = ", ".join(sorted(r[0] for r in rows))
            raise InputError(f"UUID: stations {ids} each hold a packet {uuid}: give --station")
        sid, data, sha = rows[0]
        return self.blobs.read(blob_store.Ref(sid, uuid, sha), data)

    def open_packet(self, uuid: str, station_id: str | None = None) -> pkt.OpenedPacket:
        data = self.packet_bytes(uuid, station_id)
        header = pkt.read_header(data)
        st = self.find_station(header.station_id)
        public = pkt.load_signing_public_key_b64(st.public_key) if st and st.public_key else None
        return pkt.open_packet(data, self.sealing_keys, public)

    def import_dir(self, directory: Path) -> dict[str, Any]:
        """Import ``*.ektp`` files from a station's export (same idempotence as PUT)."""
        files = sorted(directory.glob("*.ektp"))
        result: dict[str, Any] = {
            "imported": 0,
            "duplicates": 0,
            "unverified": 0,
            "rejected": [],
        }
        relay = self.meta_get("upstream_url") is not None
        for f in files:
            try:
                if not f.is_file():
                    raise pkt.PacketError("not a file")
                if f.stat().st_size > self.max_body:
                    raise pkt.PacketError(f"larger than {self.max_body} bytes")
                data = f.read_bytes()
                header = pkt.read_header(data)
                res = self.store_packet(
                    header.uuid, data, sender=None, received_from="import", relay_mode=relay
                )
            except (pkt.PacketError, ServiceError, OSError) as exc:
                result["rejected"].append({"file": f.name, "reason": str(exc)})
                continue
            if res.status == 201:
                result["imported"] += 1
                st = self.find_station(header.station_id)
                if st is None or not st.public_key:
                    result["unverified"] += 1
            else:
                result["duplicates"] += 1
        result["files"] = len(files)
        return result
