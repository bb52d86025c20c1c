"""ASGI middleware: every answer to a signed station request carries the server's signature.

The station checks it (app.protocol.verify_response) before it marks a record uploaded,
applies anything the server says, or takes a refusal as final: a proxy in the path can
forge no receipt and turn no upload into a refusal. The signature binds the request's own
nonce, so an answer cannot be replayed to another request.

Only answers to requests that carry a station nonce are signed (health, the sealing key and
enrollment are unsigned requests; the enrollment reply carries a MAC of its own). Answers are
small JSON documents: the body is held until it is complete, then the start goes out with the
signature headers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import protocol

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_NONCE = protocol.H_NONCE.lower().encode()


def signs(status: int) -> bool:
    """Is an answer with this status signed? Not the ones given before or without the
    request's authentication (401; 408, 413 and 429 of the body gate, which refuses on the
    declared length or the pace before the signature is checked) nor 5xx: a man in the
    middle could provoke those for the station's own nonce (a changed body, a huge declared
    length) and must not get a signed refusal to show the station. A station takes an
    unsigned answer as a transient failure and sends again."""
    return status < 500 and status not in (401, 408, 413, 429)


class AnswerSigning:
    def __init__(self, app: ASGIApp, key: Ed25519PrivateKey) -> None:
        self.app = app
        self.key = key

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = next((v for k, v in scope["headers"] if k.lower() == _NONCE), None)
        if nonce is None:
            await self.app(scope, receive, send)
            return
        method = str(scope["method"])
        path = str(scope.get("path", ""))
        request_nonce = nonce.decode("latin-1")
        start: Message | None = None
        chunks: list[bytes] = []

        async def signing_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            status = int(start["status"])
            signed = (
                protocol.sign_response(method, path, request_nonce, status, body, self.key)
                if signs(status)
                else {}
            )
            headers = [
                (k, v) for k, v in start.get("headers", []) if k.lower() not in (b"content-length",)
            ]
            headers += [(k.lower().encode(), v.encode()) for k, v in signed.items()]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, signing_send)
