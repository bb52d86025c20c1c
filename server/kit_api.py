"""The kit-to-centre requests of issue 12 (signed like every station request; answers signed
by server/answer_signing.py): the kit's health, its audit events, its offline moves.

``add_routes`` puts them on the FastAPI app (server/api.py); the work is in server/health.py,
server/audit_log.py and server/moves.py. The policy travels with the assignment
(``GET /api/v1/station``, server/policy.py).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app import protocol
from app.protocol import Reason
from server import audit_log, health, kit_relay, moves
from server.bodies import parse_json_object
from server.core import ServerCore, ServiceError

HEALTH_PATH = protocol.API_PREFIX + "/station/health"
AUDIT_PATH = protocol.API_PREFIX + "/station/audit"
MOVES_PATH = protocol.API_PREFIX + "/station/moves"
RELAY_KIT_PATH = kit_relay.RELAY_KIT_PATH

ReadBody = Callable[[Request, int], Awaitable[bytes]]
Authenticate = Callable[[Request, bytes], Awaitable[Any]]


def add_routes(
    api: FastAPI, core: ServerCore, read_body: ReadBody, authenticate: Authenticate
) -> None:
    @api.post(HEALTH_PATH, summary="A kit reports its health (signed)")
    async def station_health(request: Request) -> JSONResponse:
        body = await read_body(request, 16 * 1024)
        st = await authenticate(request, body)
        doc = parse_json_object(body, "body: expected JSON with the kit's health;")
        offset = health.clock_offset(request.headers, time.time())
        answer = await run_in_threadpool(
            functools.partial(health.record_report, clock_offset_s=offset),
            core.engine,
            st,
            doc,
        )
        return JSONResponse(answer)

    @api.post(RELAY_KIT_PATH + "/{kind}", summary="A relay passes on its kits' reports (signed)")
    async def relay_kit(kind: str, request: Request) -> JSONResponse:
        """Health, audit events or offline moves of a kit behind the signing relay, which
        received them from the kit (server/kit_relay.py); only for a kit it vouched for."""
        if kind not in ("health", "audit", "moves"):
            raise ServiceError(404, f"no relay kit report {kind!r}")
        body = await read_body(request, 64 * 1024)
        relay = await authenticate(request, body)
        doc = parse_json_object(body, "body: expected JSON with station_id;")
        st = await run_in_threadpool(kit_relay.vouched_station, core, relay, doc)
        if kind == "health":
            report = doc.get("report")
            if not isinstance(report, dict):
                raise ServiceError(400, "report: expected an object", Reason.BAD_HEALTH)
            answer = await run_in_threadpool(
                functools.partial(
                    health.record_report,
                    clock_offset_s=kit_relay.number(doc, "clock_offset_s"),
                    reported_at=kit_relay.number(doc, "reported_at"),
                ),
                core.engine,
                st,
                report,
            )
        elif kind == "audit":
            answer = await run_in_threadpool(audit_log.receive, core.engine, st, doc)
        else:
            answer = await run_in_threadpool(moves.report, core.engine, st, doc)
        return JSONResponse(answer)

    @api.post(AUDIT_PATH, summary="A kit uploads its audit events in order (signed)")
    async def station_audit(request: Request) -> JSONResponse:
        body = await read_body(request, 4 * 1024 * 1024)
        st = await authenticate(request, body)
        doc = parse_json_object(body, "body: expected JSON with events;")
        return JSONResponse(await run_in_threadpool(audit_log.receive, core.engine, st, doc))

    @api.post(MOVES_PATH, summary="A kit reports the moves it made offline (signed)")
    async def station_moves(request: Request) -> JSONResponse:
        body = await read_body(request, 64 * 1024)
        st = await authenticate(request, body)
        doc = parse_json_object(body, "body: expected JSON with moves;")
        return JSONResponse(await run_in_threadpool(moves.report, core.engine, st, doc))
