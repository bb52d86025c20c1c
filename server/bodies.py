"""Request bodies: read before the shared in-flight limit, with a deadline, a size cap and a
per-client cap; a packet upload is authenticated from its headers before its body is read.

Why (issue 18, item 2): 64 sockets that sent 10 bytes of a body and stopped held every
in-flight slot, so every station got 503 for as long as they stayed; 16 unfinished 16 MiB
bodies grew the server by 260 MB. Now:

- ``PUT /packets/{uuid}`` must declare its length (411 without, 413 above ``--max-body``) and
  its signature headers are checked first (``app.protocol.verify_headers``: the signature
  covers the declared body digest, the station, the time and the nonce), so a request that is
  not a known station's gets its 401 before a byte of the body is read. Its body then counts
  against that station's cap (``uploads_per_station``), never against other stations.
- Any other request with a body (enroll, vouch: at most ``small_body`` bytes) counts against
  its client address's cap (``bodies_per_address``) and a global cap on such bodies.
- Every body is read with a deadline: no byte for ``idle_timeout_s`` -> 408, and the whole
  body within ``idle_timeout_s + length / min_rate`` seconds -> else 408.
- A body above ``spool_bytes`` goes to a temporary file (mode 0600, in the home's ``tmp``)
  while it arrives, not to memory; it is read back only once complete.
- Only then does the request enter the shared in-flight limit (``server.api.InflightLimit``),
  which so counts requests being processed, never requests being received.

The production front (a reverse proxy with its own header and body timeouts) is described in
docs/server.md; this module makes the server safe to expose without one on a kecamatan LAN.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool

from app import packet as pkt
from app import protocol
from app.protocol import Reason
from server.core import ServerCore, ServiceError
from server.errors import send_json

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEALTH_PATH = protocol.API_PREFIX + "/health"
PACKET_PREFIX = protocol.API_PREFIX + "/packets/"
SMALL_BODY = 64 * 1024  # enroll, vouch: a few hundred bytes of JSON
_KEY_CACHE_MAX = 100_000


@dataclass(frozen=True)
class BodyLimits:
    max_body: int = pkt.MAX_PACKET_BYTES
    small_body: int = SMALL_BODY
    idle_timeout_s: float = 20.0
    min_rate: float = 4096.0  # bytes/s a body must average (plus the idle timeout)
    uploads_per_station: int = 4  # a station's engine sends 2 at once; a relay as many
    bodies_per_address: int = 8
    unauthenticated_bodies: int = 64  # all addresses together
    spool_bytes: int = 1024 * 1024


class PreAuth:
    """The header-only check of a signed request, with a per-process cache of station keys.

    The cache holds keys only (never revocation): the full check after the body
    (``ServerCore.receive_packet`` / ``server.ingest``) decides revocation, replay and
    everything else, as before. A key that fails is read again once (it may have changed).
    """

    def __init__(self, core: ServerCore) -> None:
        self.core = core
        self._keys: dict[str, Any] = {}

    def _lookup(self, station_id: str) -> Any:
        st = self.core.find_station(station_id)
        if st is None or not st.public_key:
            return None
        return pkt.load_signing_public_key_b64(st.public_key)

    async def check(self, method: str, path: str, headers: Mapping[str, str]) -> str:
        """The station that signed the request headers, or ServiceError 401."""
        try:
            station = protocol.station_of(headers)
        except protocol.AuthError as exc:
            raise ServiceError(401, str(exc), exc.reason) from exc
        cached = self._keys.get(station)
        key = cached if cached is not None else await run_in_threadpool(self._lookup, station)
        if key is None:
            raise ServiceError(401, f"unknown station {station!r}", Reason.UNKNOWN_STATION)
        try:
            protocol.verify_headers(method, path, headers, key)
        except protocol.AuthError as exc:
            fresh = await run_in_threadpool(self._lookup, station) if cached is not None else None
            if fresh is None:
                self._keys.pop(station, None)
                raise ServiceError(401, str(exc), exc.reason) from exc
            try:
                protocol.verify_headers(method, path, headers, fresh)
            except protocol.AuthError as exc2:
                raise ServiceError(401, str(exc2), exc2.reason) from exc2
            key = fresh
        if len(self._keys) >= _KEY_CACHE_MAX:
            self._keys.clear()
        self._keys[station] = key
        return station


class _Slots:
    """Per-key counters of bodies being received (one event loop: no lock needed)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.total = 0

    def take(self, key: str, cap: int, total_cap: int | None = None) -> bool:
        if self.counts.get(key, 0) >= cap:
            return False
        if total_cap is not None and self.total >= total_cap:
            return False
        self.counts[key] = self.counts.get(key, 0) + 1
        self.total += 1
        return True

    def give(self, key: str) -> None:
        left = self.counts[key] - 1
        if left:
            self.counts[key] = left
        else:
            del self.counts[key]
        self.total -= 1


_NO_BODY = object()  # a request without a body: nothing to wait for
_GONE = object()  # the client went away before its body was complete


class BodyGate:
    """ASGI middleware in front of the in-flight limit: reads every request body (see the
    module docstring), then calls ``app`` with the complete body."""

    def __init__(
        self,
        app: ASGIApp,
        core: ServerCore,
        limits: BodyLimits,
        spool_dir: Path | None = None,
        overload: Any = None,
    ) -> None:
        self.app = app
        # The in-flight limit behind (server.api.InflightLimit): while it is full, an upload is
        # refused once its headers are checked, before its body is read (a reconnect storm).
        self.overload = overload
        self.limits = limits
        self.preauth = PreAuth(core)
        self.spool_dir = spool_dir or core.home / "tmp"
        self.spool_dir.mkdir(mode=0o700, exist_ok=True)
        self.stations = _Slots()
        self.addresses = _Slots()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") == HEALTH_PATH:
            await self.app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for k, v in scope["headers"]:
            headers.setdefault(k.decode("latin-1"), v.decode("latin-1"))
        try:
            body = await self._body(scope, headers, receive)
        except ServiceError as exc:
            # Close the connection after the answer: the rest of a refused body is not read.
            extra = {"Connection": "close"}
            if exc.reason == Reason.OVERLOADED and self.overload is not None:
                # Kept open: the parser skips the rest of the body (no reset before the
                # client has read this answer).
                extra = {"Retry-After": self.overload.retry_after()}
            elif exc.status == 503:
                extra["Retry-After"] = "2"
            await send_json(send, exc.status, protocol.error_body(exc.reason, exc.message), extra)
            return
        if body is _NO_BODY:
            await self.app(scope, receive, send)
        elif isinstance(body, bytes):
            await self.app(scope, _replay(body, receive), send)
        # else _GONE: nobody to answer

    async def _body(self, scope: Scope, headers: Mapping[str, str], receive: Receive) -> object:
        """The complete body (bytes), ``_NO_BODY`` or ``_GONE``; ServiceError to refuse."""
        method, path = scope["method"], scope.get("path", "")
        declared = _declared_length(headers)
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        is_put = (
            method == "PUT"
            and path.startswith(PACKET_PREFIX)
            and "/" not in path[len(PACKET_PREFIX) :]
        )
        lim = self.limits
        slots: _Slots
        cap_total: int | None = None
        if is_put:
            if declared is None:
                raise ServiceError(
                    411, "a packet upload must declare its Content-Length", Reason.LENGTH_REQUIRED
                )
            if declared > lim.max_body:
                raise ServiceError(413, f"body is larger than {lim.max_body} bytes")
            station = await self.preauth.check(method, path, headers)
            if self.overload is not None and self.overload.full():
                raise ServiceError(503, "server is busy, retry later", Reason.OVERLOADED)
            key, slots, cap = f"s:{station}", self.stations, lim.uploads_per_station
            who = f"station {station}"
        else:
            if not chunked and not declared:
                return _NO_BODY
            if declared is not None and declared > lim.small_body:
                raise ServiceError(413, f"body is larger than {lim.small_body} bytes")
            client = scope.get("client") or ("?", 0)
            key, slots, cap = f"a:{client[0]}", self.addresses, lim.bodies_per_address
            cap_total = lim.unauthenticated_bodies
            who = f"address {client[0]}"
        if not slots.take(key, cap, cap_total):
            raise ServiceError(
                503, f"too many unfinished requests from {who}; retry later", Reason.CLIENT_BUSY
            )
        try:
            body = await self._read(receive, declared, lim.max_body if is_put else lim.small_body)
        finally:
            slots.give(key)
        return _GONE if body is None else body

    async def _read(self, receive: Receive, declared: int | None, cap: int) -> bytes | None:
        """The body, read under the deadline (one ``asyncio.timeout`` moved on with each
        chunk: no task per chunk); None when the client went away."""
        lim = self.limits
        loop = asyncio.get_running_loop()
        deadline = loop.time() + lim.idle_timeout_s + (declared or cap) / lim.min_rate
        size = 0
        # A body that will fit stays in memory; a bigger one (or one of unknown length) goes
        # to an unnamed file once it passes spool_bytes.
        small = declared is not None and declared <= lim.spool_bytes
        chunks: list[bytes] = []
        spool = (
            None
            if small
            else tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed below
                max_size=lim.spool_bytes, mode="w+b", dir=str(self.spool_dir), prefix="body-"
            )
        )
        try:
            try:
                async with asyncio.timeout(None) as timer:
                    while True:
                        timer.reschedule(min(loop.time() + lim.idle_timeout_s, deadline))
                        message = await receive()
                        if message["type"] == "http.disconnect":
                            return None
                        chunk = message.get("body", b"")
                        size += len(chunk)
                        if size > cap or (declared is not None and size > declared):
                            raise ServiceError(
                                413, f"body is larger than {min(cap, declared or cap)} bytes"
                            )
                        if chunk:
                            if spool is None:
                                chunks.append(chunk)
                            else:
                                spool.write(chunk)
                        if not message.get("more_body", False):
                            break
            except TimeoutError:
                raise _timeout(lim, size, declared) from None
            if spool is None:
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)
            spool.seek(0)
            return spool.read()
        finally:
            if spool is not None:
                spool.close()


def _timeout(lim: BodyLimits, size: int, declared: int | None) -> ServiceError:
    of = f" of {declared}" if declared is not None else ""
    return ServiceError(
        408,
        f"request body too slow: {size}{of} bytes arrived (a body must not pause for "
        f"{lim.idle_timeout_s:g} s and must average {lim.min_rate:g} bytes/s)",
        Reason.BODY_TIMEOUT,
    )


def _declared_length(headers: Mapping[str, str]) -> int | None:
    value = headers.get("content-length")
    if value is None:
        return None
    if not value.strip().isdigit():
        raise ServiceError(400, "Content-Length: not a number")
    return int(value)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that yields the complete body once, then the client's own messages (a
    disconnect) as they come."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def parse_json_object(body: bytes, what: str = "body") -> dict[str, Any]:
    """The JSON object of a small request body; 400 for anything else, including JSON nested
    too deeply to parse (Python's parser raises RecursionError: it was a plain-text 500)."""
    import json

    try:
        doc = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise ServiceError(400, f"{what}: expected a JSON object", Reason.INVALID_JSON) from exc
    if not isinstance(doc, dict):
        raise ServiceError(400, f"{what}: expected a JSON object")
    return doc
