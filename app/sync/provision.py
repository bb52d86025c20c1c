"""Online provisioning: redeem a one-time code at the server with this station's public key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from app import packet, protocol


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
