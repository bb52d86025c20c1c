"""Every error the HTTP server sends has the one JSON shape ``{"error", "detail"}``.

A station tells this server's answers from a proxy's or a captive portal's by that shape
(docs/sync.md), so nothing may escape as the framework's plain-text 500: bad input is a 4xx
with a reason, a database that fails (locked, unreachable, restarting) is 503 with
Retry-After (the station keeps the record and retries), and anything else is a JSON 500.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from app.protocol import Reason, error_body

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DATABASE_RETRY_AFTER_S = 5


def is_database_error(exc: BaseException) -> bool:
    """A failure of the database (SQLAlchemy or psycopg, either path), not of the request."""
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, DBAPIError | PoolTimeout):
        return True
    try:
        import psycopg
        import psycopg_pool
    except ImportError:  # pragma: no cover - both are dependencies of the server
        return False
    return isinstance(exc, psycopg.Error | psycopg_pool.PoolTimeout)


def error_reply(exc: BaseException) -> tuple[int, dict[str, str], dict[str, str]]:
    """Status, body and extra headers for an exception no handler turned into a refusal."""
    if is_database_error(exc):
        log.warning("database error answered with 503: %s", str(exc).splitlines()[0:1])
        return (
            503,
            error_body(
                Reason.DATABASE_UNAVAILABLE, "the server's database failed to answer; retry later"
            ),
            {"Retry-After": str(DATABASE_RETRY_AFTER_S)},
        )
    from server.blobs import RETRY_AFTER_S, BlobStoreError

    if isinstance(exc, BlobStoreError):
        log.warning("object store error answered with 503: %s", exc)
        return (
            503,
            error_body(
                Reason.STORAGE_UNAVAILABLE,
                "the server's object store failed to answer; retry later",
            ),
            {"Retry-After": str(RETRY_AFTER_S)},
        )
    log.error("internal error", exc_info=exc)
    detail = f"internal server error ({type(exc).__name__})"
    return 500, error_body(Reason.INTERNAL, detail), {}


async def send_json(
    send: Send, status: int, doc: Mapping[str, Any], headers: Mapping[str, str] | None = None
) -> None:
    body = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class JsonErrors:
    """ASGI, outermost: an exception before the response started becomes a JSON error."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # FastAPI's handler answered already (see server.api); nothing to add
                return
            status, doc, headers = error_reply(exc)
            await send_json(send, status, doc, headers)


class ServiceError(Exception):
    """A refusal with the HTTP status it maps to and a message for the caller."""

    def __init__(self, status: int, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.reason = reason or {
            400: Reason.BAD_REQUEST,
            401: Reason.UNAUTHORIZED,
            403: Reason.FORBIDDEN,
            404: Reason.NOT_FOUND,
            409: Reason.CONFLICT,
            410: Reason.GONE,
            413: Reason.TOO_LARGE,
        }.get(status, Reason.ERROR)


class InputError(ValueError):
    """Bad input to an admin command; the message names the field."""


class CoverageInputError(ValueError):
    """Bad input (a targets file, a wilayah code, a date): the message names the field."""
