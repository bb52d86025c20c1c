"""Nonces are kept while a request carrying them could pass the clock check, then cleared by
the requests themselves (about one in 100, server/request_auth.py ``nonce_cutoff``)."""

from __future__ import annotations

import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select

from app import packet as pkt
from app import protocol
from server import db
from server.core import ServerCore
from server.errors import ServiceError
from server.request_auth import NONCE_KEEP_S


def test_old_nonces_go_and_recent_ones_still_refuse_a_replay(server) -> None:
    core = ServerCore(server.home, server.db_url)
    try:
        station, code = core.add_station("Kit 1", "36.03.32")
        key = Ed25519PrivateKey.generate()
        core.enroll(code, pkt.signing_public_key_b64(key.public_key()))
        now = time.time()
        with core.engine.begin() as conn:
            conn.execute(
                db.nonces.insert(),
                [
                    {"station_id": station.id, "nonce": "old", "seen_at": now - NONCE_KEEP_S - 5},
                    {"station_id": station.id, "nonce": "recent", "seen_at": now - 60},
                ],
            )

        def held() -> set[str]:
            with core.engine.connect() as conn:
                return set(conn.execute(select(db.nonces.c.nonce)).scalars())

        first = protocol.sign_request("GET", "/api/v1/station", b"", station.id, key)
        core.authenticate("GET", "/api/v1/station", first, b"")
        # ~1 request in 100 clears: after 2,000 the chance the old one is still there is 2e-9.
        for _ in range(2000):
            if "old" not in held():
                break
            headers = protocol.sign_request("GET", "/api/v1/station", b"", station.id, key)
            core.authenticate("GET", "/api/v1/station", headers, b"")
        assert "old" not in held() and "recent" in held()
        with pytest.raises(ServiceError) as replay:
            core.authenticate("GET", "/api/v1/station", first, b"")
        assert replay.value.reason == protocol.Reason.REPLAY
        with core.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(db.nonces)).scalar_one() >= 2
    finally:
        core.close()
