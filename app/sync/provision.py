"""Online provisioning: redeem a one-time code at the server with this station's public key.

One implementation for ``ektp-station provision`` and the technician screen:
``check_server_url`` (bad input), ``register`` (the network step: an existing identity keeps
its key and station id, a fresh home gets a new key) and ``save`` (the local step, after the
server accepted the code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app import packet, protocol

if TYPE_CHECKING:  # the relay (server/) imports enroll() and needs no station store
    from app.store.db import Store
    from app.store.station import StationIdentity


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


class InvalidServerUrl(ValueError):
    """The server URL cannot be used (not http(s), no host, a malformed address or port)."""


def check_server_url(url: str) -> str:
    """The URL without trailing slashes, or InvalidServerUrl saying what is wrong with it."""
    cleaned = url.strip().rstrip("/")
    try:
        parts = urlsplit(cleaned)
        port = parts.port  # raises ValueError for a port out of range or not a number
        host = parts.hostname
    except ValueError as exc:
        raise InvalidServerUrl(f"{url!r} is not a valid URL ({exc})") from exc
    if parts.scheme not in ("http", "https"):
        raise InvalidServerUrl(f"{url!r} is not an http(s) URL")
    if not host:
        raise InvalidServerUrl(f"{url!r} names no host")
    if any(c.isspace() for c in cleaned):
        raise InvalidServerUrl(f"{url!r} contains spaces")
    del port
    return cleaned


@dataclass(frozen=True)
class Registration:
    """What the server accepted: the key it now holds for this station, and its reply."""

    key: Ed25519PrivateKey
    enrollment: Enrollment
    existing: StationIdentity | None  # the identity the station had (kept: same id and key)


def register(
    server_url: str,
    code: str,
    existing: StationIdentity | None,
    session: requests.Session | None = None,
) -> Registration:
    """Redeem ``code``. A station that already has an identity registers ITS key and id (a
    new key would leave the server holding one the station does not have: every later upload
    refused); a fresh home makes its key pair now. Writes nothing locally."""
    key = existing.signing_key if existing is not None else Ed25519PrivateKey.generate()
    enrollment = enroll(
        server_url,
        code,
        key.public_key(),
        station_id=existing.station_id if existing is not None else None,
        session=session,
    )
    return Registration(key, enrollment, existing)


class IdentityChanged(Exception):
    """The station's identity changed while the code was being redeemed (set up twice)."""


def save(store: Store, server_url: str, reg: Registration, set_by: str) -> StationIdentity:
    """Store what the server accepted: a new identity, or the existing one pointed at the
    server (with the assignment the server holds). Returns the identity now in force."""
    from app.store.station import get_identity, init_station, set_assignment, update_server

    current = get_identity(store)
    e = reg.enrollment
    if reg.existing is None:
        if current is not None:
            raise IdentityChanged("this station was set up meanwhile: register it again")
        return init_station(
            store,
            server_key_pem=e.server_key_pem,
            kecamatan=e.kecamatan,
            name=e.name,
            station_id=e.station_id,
            server_url=server_url,
            signing_key=reg.key,
            set_by=set_by,
        )
    if current is None or current.station_id != reg.existing.station_id:
        raise IdentityChanged("this station's identity changed meanwhile: register it again")
    update_server(store, server_url, e.server_key_pem, e.station_id, actor=set_by)
    if e.kecamatan and e.kecamatan != current.kecamatan:
        set_assignment(store, e.kecamatan, set_by, "assigned by the server")
    identity = get_identity(store)
    assert identity is not None
    return identity
