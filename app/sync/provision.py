"""Online provisioning: redeem a one-time code at the server with this station's public key.

One implementation for ``ektp-station provision`` and the technician screen:
``check_server_url`` (bad input), ``station_key`` (the key to register: the station's own, or
for a fresh home a pending key stored in the home first), ``register`` (the network step) and
``save`` (the local step, after the server accepted the code).

Redeeming a code is idempotent at the server for the same key (docs/server.md): a repeated
redemption by the key that used the code gets the same answer. So ``enroll`` retries a
request whose reply was lost (connection reset, timeout, truncated reply, any 5xx or reply
not in the server's error shape: ``CodeRefused`` is only the server's own 4xx refusal), and
a second ``provision`` with the same code works after a failure of either step, as long as
the station registers the same key, which ``station_key`` guarantees.
"""

from __future__ import annotations

import ipaddress
import math
import secrets
import socket
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app import packet, protocol
from app.sync.backoff import backoff
from app.sync.engine import server_error

if TYPE_CHECKING:  # the relay (server/) imports enroll() and needs no station store
    from app.store.db import Store
    from app.store.station import StationIdentity

# A lost reply is retried this many times in all, waiting BACKOFF_S, then twice that, ...
ATTEMPTS = 3
BACKOFF_S = 0.5


class ProvisionError(Exception):
    """The code could not be redeemed: ``CodeRefused`` when the server said no, else the
    server gave no usable answer (the code may have been used with this key: keep it)."""


class CodeRefused(ProvisionError):
    """The server itself refused the code: a 4xx reply in its error shape
    (``{"error": ..., "detail": ...}``), e.g. ``code_invalid``, ``code_used``, ``revoked``,
    ``key_in_use``. ``reason`` is the server's error code."""

    def __init__(self, message: str, reason: str, detail: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.detail = detail


class ServerNotAuthenticated(ProvisionError):
    """An answer came, but not from a server that knows the code: nothing is stored."""


class WrongAddress(CodeRefused):
    """The server answered, in its own error shape, that it has no enrollment at this address
    (HTTP 404/405: the enrollment route itself never answers so): the URL has a path after
    the port, say. Nothing was redeemed."""


class _LostReply(Exception):
    """No usable reply to one attempt: the request may or may not have reached the server."""


@dataclass(frozen=True)
class Enrollment:
    station_id: str
    name: str
    kecamatan: str
    server_id: str
    server_key_pem: bytes
    server_key_id: str
    # The key that signs the server's answers (base64 raw Ed25519), vouched for by the
    # reply's MAC under the code.
    server_signing_key: str


def enroll(
    server_url: str,
    code: str,
    public_key: Ed25519PublicKey,
    station_id: str | None = None,
    session: requests.Session | None = None,
    timeout: float = 15.0,
    attempts: int = ATTEMPTS,
    backoff_s: float = BACKOFF_S,
    verify: str | bool = True,
) -> Enrollment:
    """Redeem ``code`` for ``public_key``. A request with no usable reply is sent again (up to
    ``attempts`` in all): harmless, the server answers the same key's repeated redemption
    again. A refusal is never retried.

    The code itself never travels (app.protocol): the request carries a hint and a proof
    made with it, and the reply is used only when its MAC under the code checks out; a
    proxy in the path can neither redeem the code for its own key nor swap the server's
    keys in the reply."""
    public_b64 = packet.signing_public_key_b64(public_key)
    nonce = secrets.token_hex(16)
    mac_key = protocol.code_key(protocol.code_digest(code))
    body: dict[str, Any] = {
        "code_hint": protocol.code_hint(code),
        "proof": protocol.enroll_proof(mac_key, public_b64, station_id, nonce),
        "nonce": nonce,
        "public_key": public_b64,
    }
    if station_id:
        body["station_id"] = station_id
    url = server_url.rstrip("/") + protocol.API_PREFIX + "/stations/enroll"
    http = session or requests.Session()
    last = ""
    for attempt in range(max(1, attempts)):
        if attempt:
            time.sleep(backoff(attempt - 1, base_s=backoff_s, cap_s=math.inf, jitter="none"))
        try:
            return _enroll_once(http, url, body, timeout, mac_key, verify)
        except _LostReply as exc:
            last = str(exc)
    raise ProvisionError(
        f"no usable answer from the server at {server_url} ({last}, {max(1, attempts)} "
        "attempts); if the code reached it, running provision again with the same code is safe"
    )


def _enroll_once(
    http: requests.Session,
    url: str,
    body: dict[str, Any],
    timeout: float,
    mac_key: bytes,
    verify: str | bool,
) -> Enrollment:
    try:
        # verify per request: a Session's own is overridden by REQUESTS_CA_BUNDLE
        resp = http.post(url, json=body, timeout=timeout, verify=verify)
    except requests.RequestException as exc:  # refused, reset, timeout, truncated body
        raise _LostReply(exc.__class__.__name__) from exc
    if resp.status_code != 200:
        # Only the server's own refusal (a 4xx in its error shape) means "not redeemed".
        # Anything else (a 5xx, a proxy's page, an unshaped 4xx) may come after the server
        # committed the redemption: a lost reply, retried with the same key.
        refusal = _refusal(resp)
        if refusal is None:
            raise _LostReply(f"HTTP {resp.status_code}")
        reason, detail = refusal
        if resp.status_code in (404, 405):
            raise WrongAddress(
                f"no e-KTP enrollment at this address (HTTP {resp.status_code}, {url}): give "
                "the server's address without a path, e.g. http://10.0.0.5:8000",
                reason,
                detail,
            )
        raise CodeRefused(
            f"server refused enrollment (HTTP {resp.status_code}, {reason}): {detail}",
            reason,
            detail,
        )
    try:
        doc = resp.json()
    except ValueError:  # a success cut short on the way
        raise _LostReply("unreadable reply") from None
    if not isinstance(doc, dict) or not protocol.mac_equal(
        protocol.enroll_reply_mac(mac_key, body["nonce"], body["public_key"], doc),
        str(doc.get("mac", "")),
    ):
        # Not made with the code: something in the path answered (or changed the answer).
        # Nothing is stored; the code may be used by now, with this key: a retry is safe.
        raise ServerNotAuthenticated(
            "the answer to the enrollment is not vouched for by the one-time code (a proxy "
            "or another server in the path?): nothing was stored; check the address and "
            "the network, then run provision again with the same code"
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
            server_signing_key=packet.signing_public_key_b64(
                packet.load_signing_public_key_b64(str(doc["server_signing_key"]))
            ),
        )
    except (KeyError, TypeError, packet.PacketError) as exc:
        raise ProvisionError(f"server reply is malformed: {exc}") from exc


def _refusal(resp: requests.Response) -> tuple[str, str] | None:
    """(error code, detail) when ``resp`` is the server's own refusal, else None."""
    if not 400 <= resp.status_code < 500:
        return None
    return server_error(resp)


class InvalidServerUrl(ValueError):
    """The server URL cannot be used (not http(s), no host, a malformed address or port)."""


# Private LAN ranges (RFC 1918, IPv6 unique local). Not ipaddress's is_private: that also
# counts documentation and other reserved ranges that are no LAN.
_LAN = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)


def _local_host(host: str) -> bool:
    """Is ``host`` on this machine or a private LAN (loopback, RFC 1918, link-local, ULA)?
    A name counts when every address it resolves to does."""
    if host.lower() == "localhost":
        return True
    try:
        addresses = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None)
        except (OSError, UnicodeError):
            return False
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]
    return bool(addresses) and all(
        a.is_loopback or a.is_link_local or any(a in net for net in _LAN) for a in addresses
    )


def check_server_url(url: str, *, allow_insecure_http: bool = False) -> str:
    """The URL without trailing slashes, or InvalidServerUrl saying what is wrong with it.

    Plain ``http://`` only to this machine or a private LAN address (a kecamatan relay), unless
    ``allow_insecure_http``: the answers are signed and the packets sealed either way, but on
    a wider network https keeps who sends what, and when, to the two ends."""
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
    if parts.scheme == "http" and not allow_insecure_http and not _local_host(host):
        raise InvalidServerUrl(
            f"{url!r} is plain http to an address outside this machine and the private LAN: "
            "use https:// (or, knowingly, --insecure-http)"
        )
    del port
    return cleaned


@dataclass(frozen=True)
class Registration:
    """What the server accepted: the key it now holds for this station, and its reply."""

    key: Ed25519PrivateKey
    enrollment: Enrollment
    existing: StationIdentity | None  # the identity the station had (kept: same id and key)


def station_key(store: Store, existing: StationIdentity | None) -> Ed25519PrivateKey:
    """The key this station registers: its own when it has an identity (a new key would leave
    the server holding one the station does not have: every later upload refused), else the
    pending key of the home, stored before the code is redeemed (see module docstring)."""
    from app.store.station import pending_signing_key

    return existing.signing_key if existing is not None else pending_signing_key(store)


def register(
    server_url: str,
    code: str,
    existing: StationIdentity | None,
    key: Ed25519PrivateKey,
    session: requests.Session | None = None,
    verify: str | bool = True,
) -> Registration:
    """Redeem ``code`` with ``key`` (from ``station_key``); a station that already has an
    identity registers its id too. Writes nothing locally."""
    if existing is not None and (
        existing.signing_key.public_key().public_bytes_raw() != key.public_key().public_bytes_raw()
    ):
        raise ValueError("a station with an identity registers its own key")
    enrollment = enroll(
        server_url,
        code,
        key.public_key(),
        station_id=existing.station_id if existing is not None else None,
        session=session,
        verify=verify,
    )
    return Registration(key, enrollment, existing)


# Said when the server accepted the code but the station could not store what it answered.
NOT_SAVED_HINT = (
    "the server accepted the code but this station could not store it; once that is fixed, "
    "run provision again with the same code: it will work (the station kept its key)"
)


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
            server_signing_key=e.server_signing_key,
        )
    if current is None or current.station_id != reg.existing.station_id:
        raise IdentityChanged("this station's identity changed meanwhile: register it again")
    update_server(
        store,
        server_url,
        e.server_key_pem,
        e.station_id,
        actor=set_by,
        server_signing_key=e.server_signing_key,
    )
    if e.kecamatan and e.kecamatan != current.kecamatan:
        set_assignment(store, e.kecamatan, set_by, "assigned by the server")
    identity = get_identity(store)
    assert identity is not None
    return identity
