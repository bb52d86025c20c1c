"""The station-to-server wire contract shared by ``app.sync`` and ``server``.

Every station request is signed with the station's Ed25519 key over the method, the path,
the SHA-256 of the body, a timestamp and a random nonce. The server checks the signature,
the body digest, that the timestamp is within ``MAX_CLOCK_SKEW_S`` of its own clock, and that
the nonce was not seen before (replay). No bearer secrets travel on the wire.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

API_PREFIX = "/api/v1"
PACKET_CONTENT_TYPE = "application/vnd.ektp.packet"
H_STATION = "X-EKTP-Station"
H_TIMESTAMP = "X-EKTP-Timestamp"
H_NONCE = "X-EKTP-Nonce"
H_DIGEST = "X-EKTP-Content-SHA256"
H_SIGNATURE = "X-EKTP-Signature"
# Stations run on PCs whose clocks drift and whose CMOS batteries die; five minutes tolerates
# drift while keeping the replay window (and the nonce table) small.
MAX_CLOCK_SKEW_S = 300
_DOMAIN = b"EKTP-REQ-1"


class AuthError(Exception):
    """A request's signature headers are missing, wrong, stale or replayed.

    ``reason`` is a short machine word: ``missing``, ``digest``, ``signature``, ``clock``.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class SignedRequest:
    station_id: str
    timestamp: int
    nonce: str
    body_sha256: str


def packet_path(uuid: str) -> str:
    return f"{API_PREFIX}/packets/{uuid}"


def _message(
    method: str, path: str, digest: str, timestamp: int, nonce: str, station: str
) -> bytes:
    return b"\n".join(
        [
            _DOMAIN,
            method.upper().encode(),
            path.encode(),
            digest.encode(),
            str(timestamp).encode(),
            nonce.encode(),
            station.encode(),
        ]
    )


def sign_request(
    method: str,
    path: str,
    body: bytes,
    station_id: str,
    key: Ed25519PrivateKey,
    now: float | None = None,
) -> dict[str, str]:
    """Headers that authenticate one request. ``path`` excludes scheme, host and query."""
    timestamp = int(time.time() if now is None else now)
    nonce = secrets.token_hex(16)
    digest = hashlib.sha256(body).hexdigest()
    sig = key.sign(_message(method, path, digest, timestamp, nonce, station_id))
    return {
        H_STATION: station_id,
        H_TIMESTAMP: str(timestamp),
        H_NONCE: nonce,
        H_DIGEST: digest,
        H_SIGNATURE: base64.b64encode(sig).decode(),
    }


def station_of(headers: Mapping[str, str]) -> str:
    """The claimed station id (not yet verified); raises AuthError when absent."""
    station = _get(headers, H_STATION)
    if not station:
        raise AuthError("missing", f"missing {H_STATION} header")
    return station


def _get(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        value = headers.get(name.lower())
    return value


def verify_request(
    method: str,
    path: str,
    headers: Mapping[str, str],
    body: bytes,
    public_key: Ed25519PublicKey,
    now: float | None = None,
    max_skew_s: int = MAX_CLOCK_SKEW_S,
) -> SignedRequest:
    """Check a request's signature, digest and clock. Replay (nonce reuse) is the caller's."""
    return verify_headers(method, path, headers, public_key, now, max_skew_s, body=body)


def verify_headers(
    method: str,
    path: str,
    headers: Mapping[str, str],
    public_key: Ed25519PublicKey,
    now: float | None = None,
    max_skew_s: int = MAX_CLOCK_SKEW_S,
    *,
    body: bytes | None = None,
) -> SignedRequest:
    """Check a request's signature and clock from its headers alone (the signature covers the
    DECLARED body digest), so a server can refuse a forged or stale request before it reads
    the body; with ``body``, also that the body matches that digest."""
    values = {n: _get(headers, n) for n in (H_STATION, H_TIMESTAMP, H_NONCE, H_DIGEST, H_SIGNATURE)}
    missing = [n for n, v in values.items() if not v]
    if missing:
        raise AuthError("missing", f"missing signature header(s): {', '.join(missing)}")
    station = str(values[H_STATION])
    nonce = str(values[H_NONCE])
    digest = str(values[H_DIGEST]).lower()
    try:
        timestamp = int(str(values[H_TIMESTAMP]))
        sig = base64.b64decode(str(values[H_SIGNATURE]), validate=True)
    except ValueError as exc:
        raise AuthError("signature", "malformed timestamp or signature header") from exc
    if not (8 <= len(nonce) <= 64):
        raise AuthError("signature", "malformed nonce")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise AuthError("digest", f"malformed {H_DIGEST} header")
    if body is not None and hashlib.sha256(body).hexdigest() != digest:
        raise AuthError("digest", "body does not match its SHA-256 header")
    try:
        public_key.verify(sig, _message(method, path, digest, timestamp, nonce, station))
    except InvalidSignature as exc:
        raise AuthError("signature", "request signature is not valid") from exc
    current = time.time() if now is None else now
    skew = timestamp - current
    if abs(skew) > max_skew_s:
        raise AuthError(
            "clock",
            f"station clock is off by {int(skew)} s (more than {max_skew_s} s): set the date and time",
        )
    return SignedRequest(station, timestamp, nonce, digest)
