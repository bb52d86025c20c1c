"""Learning the server's signing key on a station provisioned before the server had one.

Such a station trusts one server key already: the sealing key every packet is sealed to. It
seals a fresh secret to that key (app.protocol.key_challenge) in a signed request; only the
holder of the sealing private key can open it, and the answer's MAC under the secret vouches
for the signing key. Until this succeeds the station marks nothing uploaded (the engine
trusts no unsigned answer), so a proxy in the path gains nothing by blocking it.

Stations provisioned with a code learn the key at provisioning (the reply's MAC under the
code); ``init`` takes it from the server's key file.
"""

from __future__ import annotations

import json

import requests

from app import packet, protocol
from app.packet import SealingPublicKey
from app.sync.engine import RETRY_STATUSES, SyncEngine, SyncError, server_error


def learn_server_key(engine: SyncEngine, sealing_key: SealingPublicKey) -> str:
    """The server's signing key (base64 raw Ed25519), vouched for by the sealing key; sets
    it on ``engine``. Raises SyncError (network, server or config) when it cannot."""
    secret, challenge = protocol.key_challenge(sealing_key, engine.station_id)
    body = json.dumps({"challenge": challenge}).encode()
    try:
        resp = engine.request("POST", protocol.SERVER_KEY_PATH, body, "application/json")
        content = resp.content
    except requests.RequestException as exc:
        raise SyncError("network", f"server unreachable: {exc.__class__.__name__}") from exc
    if resp.status_code >= 500 or resp.status_code in RETRY_STATUSES:
        raise SyncError("server", f"HTTP {resp.status_code} while learning the server's key")
    shaped = server_error(resp)
    if resp.status_code != 200:
        if shaped is None:
            raise SyncError("server", f"HTTP {resp.status_code} from something in the path")
        kind = "auth" if resp.status_code in (401, 403) else "config"
        raise SyncError(kind, f"the server's signing key cannot be learned: {shaped[1]}")
    try:
        doc = json.loads(content)
        key_b64 = str(doc["server_signing_key"])
        mac = str(doc["mac"])
        public = packet.load_signing_public_key_b64(key_b64)
    except (ValueError, KeyError, TypeError, packet.PacketError) as exc:
        raise SyncError("server", "the server's key answer is malformed") from exc
    if not protocol.mac_equal(protocol.key_answer_mac(secret, engine.station_id, key_b64), mac):
        raise SyncError(
            "server",
            "the key answer is not vouched for by the server's sealing key (something in "
            "the path answered): nothing was stored, will retry",
        )
    key_b64 = packet.signing_public_key_b64(public)
    engine.server_verify_key = public
    # The answer itself must be signed by the key it names (a last consistency check).
    engine.check_answer(protocol.SERVER_KEY_PATH, resp, content)
    return key_b64
