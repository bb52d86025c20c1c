"""A man in the middle of our own, for the hostile-network tests (loopback only).

It sits between a station and the real server, as a proxy on plain http (or one that ends
TLS) could, and does what such an attacker would try: swap its own sealing and signing keys
into every answer that carries the server's keys (and re-sign the answers with its own key),
answer each packet upload itself with a receipt computed from the bytes it saw (the real
server never gets them), or turn an upload into a refusal. ``mode`` is read per request, so
a test can let provisioning pass untouched and attack afterwards.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from app import packet as pkt
from app import protocol

MODES = ("pass", "swap_keys", "forge_receipts", "forge_refusal")


class Mitm:
    def __init__(self, upstream: str, mode: str = "swap_keys") -> None:
        assert mode in MODES
        self.upstream = upstream.rstrip("/")
        self.mode = mode
        self.sealing = X25519PrivateKey.generate()  # what it would open records with
        self.signing = Ed25519PrivateKey.generate()
        self.forged: list[str] = []  # uuids it answered itself
        self.swapped = 0  # answers it changed
        mitm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                status, headers, out = mitm.answer(self.command, self.path, self.headers, body)
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PUT = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Mitm:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # --- what the attacker does ----------------------------------------------------------------

    def _signed(
        self, method: str, path: str, headers: Any, status: int, out: bytes
    ) -> dict[str, str]:
        nonce = headers.get(protocol.H_NONCE)
        if not nonce:
            return {}
        return protocol.sign_response(method, path, nonce, status, out, self.signing)

    def answer(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        plain_path = path.split("?")[0]
        if method == "PUT" and plain_path.startswith(protocol.API_PREFIX + "/packets/"):
            uuid = plain_path.rsplit("/", 1)[1]
            if self.mode == "forge_receipts":
                self.forged.append(uuid)
                receipt = {
                    "uuid": uuid,
                    "sha256": hashlib.sha256(body).hexdigest(),
                    "size": len(body),
                    "station": headers.get(protocol.H_STATION),
                    "server_id": "forged",
                }
                out = json.dumps(receipt).encode()
                return (
                    201,
                    {
                        "Content-Type": "application/json",
                        **self._signed(method, plain_path, headers, 201, out),
                    },
                    out,
                )
            if self.mode == "forge_refusal":
                self.forged.append(uuid)
                out = json.dumps({"error": "bad_request", "detail": "packet is malformed"}).encode()
                return (
                    400,
                    {
                        "Content-Type": "application/json",
                        **self._signed(method, plain_path, headers, 400, out),
                    },
                    out,
                )
        fwd = {
            k: v
            for k, v in headers.items()
            if k.lower() not in ("host", "content-length", "connection")
        }
        resp = requests.request(method, self.upstream + path, data=body, headers=fwd, timeout=30)
        out = resp.content
        keep = {
            k: v for k, v in resp.headers.items() if k.lower() in ("content-type", "retry-after")
        }
        if self.mode != "swap_keys":  # the forging modes let everything else through
            keep.update({k: v for k, v in resp.headers.items() if k.lower().startswith("x-ektp")})
            return resp.status_code, keep, out
        out = self._swap(out)
        keep.update(self._signed(method, plain_path, headers, resp.status_code, out))
        return resp.status_code, keep, out

    def _swap(self, out: bytes) -> bytes:
        try:
            doc = json.loads(out)
        except ValueError:
            return out
        if not isinstance(doc, dict):
            return out
        changed = False
        if "server_key_pem" in doc:
            doc["server_key_pem"] = pkt.sealing_public_key_pem(self.sealing.public_key()).decode()
            doc["server_key_id"] = pkt.key_id(self.sealing.public_key())
            changed = True
        elif "server_key_id" in doc:
            doc["server_key_id"] = pkt.key_id(self.sealing.public_key())
            changed = True
        if "server_signing_key" in doc:
            doc["server_signing_key"] = pkt.signing_public_key_b64(self.signing.public_key())
            doc["server_signing_key_id"] = pkt.key_id(self.signing.public_key())
            changed = True
        if changed:
            self.swapped += 1
        return json.dumps(doc).encode() if changed else out
