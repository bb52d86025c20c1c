"""The station-to-server wire contract shared by ``app.sync`` and ``server``.

Every station request is signed with the station's Ed25519 key over the method, the path,
the SHA-256 of the body, a timestamp and a random nonce. The server checks the signature,
the body digest, that the timestamp is within ``MAX_CLOCK_SKEW_S`` of its own clock, and that
the nonce was not seen before (replay). No bearer secrets travel on the wire.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

if TYPE_CHECKING:  # app.packet imports nothing of this module; keep it so
    from app.packet import SealingPrivateKey, SealingPublicKey

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


class Reason(StrEnum):
    """The error words of the wire: the ``error`` of a refusal's body (``error_body``), the
    ``reason`` of ``AuthError``. Defined here once; the server raises them and the station
    (and a relay forwarding as a station) acts on them. A member is its word (a ``str``)."""

    # request authentication (AuthError)
    MISSING = "missing"
    SIGNATURE = "signature"
    DIGEST = "digest"
    CLOCK = "clock"
    CHALLENGE = "challenge"
    SERVER_SIGNATURE = "server_signature"
    UNKNOWN_STATION = "unknown_station"
    REVOKED = "revoked"
    REPLAY = "replay"
    # enrollment
    CODE_INVALID = "code_invalid"
    CODE_EXPIRED = "code_expired"
    CODE_USED = "code_used"
    KEY_IN_USE = "key_in_use"
    STATION_NOT_YOURS = "station_not_yours"
    BAD_CHALLENGE = "bad_challenge"
    # packets
    WRONG_SERVER_KEY = "wrong_server_key"
    FOREIGN_STATION = "foreign_station"
    STATION_REVOKED = "station_revoked"
    BAD_SIGNATURE = "bad_signature"
    KEY_REPLACED = "key_replaced"
    BAD_KECAMATAN = "bad_kecamatan"
    BAD_SEALED_AT = "bad_sealed_at"
    SEALED_IN_FUTURE = "sealed_in_future"
    KECAMATAN_NOT_ASSIGNED = "kecamatan_not_assigned"
    # relays
    NOT_A_RELAY = "not_a_relay"
    NOT_YOUR_STATION = "not_your_station"
    STATION_CONFLICT = "station_conflict"
    UPSTREAM_REFUSED = "upstream_refused"
    # what a kit reports (audit, health, moves)
    BAD_AUDIT = "bad_audit"
    AUDIT_GAP = "audit_gap"
    AUDIT_HASH = "audit_hash"
    AUDIT_CHAIN_BREAK = "audit_chain_break"
    AUDIT_CHAIN_DIVERGES = "audit_chain_diverges"
    BAD_HEALTH = "bad_health"
    BAD_MOVE = "bad_move"
    # card checks (issue 19)
    NOT_A_VERIFIER = "not_a_verifier"
    NOT_A_RECORDER = "not_a_recorder"
    RATE_LIMITED = "rate_limited"
    # request bodies and load
    LENGTH_REQUIRED = "length_required"
    BODY_TIMEOUT = "body_timeout"
    CLIENT_BUSY = "client_busy"
    INVALID_JSON = "invalid_json"
    INVALID = "invalid"
    OVERLOADED = "overloaded"
    DATABASE_UNAVAILABLE = "database_unavailable"
    STORAGE_UNAVAILABLE = "storage_unavailable"
    INTERNAL = "internal"
    # by HTTP status, when a refusal names no word of its own
    BAD_REQUEST = "bad_request"
    UNAUTHORIZED = "unauthorized"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    GONE = "gone"
    TOO_LARGE = "too_large"
    ERROR = "error"


def error_body(reason: str, detail: str) -> dict[str, str]:
    """The one shape of every error the server sends: ``{"error": reason, "detail": ...}``."""
    return {"error": str(reason), "detail": detail}


def parse_error_body(doc: Any) -> tuple[str, str] | None:
    """(error, detail) when ``doc`` (a decoded JSON answer) is the server's error shape, else
    None: a proxy's or a captive portal's JSON is not the server's refusal."""
    if not isinstance(doc, dict):
        return None
    error, detail = doc.get("error"), doc.get("detail")
    if isinstance(error, str) and error and isinstance(detail, str):
        return error, detail
    return None


class AuthError(Exception):
    """A request's signature headers are missing, wrong, stale or replayed.

    ``reason`` is a ``Reason``: ``missing``, ``digest``, ``signature``, ``clock``, ...
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
        raise AuthError(Reason.MISSING, f"missing {H_STATION} header")
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
        raise AuthError(Reason.MISSING, f"missing signature header(s): {', '.join(missing)}")
    station = str(values[H_STATION])
    nonce = str(values[H_NONCE])
    digest = str(values[H_DIGEST]).lower()
    try:
        timestamp = int(str(values[H_TIMESTAMP]))
        sig = base64.b64decode(str(values[H_SIGNATURE]), validate=True)
    except ValueError as exc:
        raise AuthError(Reason.SIGNATURE, "malformed timestamp or signature header") from exc
    if not (8 <= len(nonce) <= 64):
        raise AuthError(Reason.SIGNATURE, "malformed nonce")
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise AuthError(Reason.DIGEST, f"malformed {H_DIGEST} header")
    if body is not None and hashlib.sha256(body).hexdigest() != digest:
        raise AuthError(Reason.DIGEST, "body does not match its SHA-256 header")
    try:
        public_key.verify(sig, _message(method, path, digest, timestamp, nonce, station))
    except InvalidSignature as exc:
        raise AuthError(Reason.SIGNATURE, "request signature is not valid") from exc
    current = time.time() if now is None else now
    skew = timestamp - current
    if abs(skew) > max_skew_s:
        raise AuthError(
            Reason.CLOCK,
            f"station clock is off by {int(skew)} s (more than {max_skew_s} s): set the date and time",
        )
    return SignedRequest(station, timestamp, nonce, digest)


# --- the server's side: signed answers --------------------------------------------------------
#
# Every answer to a signed station request is signed by the server's Ed25519 key over the
# request's method, path and nonce, the status and the SHA-256 of the answer's body. A proxy
# in the path (plain http, or a TLS-terminating one) can neither forge a receipt nor replay an
# old one (the nonce is the station's, fresh per request), nor turn an upload into a refusal.

H_SERVER_SIGNATURE = "X-EKTP-Server-Signature"
H_SERVER_KEY = "X-EKTP-Server-Key"  # key id of the key that signed (for the reader's message)
_RESPONSE_DOMAIN = b"EKTP-RESP-1"


def _response_message(
    method: str, path: str, request_nonce: str, status: int, body_digest: str
) -> bytes:
    return b"\n".join(
        [
            _RESPONSE_DOMAIN,
            method.upper().encode(),
            path.encode(),
            request_nonce.encode(),
            str(int(status)).encode(),
            body_digest.encode(),
        ]
    )


def sign_response(
    method: str, path: str, request_nonce: str, status: int, body: bytes, key: Ed25519PrivateKey
) -> dict[str, str]:
    """Headers that authenticate the server's answer to one signed request."""
    digest = hashlib.sha256(body).hexdigest()
    sig = key.sign(_response_message(method, path, request_nonce, status, digest))
    return {
        H_SERVER_SIGNATURE: base64.b64encode(sig).decode(),
        H_SERVER_KEY: _key_id(key.public_key()),
    }


def _key_id(public_key: Ed25519PublicKey) -> str:
    from app.packet import key_id  # app.packet imports nothing of this module; keep it so

    return key_id(public_key)


def verify_response(
    method: str,
    path: str,
    request_nonce: str,
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    public_key: Ed25519PublicKey,
) -> None:
    """Raise AuthError(``server_signature``) unless the answer was signed by ``public_key``."""
    value = _get(headers, H_SERVER_SIGNATURE)
    if not value:
        raise AuthError(
            Reason.SERVER_SIGNATURE,
            "the answer is not signed by the server (something in the path answered instead)",
        )
    try:
        sig = base64.b64decode(value, validate=True)
        digest = hashlib.sha256(body).hexdigest()
        public_key.verify(sig, _response_message(method, path, request_nonce, status, digest))
    except (ValueError, InvalidSignature) as exc:
        raise AuthError(
            Reason.SERVER_SIGNATURE,
            "the answer's signature is not the server's (something in the path changed it)",
        ) from exc


# --- provisioning without sending the code ------------------------------------------------------
#
# The one-time code never travels. The station sends a hint (the first 12 hex digits of
# SHA-256 of the normalized code, which is what the server stores: it finds the row by it) and
# proves knowledge of the code with an HMAC over its public key, station id and a fresh nonce,
# keyed by SHA-256 of the code. The server answers with its keys and an HMAC under the same
# key over its whole answer and the station's nonce: a proxy without the code can neither
# redeem it for its own key nor swap the keys in the answer.

CODE_HINT_LEN = 12
_CODE_KEY_DOMAIN = b"EKTP-CODE-KEY-1"
_ENROLL_REQ_DOMAIN = b"EKTP-ENROLL-REQ-1"
_ENROLL_REPLY_DOMAIN = b"EKTP-ENROLL-REPLY-1"


def normalize_code(code: str) -> str:
    """A code as typed (spaces, dashes, lower case) in its one canonical form."""
    return "".join(c for c in code if not c.isspace() and c != "-").upper()


def code_digest(code: str) -> str:
    """Hex SHA-256 of the normalized code: what the server stores (never the code)."""
    return hashlib.sha256(normalize_code(code).encode()).hexdigest()


def code_hint(code: str) -> str:
    """What the station sends so the server finds the code's row."""
    return code_digest(code)[:CODE_HINT_LEN]


def code_key(digest_hex: str) -> bytes:
    """The proofs' key, from ``code_digest`` (the station has the code, the server the
    digest); the hint does not reveal it."""
    return hmac.new(bytes.fromhex(digest_hex), _CODE_KEY_DOMAIN, hashlib.sha256).digest()


def _canonical(doc: Mapping[str, object]) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def enroll_proof(key: bytes, public_key_b64: str, station_id: str | None, nonce: str) -> str:
    """The station's proof that it knows the code, bound to the key it registers."""
    msg = b"\n".join(
        [_ENROLL_REQ_DOMAIN, public_key_b64.encode(), (station_id or "").encode(), nonce.encode()]
    )
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def enroll_reply_mac(
    key: bytes, nonce: str, public_key_b64: str, reply: Mapping[str, object]
) -> str:
    """The server's MAC over its answer (every field but ``mac`` itself)."""
    fields = {k: v for k, v in reply.items() if k != "mac"}
    msg = b"\n".join(
        [_ENROLL_REPLY_DOMAIN, nonce.encode(), public_key_b64.encode(), _canonical(fields)]
    )
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


def mac_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


# --- learning the server's signing key later (stations provisioned before it existed) ----------
#
# Such a station trusts one server key already: the sealing key it seals every packet to. It
# sends a fresh secret sealed (HPKE) to that key; only the holder of the sealing private key
# can open it, and it answers with its signing key and an HMAC under the secret. A proxy can
# neither read the secret nor vouch for a key of its own.

_KEY_CHALLENGE_INFO = b"EKTP-SIGNKEY-CHALLENGE-1\n"
_KEY_ANSWER_DOMAIN = b"EKTP-SIGNKEY-ANSWER-1"
SERVER_KEY_PATH = API_PREFIX + "/station/server-key"
RELAY_KEY_PATH = API_PREFIX + "/relay/server-key"  # a relay passes a station's challenge on


def key_challenge(sealing_key: SealingPublicKey, station_id: str) -> tuple[bytes, str]:
    """(secret, challenge): the challenge is the secret sealed to ``sealing_key``."""
    from app.packet import hpke_seal

    secret = secrets.token_bytes(32)
    sealed = hpke_seal(secret, sealing_key, _KEY_CHALLENGE_INFO + station_id.encode())
    return secret, base64.b64encode(sealed).decode()


def open_key_challenge(
    sealing_keys: Iterable[SealingPrivateKey], station_id: str, challenge: str
) -> bytes:
    """The secret in a challenge, sealed to any of ``sealing_keys`` (the server's current
    key and those it retired); AuthError(``challenge``) when none opens it."""
    from app.packet import hpke_open

    try:
        sealed = base64.b64decode(challenge, validate=True)
    except ValueError as exc:
        raise AuthError(Reason.CHALLENGE, "the challenge is not base64") from exc
    secret = None
    for key in sealing_keys:
        try:
            secret = hpke_open(sealed, key, _KEY_CHALLENGE_INFO + station_id.encode())
            break
        except Exception:  # cryptography raises InvalidTag / ValueError: try the next key
            continue
    if secret is None:
        raise AuthError(Reason.CHALLENGE, "the challenge was not sealed to this server's key")
    if len(secret) != 32:
        raise AuthError(Reason.CHALLENGE, "the challenge holds no 32-byte secret")
    return secret


def key_answer_mac(secret: bytes, station_id: str, signing_key_b64: str) -> str:
    msg = b"\n".join([_KEY_ANSWER_DOMAIN, station_id.encode(), signing_key_b64.encode()])
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()
