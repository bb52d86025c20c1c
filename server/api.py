"""The HTTP API (FastAPI). Thin: reads the request, calls ServerCore, maps errors to statuses.

The only in-process state is the bounded in-flight counter (overload -> 503 + Retry-After);
everything else lives in the database, so any number of processes can serve it.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from app import protocol
from server import card_api, cards, kit_api, kit_relay, policy
from server.answer_signing import AnswerSigning
from server.bodies import BodyGate, BodyLimits, parse_json_object
from server.core import CodeProof, ServerCore, ServiceError
from server.errors import JsonErrors, error_reply
from server.ingest import PacketIngest

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DEFAULT_MAX_INFLIGHT = 64
HEALTH_PATH = protocol.API_PREFIX + "/health"  # never refused: a balancer's health check


class InflightLimit:
    """ASGI middleware: at most ``limit`` requests in progress, the rest get 503 at once.

    Refusing early keeps latency bounded under a burst (stations back off and retry) instead
    of queueing uploads until they time out on the client. It sits behind
    ``server.bodies.BodyGate``: a request enters it with its body complete, so a slow or
    unfinished body never holds one of these slots.
    """

    def __init__(self, app: ASGIApp, limit: int, retry_after_max_s: int = 10) -> None:
        self.app = app
        self.limit = limit
        # Retry-After is drawn from 1..max s for each refusal: one value for every refused
        # kit would bring them all back together (a reconnect storm, docs/server.md).
        self.retry_after_max = max(1, retry_after_max_s)
        self.inflight = 0
        self._lock = threading.Lock()

    def full(self) -> bool:
        """At the limit: an upload arriving now would be refused (server.bodies asks before
        reading its body)."""
        return self.inflight >= self.limit

    def retry_after(self) -> str:
        return str(random.randint(1, self.retry_after_max))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") == HEALTH_PATH:
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
                protocol.error_body(protocol.Reason.OVERLOADED, "server is busy, retry later"),
                status_code=503,
                headers={"Retry-After": self.retry_after()},
            )
            await resp(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            with self._lock:
                self.inflight -= 1


PUT_PACKET_OPENAPI: dict[str, Any] = {
    "summary": "Upload one sealed packet (signed request)",
    "operationId": "put_packet",
    "parameters": [
        {"name": "uuid", "in": "path", "required": True, "schema": {"type": "string"}},
        *(
            {"name": h, "in": "header", "required": True, "schema": {"type": "string"}}
            for h in (
                protocol.H_STATION,
                protocol.H_TIMESTAMP,
                protocol.H_NONCE,
                protocol.H_DIGEST,
                protocol.H_SIGNATURE,
            )
        ),
    ],
    "requestBody": {
        "required": True,
        "content": {
            protocol.PACKET_CONTENT_TYPE: {"schema": {"type": "string", "format": "binary"}}
        },
    },
    "responses": {
        "201": {"description": "stored durably (answered after the commit); receipt"},
        "200": {"description": "already held these exact bytes; receipt"},
        "400": {"description": "malformed packet, uuid mismatch, wrong server key, bad signature"},
        "401": {"description": "unsigned, unknown station, bad signature, clock, replay"},
        "403": {"description": "revoked, or another station's packet"},
        "408": {"description": "body too slow (see docs/server.md, request bodies)"},
        "409": {"description": "uuid holds different bytes"},
        "411": {"description": "no Content-Length"},
        "413": {"description": "body above --max-body"},
        "503": {
            "description": "overloaded, too many unfinished uploads of this station, "
            "or the database failed; retry after Retry-After"
        },
    },
}


class ErrorDoc(BaseModel):
    """Every error this server sends."""

    error: str = Field(description="machine word, e.g. not_a_relay")
    detail: str = Field(description="a sentence for the person reading the log")


class RelayStation(BaseModel):
    station_id: str
    kecamatan: str = Field(description="the kecamatan code assigned by the central office")
    assigned_at: str | None = Field(description="when it was assigned (ISO 8601, UTC)")
    revoked: bool
    revoked_at: str | None = Field(description="when it was revoked (ISO 8601, UTC), or null")
    policy: dict[str, str] | None = Field(
        default=None, description="the limits the office set for it (the relay hands them on)"
    )


class RelayStationsDoc(BaseModel):
    relay_station_id: str = Field(description="the asking relay (as signed)")
    server_id: str
    stations: list[RelayStation] = Field(
        description="every station this relay vouched for (POST /stations/vouch), and only those"
    )


RELAY_STATIONS_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorDoc, "description": "unsigned, unknown station, bad signature, clock"},
    403: {"model": ErrorDoc, "description": "`not_a_relay` (a plain station), `revoked`"},
}


class PacketPut:
    """ASGI: ``PUT /api/v1/packets/{uuid}`` without the framework, everything else to ``app``.

    The upload is the one hot request; it is handled here without FastAPI's routing,
    dependency and response layers. On PostgreSQL, ``PacketIngest`` answers a request that
    passes every check with one statement; any other request (and every request on SQLite)
    goes to ``ServerCore.receive_packet`` in a worker thread, which gives every refusal.
    The operation is documented in the OpenAPI document by ``PUT_PACKET_OPENAPI``.
    """

    def __init__(
        self,
        app: ASGIApp,
        core: ServerCore,
        ingest: PacketIngest | None,
        *,
        relay_mode: bool,
        on_stored: Callable[[], None] | None,
    ) -> None:
        self.app = app
        self.core = core
        self.ingest = ingest
        self.relay_mode = relay_mode
        self.on_stored = on_stored
        self.prefix = protocol.API_PREFIX + "/packets/"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if not (
            scope["type"] == "http"
            and scope["method"] == "PUT"
            and path.startswith(self.prefix)
            and "/" not in path[len(self.prefix) :]
        ):
            await self.app(scope, receive, send)
            return
        uuid = path[len(self.prefix) :]
        headers: dict[str, str] = {}
        for k, v in scope["headers"]:
            headers.setdefault(k.decode("latin-1"), v.decode("latin-1"))
        try:
            body = await _receive_body(headers, receive, self.core.max_body)
            result = None
            if self.ingest is not None:
                result = await self.ingest.put("PUT", path, headers, uuid, body)
            if result is None:
                result = await run_in_threadpool(
                    self.core.receive_packet, "PUT", path, headers, uuid, body, self.relay_mode
                )
        except ServiceError as exc:
            await _send_json(send, exc.status, protocol.error_body(exc.reason, exc.message))
            return
        if result.status == 201 and self.on_stored is not None:
            self.on_stored()
        await _send_json(send, result.status, result.receipt)


async def _receive_body(headers: Mapping[str, str], receive: Receive, limit: int) -> bytes:
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ServiceError(413, f"body is larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ServiceError(400, "client disconnected before the body was complete")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise ServiceError(413, f"body is larger than {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _send_json(send: Send, status: int, doc: Mapping[str, Any]) -> None:
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _error(exc: ServiceError) -> JSONResponse:
    return JSONResponse(protocol.error_body(exc.reason, exc.message), status_code=exc.status)


async def _read_body(request: Request, limit: int) -> bytes:
    return await _receive_body(request.headers, request.receive, limit)


def _enroll_code(doc: dict[str, Any]) -> str | CodeProof:
    """The one-time code of an enrollment: its proof, or the code itself from an older
    station."""
    if "code_hint" in doc:  # the code itself never travels (app.protocol)
        hint, proof, nonce = doc.get("code_hint"), doc.get("proof"), doc.get("nonce")
        if not all(isinstance(v, str) for v in (hint, proof, nonce)):
            raise ServiceError(400, "code_hint, proof, nonce: expected strings")
        return CodeProof(str(hint), str(proof), str(nonce))
    # stations of earlier releases: the code in clear (deprecated)
    clear = doc.get("code")
    if not isinstance(clear, str):
        raise ServiceError(400, "body: expected JSON with code_hint, proof, nonce and public_key")
    return clear


def create_app(
    core: ServerCore,
    *,
    max_inflight: int = DEFAULT_MAX_INFLIGHT,
    relay_mode: bool = False,
    on_stored: Callable[[], None] | None = None,
    limits: BodyLimits | None = None,
    retry_after_max_s: int = 10,
) -> Any:
    ingest = (
        PacketIngest(core, relay_mode=relay_mode)
        if core.engine.dialect.name == "postgresql"
        else None
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if ingest is not None:
            await ingest.open()
        try:
            yield
        finally:
            if ingest is not None:
                await ingest.close()

    api = FastAPI(
        lifespan=lifespan,
        title="e-KTP enrollment server",
        version="1",
        description="Receives sealed enrollment packets from stations (see docs/server.md).",
    )
    prefix = protocol.API_PREFIX
    _add_error_handlers(api)

    async def authenticate(request: Request, body: bytes, allow_revoked: bool = False) -> Any:
        return await run_in_threadpool(
            core.authenticate,
            request.method,
            request.url.path,
            request.headers,
            body,
            allow_revoked,
        )

    _add_enrollment_routes(api, core, relay_mode, authenticate)
    kit_api.add_routes(api, core, _read_body, authenticate)
    card_api.add_routes(api, core, _read_body, authenticate)  # card checks (issue 19)
    _add_relay_routes(api, core, authenticate)
    from server.fates_api import add_routes as add_fates_routes

    add_fates_routes(api, core)  # GET /station/fates (issue 12)

    @api.get(f"{prefix}/sealing-key", response_class=Response)
    def sealing_key() -> Response:
        return Response(core.sealing_public_pem(), media_type="application/x-pem-file")

    generated_openapi = api.openapi

    def openapi() -> dict[str, Any]:
        doc: dict[str, Any] = generated_openapi()  # FastAPI's, cached on the app
        doc["paths"].setdefault(f"{prefix}/packets/{{uuid}}", {})["put"] = PUT_PACKET_OPENAPI
        return doc

    api.openapi = openapi  # type: ignore[method-assign]
    # The office's web page (server/web) answers its own paths; every other path is the API's.
    from server.web import dispatch, office_app

    put = PacketPut(
        dispatch(api, office_app(core)), core, ingest, relay_mode=relay_mode, on_stored=on_stored
    )
    limits = limits or BodyLimits(max_body=core.max_body)
    # Answers to signed requests are signed (server.answer_signing); JsonErrors outside it:
    # an error it shapes (a failure in the layers below) is a 5xx, which no station acts on.
    inflight = InflightLimit(put, max_inflight, retry_after_max_s)
    return JsonErrors(
        AnswerSigning(BodyGate(inflight, core, limits, overload=inflight), core.signing_key)
    )


def _add_error_handlers(api: FastAPI) -> None:
    @api.exception_handler(ServiceError)
    async def _service_error(_request: Request, exc: ServiceError) -> JSONResponse:
        return _error(exc)

    # Every error this server sends has the one shape ({"error", "detail"}), Starlette's own
    # too (404 unknown path, 405): a station tells this server's answers from a proxy's or a
    # captive portal's by that shape (app/sync/engine.py), so a wrong URL path is a
    # configuration error, not a fault somewhere in the network.
    @api.exception_handler(StarletteHTTPException)
    async def _http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = _error(ServiceError(exc.status_code, str(exc.detail)))
        response.headers.update(exc.headers or {})
        return response

    # Anything else (a database failure, a bug): still the one shape; a database failure
    # is 503 with Retry-After, so the station keeps its record and retries (server.errors).
    @api.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        status, doc, headers = error_reply(exc)
        return JSONResponse(doc, status_code=status, headers=headers)

    @api.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(ServiceError(422, f"request is malformed: {exc.errors()}", "invalid"))


def _add_enrollment_routes(
    api: FastAPI, core: ServerCore, relay_mode: bool, authenticate: Callable[..., Awaitable[Any]]
) -> None:
    """Health, enrollment with a one-time code, and a station asking for its own state."""
    prefix = protocol.API_PREFIX

    @api.get(HEALTH_PATH)
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
        doc = parse_json_object(
            body, "body: expected JSON with code_hint, proof, nonce and public_key;"
        )
        public_key = doc.get("public_key")
        station_id = doc.get("station_id")
        if not isinstance(public_key, str):
            raise ServiceError(400, "public_key: expected a string")
        if station_id is not None and not isinstance(station_id, str):
            raise ServiceError(400, "station_id: expected a string")
        result = await run_in_threadpool(
            core.enroll, _enroll_code(doc), public_key, str(station_id) if station_id else None
        )
        return JSONResponse(result, status_code=200)

    @api.get(f"{prefix}/station")
    async def station(request: Request) -> dict[str, Any]:
        # A revoked station may still ask: it learns it is revoked and says so plainly.
        st = await authenticate(request, await _read_body(request, 0), allow_revoked=True)
        out: dict[str, Any] = st.as_json()
        out["server_key_id"] = core.stations_key_id()  # what the station must seal to
        # and the key itself: after `keys rotate` a station moves to it (app.sync.station)
        out["server_key_pem"] = core.stations_key_pem()
        # Every key it may seal to (a key `keys rotate` retired is still opened: doctor).
        out["accepted_server_key_ids"] = sorted(core.accepted_key_ids())
        # The limits the office set for this kit (server/policy.py), signed with the rest.
        out["policy"] = await run_in_threadpool(policy.effective_for, core.engine, st)
        # A card-check station (`station add --verifier`) hides recording (issue 19).
        out["verifier"] = await run_in_threadpool(cards.verifier_flag, core.engine, st.id)
        return out


def _add_relay_routes(
    api: FastAPI, core: ServerCore, authenticate: Callable[..., Awaitable[Any]]
) -> None:
    """The server's signing key for older stations, what relays ask for their stations
    (key challenges, vouching, the stations' central state), and a packet's status."""
    prefix = protocol.API_PREFIX

    @api.post(protocol.SERVER_KEY_PATH)
    async def server_key(request: Request) -> JSONResponse:
        """A station provisioned before the server had a signing key learns it (signed
        request; the answer's MAC is keyed by a secret sealed to the sealing key)."""
        body = await _read_body(request, 64 * 1024)
        st = await authenticate(request, body)
        challenge = parse_json_object(body, "body: expected JSON with challenge;").get("challenge")
        if not isinstance(challenge, str):
            raise ServiceError(400, "challenge: expected a string")
        if core.meta_get("upstream_sealing_key"):
            # A relay's stations seal to the central key: the centre opens the challenge and
            # vouches for this relay's key (server.relay.forward_key_challenge).
            from server.relay import forward_key_challenge

            answer = await run_in_threadpool(forward_key_challenge, core, st, challenge)
        else:
            answer = await run_in_threadpool(core.server_key_answer, st, challenge)
        return JSONResponse(answer)

    @api.post(protocol.RELAY_KEY_PATH)
    async def relay_key(request: Request) -> JSONResponse:
        """A relay passes on the key challenge of one of its stations (signed by the relay):
        the answer vouches for the relay's key, the one it registered here with."""
        body = await _read_body(request, 64 * 1024)
        relay = await authenticate(request, body)
        doc = parse_json_object(body, "body: expected JSON with station_id and challenge;")
        station_id, challenge = doc.get("station_id"), doc.get("challenge")
        if not isinstance(station_id, str) or not isinstance(challenge, str):
            raise ServiceError(400, "station_id, challenge: expected strings")
        return JSONResponse(
            await run_in_threadpool(core.relay_key_answer, relay, station_id, challenge)
        )

    @api.post(f"{prefix}/stations/vouch")
    async def vouch(request: Request) -> JSONResponse:
        body = await _read_body(request, 64 * 1024)
        relay = await authenticate(request, body)
        doc = parse_json_object(body)
        result = await run_in_threadpool(core.register_vouched, relay, doc)
        return JSONResponse(result)

    @api.get(
        f"{prefix}/relay/stations",
        response_model=RelayStationsDoc,
        responses=RELAY_STATIONS_RESPONSES,
        summary="A relay pulls the central state of the stations it vouched for (signed)",
    )
    async def relay_stations(request: Request) -> dict[str, Any]:
        """Assignment and revocation of every station the signing relay vouched for: the
        relay applies them to its own station table (server/relay.py, RelayPuller), since
        its stations ask the relay for their assignment. 403 `not_a_relay` from a station
        not marked a relay (`station add --relay`)."""
        relay = await authenticate(request, await _read_body(request, 0))
        doc = await run_in_threadpool(core.relay_stations, relay)
        # Each kit's policy, which the relay hands on to it (server/kit_relay.py).
        return await run_in_threadpool(kit_relay.add_policies, core, doc)

    @api.get(f"{prefix}/packets/{{uuid}}")
    async def get_packet(uuid: str, request: Request) -> dict[str, Any]:
        asker = await authenticate(request, await _read_body(request, 0))
        return await run_in_threadpool(core.packet_status, uuid, asker)
