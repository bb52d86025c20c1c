"""Request signing between station and server."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import protocol


def test_signed_request_verifies() -> None:
    key = Ed25519PrivateKey.generate()
    headers = protocol.sign_request("PUT", "/api/v1/packets/x", b"body", "st-1", key, now=1000)
    req = protocol.verify_request(
        "PUT", "/api/v1/packets/x", headers, b"body", key.public_key(), now=1010
    )
    assert req.station_id == "st-1"
    assert len(req.nonce) == 32


@pytest.mark.parametrize(
    ("method", "path", "body", "reason"),
    [
        ("GET", "/api/v1/packets/x", b"body", "signature"),
        ("PUT", "/api/v1/packets/y", b"body", "signature"),
        ("PUT", "/api/v1/packets/x", b"other", "digest"),
    ],
)
def test_tampered_request_rejected(method: str, path: str, body: bytes, reason: str) -> None:
    key = Ed25519PrivateKey.generate()
    headers = protocol.sign_request("PUT", "/api/v1/packets/x", b"body", "st-1", key, now=1000)
    with pytest.raises(protocol.AuthError) as err:
        protocol.verify_request(method, path, headers, body, key.public_key(), now=1000)
    assert err.value.reason == reason


def test_other_key_and_skew_and_missing() -> None:
    key = Ed25519PrivateKey.generate()
    headers = protocol.sign_request("PUT", "/p", b"", "st-1", key, now=1000)
    with pytest.raises(protocol.AuthError, match="not valid"):
        protocol.verify_request(
            "PUT", "/p", headers, b"", Ed25519PrivateKey.generate().public_key(), now=1000
        )
    with pytest.raises(protocol.AuthError) as err:
        protocol.verify_request("PUT", "/p", headers, b"", key.public_key(), now=1000 + 3600)
    assert err.value.reason == "clock"
    assert "set the date and time" in str(err.value)
    del headers[protocol.H_NONCE]
    with pytest.raises(protocol.AuthError) as err:
        protocol.verify_request("PUT", "/p", headers, b"", key.public_key(), now=1000)
    assert err.value.reason == "missing"


def test_error_body_round_trip() -> None:
    """The server's error body and the station's parser are one pair (issue 16): what
    ``error_body`` writes, ``parse_error_body`` reads back as the same ``Reason``; a JSON answer
    of another shape (a proxy's, a captive portal's) is not the server's refusal."""
    import json

    for reason in protocol.Reason:
        sent = json.loads(json.dumps(protocol.error_body(reason, f"why {reason}")))
        assert sent == {"error": reason.value, "detail": f"why {reason}"}
        word, detail = protocol.parse_error_body(sent) or ("", "")
        assert protocol.Reason(word) is reason and detail == f"why {reason}"
    for other in ([], {"error": "", "detail": "x"}, {"error": "x"}, {"message": "x"}, None):
        assert protocol.parse_error_body(other) is None


def test_every_default_refusal_word_is_a_reason() -> None:
    """A refusal that names no word of its own still sends one of the wire's words."""
    from server.errors import ServiceError

    for status in (400, 401, 403, 404, 409, 410, 413, 418):
        assert isinstance(ServiceError(status, "x").reason, protocol.Reason)
