"""A station home provisioned against a real server process, for the sync tests."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import packet as pkt
from app.enrollment import seal_record
from app.store.db import Store, open_store
from app.store.operators import add_operator
from app.store.station import get_identity, init_station
from app.sync.provision import enroll
from tests.support.residents import BUDI_LAKI, resident
from tests.support.server import ServerProcess
from tests.support.server_fixtures import add_station

OPERATOR = "siti"
PASSWORD = "rahasia-siti-123"


def provisioned_home(
    home: Path,
    srv: ServerProcess,
    url: str | None = None,
    *,
    learned_key: bool = True,
    **kw: str,
) -> Path:
    """Provision in-process (the CLI path is covered by the end-to-end test).

    ``learned_key=False``: store no server signing key, as on a station provisioned before
    the server signed its answers (it learns the key at its first sync)."""
    code = add_station(srv, **kw)
    key = Ed25519PrivateKey.generate()
    e = enroll(srv.url, code, key.public_key())
    with open_store(home) as store:
        init_station(
            store,
            server_key_pem=e.server_key_pem,
            kecamatan=e.kecamatan,
            name=e.name,
            station_id=e.station_id,
            server_url=url or srv.url,
            signing_key=key,
            server_signing_key=e.server_signing_key if learned_key else None,
        )
        add_operator(store, OPERATOR, "operator", PASSWORD, actor="test")
    return home


def seal_n(store: Store, n: int, size: int = 300, start: int = 0) -> dict[str, str]:
    """Seal ``n`` small made-up records; returns {uuid: sha256}."""
    identity = get_identity(store)
    assert identity is not None
    out: dict[str, str] = {}
    for i in range(start, start + n):
        photo = hashlib.sha256(str(i).encode()).digest() * (size // 32 + 1)
        uuid, sha, _ = seal_record(
            store,
            identity,
            operator=OPERATOR,
            manifest={"biodata": resident(BUDI_LAKI, nama=f"WARGA NOMOR {i}")},
            attachments=[pkt.Attachment("face.jpg", "image/jpeg", photo[:size])],
        )
        out[uuid] = sha
    return out
