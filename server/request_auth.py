"""Request authentication: a station's signed request, its key and revocation, the nonce
(each request once)."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping

from sqlalchemy import delete
from sqlalchemy.engine import Connection

from app import packet as pkt
from app import protocol
from app.protocol import Reason
from server import db
from server.errors import ServiceError
from server.stations import Station, Stations

# A nonce is kept as long as a request carrying it could still pass the clock check (either
# side of the server's time), and a minute more.
NONCE_KEEP_S = 2 * protocol.MAX_CLOCK_SKEW_S + 60


def nonce_cutoff(now: float) -> float | None:
    """Stateless housekeeping of the nonces, for about one request in 100: the time before
    which the nonces may go (None: not this time). Both paths that record a nonce use it
    (here, and the packet upload's fast path in server/ingest.py)."""
    if random.random() < 0.01:
        return now - NONCE_KEEP_S
    return None


class RequestAuth(Stations):
    """Signed requests checked against the stations table; nonces recorded."""

    # --- request authentication -----------------------------------------------------------

    def authenticate(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        allow_revoked: bool = False,
        conn: Connection | None = None,
    ) -> Station:
        """The station that signed this request, or ServiceError 401/403. Records the nonce."""
        with self._tx(conn) as conn:
            st, nonce = self._check_signed(method, path, headers, body, allow_revoked, conn)
            self._record_nonce(conn, st.id, nonce)
        return st

    def _check_signed(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        body: bytes,
        allow_revoked: bool,
        conn: Connection,
    ) -> tuple[Station, str]:
        """Signature, station and revocation checks; returns the station and the nonce
        (not yet recorded)."""
        try:
            claimed = protocol.station_of(headers)
        except protocol.AuthError as exc:
            raise ServiceError(401, str(exc), exc.reason) from exc
        st = self.find_station(claimed, conn)
        if st is None or not st.public_key:
            raise ServiceError(401, f"unknown station {claimed!r}", Reason.UNKNOWN_STATION)
        try:
            signed = protocol.verify_request(
                method, path, headers, body, pkt.load_signing_public_key_b64(st.public_key)
            )
        except protocol.AuthError as exc:
            raise ServiceError(401, str(exc), exc.reason) from exc
        if st.revoked and not allow_revoked:
            raise ServiceError(403, "this station has been revoked", Reason.REVOKED)
        return st, signed.nonce

    def _record_nonce(self, conn: Connection, station_id: str, nonce: str) -> None:
        now = time.time()
        fresh = db.insert_ignore(
            conn, db.nonces, {"station_id": station_id, "nonce": nonce, "seen_at": now}
        )
        if not fresh:
            raise ServiceError(401, "replayed request (nonce already used)", Reason.REPLAY)
        cutoff = nonce_cutoff(now)
        if cutoff is not None:
            conn.execute(delete(db.nonces).where(db.nonces.c.seen_at < cutoff))
