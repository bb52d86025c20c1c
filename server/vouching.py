"""The central side of a relay: the stations a relay vouches for, their registration and
what the office decided about them, and the relay's key vouched for to its stations."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from app import packet as pkt
from app import protocol
from app.protocol import Reason
from server import db, labels
from server.errors import ServiceError
from server.stations import KECAMATAN_RE, STATION_ID_RE, Station, Stations
from server.timeutil import iso


class Vouching(Stations):
    """What a relay asks of its upstream about the stations it vouched for."""

    def relay_key_answer(self, relay: Station, station_id: str, challenge: str) -> dict[str, Any]:
        """A relay's station learns the relay's signing key, vouched for by this (central)
        server: the station sealed a secret to our sealing key, the relay passed it on. Only
        for a station this relay registered (vouched for), and the key vouched for is the one
        the relay is registered with here (the key it signs its answers with)."""
        if not relay.is_relay:
            raise ServiceError(
                403, f"station {relay.id} is not a relay: it has no stations", Reason.NOT_A_RELAY
            )
        st = self.find_station(station_id)
        if st is None or st.vouched_by != relay.id:
            raise ServiceError(
                403,
                f"station {station_id} is not registered here by relay {relay.id}",
                Reason.NOT_YOUR_STATION,
            )
        if st.revoked:
            raise ServiceError(
                403, f"station {station_id} has been revoked", Reason.STATION_REVOKED
            )
        assert relay.public_key is not None  # authenticated: it has a key
        try:
            secret = protocol.open_key_challenge(self.sealing_keys, station_id, challenge)
        except protocol.AuthError as exc:
            raise ServiceError(400, str(exc), Reason.BAD_CHALLENGE) from exc
        return {
            "station_id": station_id,
            "server_signing_key": relay.public_key,
            "server_signing_key_id": relay.key_id,
            "mac": protocol.key_answer_mac(secret, station_id, relay.public_key),
        }

    def register_vouched(self, relay: Station, body: Mapping[str, Any]) -> dict[str, Any]:
        """A relay registers a station enrolled at it; the relay may then upload its packets."""
        try:
            station_id = str(body["station_id"])
            name = str(body.get("name") or station_id)
            kecamatan = str(body["kecamatan"])
            public_b64 = str(body["public_key"])
            public = pkt.load_signing_public_key_b64(public_b64)
        except (KeyError, TypeError, pkt.PacketError) as exc:
            raise ServiceError(400, f"station registration is malformed: {exc}") from exc
        if not STATION_ID_RE.match(station_id) or not KECAMATAN_RE.match(kecamatan):
            raise ServiceError(400, "station_id or kecamatan is malformed")
        if not relay.is_relay:
            raise ServiceError(
                403,
                f"station {relay.id} is not a relay: only a relay added with "
                "`ektp-server station add --relay` may register stations",
                Reason.NOT_A_RELAY,
            )
        public_b64 = pkt.signing_public_key_b64(public)
        kid = pkt.key_id(public)
        now = time.time()
        c = db.stations.c
        with self.engine.begin() as conn:
            existing = self.find_station(station_id, conn)
            if existing is None:
                conn.execute(
                    db.stations.insert().values(
                        id=station_id,
                        name=name,
                        kecamatan=kecamatan,
                        public_key=public_b64,
                        key_id=kid,
                        created_at=now,
                        enrolled_at=now,
                        assigned_at=now,
                        vouched_by=relay.id,
                    )
                )
                self._record_key(conn, station_id, public_b64, kid)
                # The relay vouches for the kecamatan its kit sealed with, also before the
                # registration reached this server (server/labels.py).
                labels.record_assignment(conn, station_id, kecamatan, 0.0)
            elif existing.revoked:
                raise ServiceError(
                    403, f"station {station_id} has been revoked here", Reason.STATION_REVOKED
                )
            elif existing.public_key == public_b64:
                # Same key: the same kit, perhaps moved here from another relay (or enrolled
                # directly before). Nothing changes: any relay may forward an enrolled kit's
                # packets. It stays with whoever registered it first; handing it over would
                # let any relay (a public key is no secret) take a station and then, as its
                # new owner, replace its key below. The kecamatan it seals with at this relay
                # is vouched for from now on (server/labels.py).
                labels.record_assignment(conn, station_id, kecamatan, now)
            elif existing.vouched_by == relay.id:
                # This relay's own station re-enrolled there with a fresh key (a reinstalled
                # PC): the new key replaces the old one, which still verifies older packets.
                conn.execute(
                    db.stations.update()
                    .where(c.id == station_id)
                    .values(public_key=public_b64, key_id=kid, enrolled_at=now)
                )
                self._record_key(conn, station_id, public_b64, kid)
            elif existing.vouched_by is not None:
                raise ServiceError(
                    409,
                    f"station {station_id} belongs to another relay and is registered with "
                    "another key: the central office must re-register the kit",
                    Reason.STATION_CONFLICT,
                )
            else:
                raise ServiceError(
                    409,
                    f"station {station_id} is registered with another key",
                    Reason.STATION_CONFLICT,
                )
            st = self.get_station(station_id, conn)
        return st.as_json()

    def relay_stations(self, relay: Station) -> dict[str, Any]:
        """What the central office decided about the stations ``relay`` vouched for.

        A relay pulls this (``GET /api/v1/relay/stations``) to learn assignment changes and
        revocations made here: its stations ask the relay, not this server, for their
        assignment. Only the stations whose registration this relay made (``vouched_by``);
        a kit another relay registered, or one enrolled here directly, is not listed.
        """
        if not relay.is_relay:
            raise ServiceError(
                403,
                f"station {relay.id} is not a relay: only a relay added with "
                "`ektp-server station add --relay` has stations to pull",
                Reason.NOT_A_RELAY,
            )
        c = db.stations.c
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(c.id, c.kecamatan, c.assigned_at, c.revoked_at)
                .where(c.vouched_by == relay.id)
                .order_by(c.id)
            ).all()
        return {
            "relay_station_id": relay.id,
            "server_id": self.server_id,
            "stations": [
                {
                    "station_id": sid,
                    "kecamatan": kecamatan,
                    "assigned_at": iso(assigned_at),
                    "revoked": revoked_at is not None,
                    "revoked_at": iso(revoked_at),
                }
                for sid, kecamatan, assigned_at, revoked_at in rows
            ],
        }
