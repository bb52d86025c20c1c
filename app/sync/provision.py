"""Online provisioning: redeem a one-time code at the server with this station's public key,
then record the answer in the store (one implementation for ``provision`` and the Teknisi
screen)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app import packet, protocol
from app.store.db import Store
from app.store.station import (
    StationIdentity,
    get_identity,
    init_station,
    set_assignment,
    update_server,
)


class ProvisionError(Exception):
    """The server refused the code, or could not be reached. The message says which."""


@dataclass(frozen=True)
class Enrollment:
    station_id: str
    name: str
    kecamatan: str
    server_id: str
    server_key_pem: bytes
    server_key_id: str


def enroll(
    server_url: str,
    code: str,
    public_key: Ed25519PublicKey,
    station_id: str | None = None,
    session: requests.Session | None = None,
    timeout: float = 15.0,
) -> Enrollment:
    body: dict[str, Any] = {
        "code": code,
        "public_key": packet.signing_public_key_b64(public_key),
    }
    if station_id:
        body["station_id"] = station_id
    url = server_url.rstrip("/") + protocol.API_PREFIX + "/stations/enroll"
    http = session or requests.Session()
    try:
        resp = http.post(url, json=body, timeout=timeout)
    except requests.RequestException as exc:
        raise ProvisionError(
            f"cannot reach the server at {server_url}: {exc.__class__.__name__}"
        ) from exc
    try:
        doc = resp.json()
    except ValueError:
        doc = {}
    if resp.status_code != 200:
        detail = doc.get("detail") if isinstance(doc, dict) else None
        raise ProvisionError(
            f"server refused enrollment (HTTP {resp.status_code}): {detail or resp.reason}"
        )
    try:
        pem = str(doc["server_key_pem"]).encode()
        key = packet.load_sealing_public_key(pem)
        if packet.key_id(key) != doc["server_key_id"]:
            raise ProvisionError("server sent a sealing key that does not match its key id")
        return Enrollment(
            station_id=str(doc["station_id"]),
            name=str(doc["name"]),
            kecamatan=str(doc["kecamatan"]),
            server_id=str(doc["server_id"]),
            server_key_pem=pem,
            server_key_id=str(doc["server_key_id"]),
        )
    except (KeyError, packet.PacketError) as exc:
        raise ProvisionError(f"server reply is malformed: {exc}") from exc


def signing_key_for(existing: StationIdentity | None) -> Ed25519PrivateKey:
    """The key to register: a station set up before keeps its own (and its id)."""
    return existing.signing_key if existing else Ed25519PrivateKey.generate()


def apply_enrollment(
    store: Store,
    enrollment: Enrollment,
    server_url: str,
    signing_key: Ed25519PrivateKey,
    existing: StationIdentity | None,
    actor: str,
) -> StationIdentity:
    """Record the server's answer: a new station's identity, or, for a station set up before
    (re-provisioning), the server URL and key and any new kecamatan (audited)."""
    if existing is None:
        return init_station(
            store,
            server_key_pem=enrollment.server_key_pem,
            kecamatan=enrollment.kecamatan,
            name=enrollment.name,
            station_id=enrollment.station_id,
            server_url=server_url,
            signing_key=signing_key,
            set_by=actor,
        )
    update_server(store, server_url, enrollment.server_key_pem, enrollment.station_id)
    if enrollment.kecamatan != existing.kecamatan:
        set_assignment(store, enrollment.kecamatan, actor, "assigned by the server")
    identity = get_identity(store)
    assert identity is not None  # it existed before and update_server keeps it
    return identity
