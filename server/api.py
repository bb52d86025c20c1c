"""The HTTP API (FastAPI). Thin: reads the request, calls ServerCore, maps errors to statuses.

The only in-process state is the bounded in-flight counter (overload -> 503 + Retry-After);
everything else lives in the database, so any number of processes can serve it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from app import protocol
from server.core import ServerCore, ServiceError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_INFLIGHT = 64


class InflightLimit:
    """ASGI middleware: at most ``limit`` requests in progress, the rest get 503 at once.

    Refusing early keeps latency bounded under a burst (stations back off and retry) instead
    of queueing uploads until they time out on the client.
    """

    def __init__(self, app: ASGIApp, limit: int, retry_after_s: int = 2) -> None:
        self.app = app
        self.limit = limit
        self.retry_after = str(retry_after_s)
        self.inflight = 0
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").endswith("/health"):
            await self.app(scope, receive, send)
            return
        with self._lock:
            if self.inflight >= self.limit:
                busy = True
            else:
                busy = False
                self.inflight += 1
        if busy:
            resp = JSONResponse(
                {"error": "overloaded", "detail": "server is busy, retry later"},
                status_code=503,
                headers={"Retry-After": self.retry_after},
            )
            await resp(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            with self._lock:
                self.inflight -= 1


def _error(exc: ServiceError) -> JSONResponse:
    return JSONResponse({"error": exc.reason, "detail": exc.message}, status_code=exc.status)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ServiceError(413, f"body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ServiceError(413, f"body is larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(
    core: ServerCore,
    *,
    max_inflight: int = DEFAULT_MAX_INFLIGHT,
    relay_mode: bool = False,
    on_stored: Callable[[], None] | None = None,
) -> Any:
    api = FastAPI(
        title="e-KTP enrollment server",
        version="1",
        description="Receives sealed enrollment packets from stations (see docs/server.md).",
    )
    prefix = protocol.API_PREFIX

    @api.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        return _error(exc)

    async def authenticate(request: Request, body: bytes, allow_revoked: bool = False) -> Any:
        return await run_in_threadpool(
            core.authenticate,
            request.method,
            request.url.path,
            request.headers,
            body,
            allow_revoked,
        )

    @api.get(f"{prefix}/health")
    def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "server_id": core.server_id,
            "relay": relay_mode,
            "server_key_id": core.own_key_id,
        }

    @api.post(f"{prefix}/stations/enroll")
    async def enroll(request: Request) -> JSONResponse:
        body = await _read_body(request, 64 * 1024)
        try:
            doc = json.loads(body)
            code = str(doc["code"])
            public_key = str(doc["public_key"])
            station_id = doc.get("station_id")
        except (ValueError, KeyError, TypeError) as exc:
            raise ServiceError(400, "body: expected JSON with code and public_key") from exc
        result = await run_in_threadpool(
            core.enroll, code, public_key, str(station_id) if station_id else None
        )
        return JSONResponse(result, status_code=200)

    @api.get(f"{prefix}/station")
    async def station(request: Request) -> dict[str, Any]:
        # A revoked station may still ask: it learns it is revoked and says so plainly.
        st = await authenticate(request, await _read_body(request, 0), allow_revoked=True)
        out: dict[str, Any] = st.as_json()
        out["server_key_id"] = core.own_key_id
        return out

    @api.post(f"{prefix}/stations/vouch")
    async def vouch(request: Request) -> JSONResponse:
        body = await _read_body(request, 64 * 1024)
        relay = await authenticate(request, body)
        try:
            doc = json.loads(body)
        except ValueError as exc:
            raise ServiceError(400, "body: expected JSON") from exc
        result = await run_in_threadpool(core.register_vouched, relay, doc)
        return JSONResponse(result)

    @api.put(
        f"{prefix}/packets/{{uuid}}",
        responses={
            201: {"description": "stored durably; receipt"},
            200: {"description": "already held these exact bytes; receipt"},
            409: {"description": "uuid holds different bytes"},
        },
    )
    async def put_packet(uuid: str, request: Request) -> JSONResponse:
        body = await _read_body(request, core.max_body)
        result = await run_in_threadpool(
            core.receive_packet,
            request.method,
            request.url.path,
            request.headers,
            uuid,
            body,
            relay_mode,
        )
        if result.status == 201 and on_stored is not None:
            on_stored()
        return JSONResponse(result.receipt, status_code=result.status)

    @api.get(f"{prefix}/packets/{{uuid}}")
    async def get_packet(uuid: str, request: Request) -> dict[str, Any]:
        asker = await authenticate(request, await _read_body(request, 0))
        return await run_in_threadpool(core.packet_status, uuid, asker)

    @api.get(f"{prefix}/sealing-key", response_class=Response)
    def sealing_key() -> Response:
        return Response(core.sealing_public_pem(), media_type="application/x-pem-file")

    return InflightLimit(api, max_inflight)
