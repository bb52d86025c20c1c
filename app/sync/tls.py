"""HTTPS to the server: the system's trust store, or a certificate the technician pins.

By default a station (and a relay towards its upstream) checks the server's certificate
against the operating system's trust store (``truststore``: the Windows certificate store on
a kit, OpenSSL's on Linux), not a CA bundle frozen into the program. A server with a
certificate of its own (a kecamatan relay, a Disdukcapil without a public CA) is pinned with
``provision --ca-file FILE``: the PEM is kept in the home as ``server-ca.pem`` and then only
it is trusted for that station's requests.

The server's answers are signed either way (app.protocol); TLS adds that nobody on the path
sees who sends what, and when.
"""

from __future__ import annotations

import os
from pathlib import Path

SERVER_CA_FILE = "server-ca.pem"
_injected = False


def use_system_trust_store() -> None:
    """Make every TLS connection of this process check certificates against the system's
    trust store (called once by the programs' entry points, never by library code)."""
    global _injected
    if not _injected:
        import truststore

        truststore.inject_into_ssl()
        _injected = True


class BadCertificateFile(ValueError):
    """The file given to pin is not a PEM certificate."""


def check_certificate_file(data: bytes) -> bytes:
    """``data`` if it holds at least one PEM certificate, else BadCertificateFile."""
    from cryptography import x509  # here: every command starts through this module

    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError as exc:
        raise BadCertificateFile("not a PEM certificate file") from exc
    if not certs:
        raise BadCertificateFile("no certificate in the file")
    return data


def pin_certificate(home: Path, data: bytes, name: str = SERVER_CA_FILE) -> Path:
    """Store the certificate(s) to trust for the server, atomically (no secret in it)."""
    check_certificate_file(data)
    path = home / name
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(data)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return path


def pinned(home: Path, name: str = SERVER_CA_FILE) -> str | None:
    path = home / name
    return str(path) if path.exists() else None


def verify_for(home: Path, name: str = SERVER_CA_FILE) -> str | bool:
    """What to pass as ``verify=`` on every request (per request: requests lets the
    REQUESTS_CA_BUNDLE environment variable override a Session's own ``verify``): the pinned
    certificate, or True (the trust store)."""
    return pinned(home, name) or True
