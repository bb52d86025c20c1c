"""``POST /api/v1/card/check`` (issue 19): a card-check station asks whose record a card is.

Signed like every station request (the body, ``{"uid", "operator"}``, is part of the
signature); the answer is signed by server/answer_signing.py like every answer to a signed
request. Only stations set up with ``station add --verifier`` are answered (403
``not_a_verifier``), a revoked one gets 403 ``revoked``, more than
``cards.CHECKS_PER_MINUTE`` a minute 429 ``rate_limited``. The work is in server/cards.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from app.cards import CARD_CHECK_PATH
from server import cards
from server.bodies import parse_json_object
from server.core import ServerCore

ReadBody = Callable[[Request, int], Awaitable[bytes]]
Authenticate = Callable[[Request, bytes], Awaitable[Any]]


def add_routes(
    api: FastAPI, core: ServerCore, read_body: ReadBody, authenticate: Authenticate
) -> None:
    @api.post(CARD_CHECK_PATH, summary="A card-check station asks whose record a card is (signed)")
    async def card_check(request: Request) -> JSONResponse:
        body = await read_body(request, 4 * 1024)
        st = await authenticate(request, body)
        doc = parse_json_object(body, "body: expected JSON with uid and operator;")
        answer = await run_in_threadpool(cards.check, core, st, doc)
        # The answer carries a person's name and photo: no cache may keep it.
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})
