"""``GET /api/v1/station/fates?after=SEQ&limit=N[&station=KIT]``: a station's fates.

Signed like every station request, with the query as part of the signed path (the station
signs ``/api/v1/station/fates?after=...``): ``after`` and ``limit`` cannot be changed on the
way. The answer is signed (server.answer_signing) and echoes ``station`` and ``after``.

A station asks for its own fates. A relay asks for one of its kits' (``station=KIT``), only
for a kit it vouched for here; it keeps them and serves them to the kit from its own copy
(server/relay_fates.py), so on a relay this same route answers from that copy.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.fates import FATES_PATH
from app.protocol import Reason
from server import station_fates
from server.core import ServerCore, ServiceError


def _int(query: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    values = query.get(name)
    if not values:
        return default
    text = values[-1]
    if not text.isdigit() or not (low <= int(text) <= high):
        raise ServiceError(
            400, f"{name}: expected a whole number from {low} to {high}", Reason.INVALID
        )
    return int(text)


def signed_path(request: Request) -> str:
    """The path the station signed: with its query string, as sent."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    return request.url.path + (f"?{query}" if query else "")


def fates_answer(core: ServerCore, asker: Any, query: dict[str, list[str]]) -> dict[str, Any]:
    after = _int(query, "after", 0, 0, 2**62)
    limit = _int(query, "limit", station_fates.DEFAULT_PAGE, 1, station_fates.MAX_PAGE)
    wanted = (query.get("station") or [asker.id])[-1]
    if wanted != asker.id:
        kit = core.find_station(wanted)
        if not asker.is_relay or kit is None or kit.vouched_by != asker.id:
            raise ServiceError(
                403,
                f"station {asker.id} may not read the fates of station {wanted!r} "
                "(only a relay, for a kit it registered)",
                Reason.FOREIGN_STATION,
            )
    return station_fates.page(core.engine, wanted, after, limit)


def add_routes(api: FastAPI, core: ServerCore) -> None:
    @api.get(FATES_PATH, summary="A station pulls its fates (signed; see docs/sync.md)")
    async def fates(request: Request) -> JSONResponse:
        body = await request.body()
        asker = await run_in_threadpool(
            core.authenticate, "GET", signed_path(request), request.headers, body
        )
        query = parse_qs(request.scope.get("query_string", b"").decode("latin-1"))
        return JSONResponse(await run_in_threadpool(fates_answer, core, asker, query))
