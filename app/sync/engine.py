"""The sync engine: drains an outbox to the server, one signed PUT per packet.

Plain Python and ``requests``; no Qt, no threads (``SyncWorker`` adds the thread). The same
engine runs on a station (outbox = the station's SQLite store) and on a kecamatan relay
(outbox = the relay server's packet table), so both get identical retry behaviour.

Every answer the engine acts on (a receipt, a refusal, the station's state) must be signed
by the server's key (``server_verify_key``, app.protocol): an unsigned or wrongly signed one
is a transient failure like a network error, and nothing is marked.

Outcomes of one PUT:
- 201/200 with a signed receipt whose sha256 equals ours: uploaded.
- network error, timeout, a bad or mismatched receipt, 408, 429, 5xx: retry later with
  exponential backoff and full jitter (``uniform(0, min(cap, base * 2**attempts))``), never
  sooner than the server's Retry-After. The drain stops at the first such failure (the server
  is unreachable or unhappy: hammering it with the rest of the queue helps no one).
- 400, 409, 410, 413, 415, 422 in the server's own error shape (a JSON object with string
  ``error`` and ``detail``, server/api.py): the packet itself is refused; ``rejected`` with
  the reason.
- 403 whose ``error`` is one of the engine's ``hold_reasons`` (a relay's forwarder: the
  upstream refuses the packet's station, not the sender): the packet is parked with
  ``outbox.mark_held`` and the drain goes on. A station's engine has no hold reasons.
- 401, 403, 404, 405 and other 4xx in the server's shape: a problem of the station or its
  configuration (clock, revoked, wrong URL), not of the packet: nothing is marked, the drain
  stops with the error.
- Any 4xx NOT in the server's shape came from something else in the path (a proxy's body
  limit, a captive portal): it says nothing about the packet, so it is a transient failure
  (retry with backoff, the drain stops, ``last_error`` names it).

``abort()`` (from another thread: the worker's stop) cuts off the requests in flight; a packet
whose upload was cut off is not marked at all (no failure, no backoff) and goes again on the
next drain, where the idempotent server answers 200 if it had stored it.
"""

from __future__ import annotations

import json
import random
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from app import protocol
from app.sync.abortable import AbortableSession
from app.sync.backoff import backoff
from app.sync.receipt_group import ReceiptGroup

REJECT_STATUSES = frozenset({400, 409, 410, 413, 415, 422})
RETRY_STATUSES = frozenset({408, 425, 429})
DEFAULT_TIMEOUT = (5.0, 30.0)  # connect, read (seconds)
# What a forced drain passes as "now" to ``Outbox.due``: no persisted next attempt is later.
FOREVER = datetime(9999, 12, 31, tzinfo=UTC)


class OutboxItem(Protocol):
    uuid: str
    data: bytes
    sha256: str
    size: int
    attempts: int


class Outbox(Protocol):
    """What the engine needs from a queue of sealed packets (the station's or a relay's)."""

    def due(self, now: datetime, limit: int) -> Sequence[Any]: ...

    def mark_uploaded(self, uuid: str, receipt: dict[str, Any]) -> Any: ...

    def mark_retry(self, uuid: str, error: str, next_attempt_at: datetime) -> Any: ...

    def mark_rejected(self, uuid: str, reason: str) -> Any: ...


class HoldingOutbox(Outbox, Protocol):
    """An outbox that can park a packet refused for its station (the relay's)."""

    def mark_held(self, uuid: str, reason: str) -> Any: ...


class SyncError(Exception):
    """A failure that stops a drain; ``kind`` is network, server, auth or config."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after


@dataclass
class DrainResult:
    uploaded: int = 0
    rejected: int = 0
    held: int = 0
    bytes_sent: int = 0
    error: SyncError | None = None
    # seal-to-receipt is the station's business; the engine reports receipt times per uuid
    receipts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.error is not None


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def server_error(resp: requests.Response) -> tuple[str, str] | None:
    """(error, detail) when the reply is the e-KTP server's own error shape, else None."""
    if "json" not in resp.headers.get("Content-Type", ""):
        return None
    try:
        doc = resp.json()
    except ValueError:
        return None
    return protocol.parse_error_body(doc)


def _reason(resp: requests.Response) -> str:
    shaped = server_error(resp)
    if shaped is not None:
        return f"HTTP {resp.status_code}: {shaped[1] or shaped[0]}"
    try:
        doc = resp.json()
        detail = doc.get("detail") or doc.get("error")
        if detail:
            return f"HTTP {resp.status_code}: {detail}"
    except (ValueError, AttributeError):
        pass
    text = resp.text.strip().replace("\n", " ")[:200]
    return f"HTTP {resp.status_code}: {text or resp.reason}"


def _foreign(resp: requests.Response) -> str:
    """last_error for a 4xx that the e-KTP server did not send."""
    text = resp.text.strip().replace("\n", " ")[:120]
    return (
        f"HTTP {resp.status_code} from something in the path that is not the e-KTP server "
        f"(a proxy limit, a captive portal?): {text or resp.reason}; will retry"
    )


class SyncEngine:
    def __init__(
        self,
        outbox: Outbox,
        *,
        server_url: str,
        station_id: str,
        signing_key: Ed25519PrivateKey,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        base_s: float = 1.0,
        cap_s: float = 300.0,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        batch: int = 32,
        parallel: int = 2,
        group_n: int = 32,
        group_s: float = 0.05,
        hold_reasons: frozenset[str] = frozenset(),
        server_verify_key: Ed25519PublicKey | None = None,
    ) -> None:
        if hold_reasons and not callable(getattr(outbox, "mark_held", None)):
            raise TypeError("hold_reasons needs an outbox with mark_held (HoldingOutbox)")
        # 403 error words that park the packet (outbox.mark_held) instead of stopping.
        self.hold_reasons = hold_reasons
        self.outbox = outbox
        self.server_url = server_url.rstrip("/")
        self.station_id = station_id
        self.signing_key = signing_key
        # The server's key: every answer acted on (a receipt, a refusal, the station's state)
        # must carry its signature (app.protocol). None: not known yet, nothing is acted on.
        self.server_verify_key = server_verify_key
        # Ours can be aborted (``abort()``); a caller's plain Session cannot.
        self.session = session or AbortableSession()
        # TLS: True (the system's trust store) or a pinned certificate file (app.sync.tls);
        # passed with each request, where no environment variable overrides it.
        self.verify: str | bool = True
        self.clock = clock
        # (server minus station seconds, measured at) of the last answer with a Date header.
        self.clock_offset: tuple[float, float] | None = None
        self.rng = rng or random.Random()
        self.base_s = base_s
        self.cap_s = cap_s
        self.timeout = timeout
        self.batch = batch
        self.parallel = max(1, parallel)
        # Group commit of "uploaded" marks: at most group_n receipts or group_s seconds per
        # store transaction, always flushed before a batch (and so the drain) returns.
        self.group_n = max(1, group_n)
        self.group_s = group_s

    # --- helpers --------------------------------------------------------------------------

    @property
    def aborted(self) -> bool:
        return bool(getattr(self.session, "aborted", False))

    def abort(self) -> bool:
        """Cut off the requests in flight, from any thread, and start no new one until
        ``resume()``. False when the session cannot be aborted (a caller's plain Session)."""
        abort = getattr(self.session, "abort", None)
        if abort is None:
            return False
        abort()
        return True

    def resume(self) -> None:
        resume = getattr(self.session, "resume", None)
        if resume is not None:
            resume()

    def now_dt(self, offset_s: float = 0.0) -> datetime:
        return datetime.fromtimestamp(self.clock() + offset_s, UTC)

    def backoff(self, attempts: int) -> float:
        """Full jitter: uniform(0, min(cap, base * 2**attempts)) (app/sync/backoff.py)."""
        return backoff(attempts, base_s=self.base_s, cap_s=self.cap_s, rng=self.rng)

    def request(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        content_type: str | None = None,
        timeout: tuple[float, float] | None = None,
    ) -> requests.Response:
        """One signed request; raises requests exceptions on network failure."""
        headers = protocol.sign_request(
            method, path, body, self.station_id, self.signing_key, now=self.clock()
        )
        if content_type:
            headers["Content-Type"] = content_type
        resp = self.session.request(
            method,
            self.server_url + path,
            data=body,
            headers=headers,
            timeout=timeout or self.timeout,
            verify=self.verify,
        )
        self._measure_clock(resp)
        return resp

    def _measure_clock(self, resp: requests.Response) -> None:
        """The clock's offset against the server, from the answer's Date header (whole
        seconds, truncated: the server's time lay in [Date, Date + 1 s)) against the middle
        of the round trip. Kept in ``clock_offset``: (server minus station s, when)."""
        try:
            server = parsedate_to_datetime(str(resp.headers.get("Date"))).timestamp()
        except (TypeError, ValueError, IndexError):
            return
        now = self.clock()
        middle = now - resp.elapsed.total_seconds() / 2
        self.clock_offset = (round(server + 0.5 - middle, 1), now)

    def check_answer(self, path: str, resp: requests.Response, content: bytes) -> None:
        """Raise SyncError (``server``: retried, nothing marked) unless ``resp`` is signed by
        the server's key for the request that was sent."""
        if self.server_verify_key is None:
            raise SyncError(
                "server",
                "the server's signing key is not known yet: its answers cannot be trusted; "
                "will retry",
            )
        nonce = str(resp.request.headers.get(protocol.H_NONCE, "")) if resp.request else ""
        method = str(resp.request.method) if resp.request else ""
        # The path as the server saw it: with a server URL that has a path of its own (a
        # wrong one, say), that prefix is part of it.
        seen = urlsplit(str(resp.request.url)).path if resp.request else path
        try:
            protocol.verify_response(
                method,
                unquote(seen) or path,
                nonce,
                resp.status_code,
                resp.headers,
                content,
                self.server_verify_key,
            )
        except protocol.AuthError as exc:
            shaped = server_error(resp) if resp.status_code == 401 else None
            if shaped is not None:
                # The server does not sign a 401 (docs/server.md): its reason (a clock off
                # by N s, say) is worth showing, though unproven; nothing is marked.
                raise SyncError(
                    "server", f"{_reason(resp)} (answer not signed); will retry"
                ) from exc
            raise SyncError("server", f"{exc}; nothing was marked, will retry") from exc

    def signed_json(self, method: str, path: str, doc: Any = None) -> Any:
        """A signed JSON call; raises SyncError on any failure."""
        body = b"" if doc is None else json.dumps(doc).encode()
        try:
            resp = self.request(method, path, body, "application/json" if body else None)
        except requests.RequestException as exc:
            raise SyncError("network", f"server unreachable: {exc.__class__.__name__}") from exc
        if resp.status_code >= 500 or resp.status_code in RETRY_STATUSES:
            raise SyncError(
                "server",
                _reason(resp),
                parse_retry_after(resp.headers.get("Retry-After"), self.clock()),
            )
        if resp.status_code >= 400 and server_error(resp) is None:
            raise SyncError("server", _foreign(resp))
        self.check_answer(path, resp, resp.content)
        if resp.status_code >= 400:
            raise SyncError("auth" if resp.status_code in (401, 403) else "config", _reason(resp))
        try:
            return resp.json()
        except ValueError as exc:
            raise SyncError("server", "server sent a reply that is not JSON") from exc

    def probe(self) -> bool:
        """Is the server reachable (unsigned health check)?"""
        try:
            resp = self.session.get(
                self.server_url + protocol.API_PREFIX + "/health",
                timeout=(self.timeout[0], min(self.timeout[1], 10.0)),
                verify=self.verify,
            )
        except requests.RequestException:
            return False
        return resp.status_code == 200

    # --- one packet -----------------------------------------------------------------------

    def send(self, item: Any) -> dict[str, Any]:
        """PUT one packet; returns the receipt or raises SyncError / _Rejected."""
        path = protocol.packet_path(item.uuid)
        try:
            resp = self.request("PUT", path, item.data, protocol.PACKET_CONTENT_TYPE)
            status = resp.status_code
            content = resp.content  # read it all here: a cut body raises now
        except requests.RequestException as exc:
            if self.aborted:
                raise Stopped(item.uuid) from exc
            raise SyncError("network", f"upload failed: {exc.__class__.__name__}") from exc
        if status in (200, 201):
            self.check_answer(path, resp, content)
            try:
                receipt = json.loads(content)
            except ValueError as exc:
                raise SyncError("server", "receipt is not JSON (reply cut short?)") from exc
            if not isinstance(receipt, dict) or receipt.get("sha256") != item.sha256:
                raise SyncError("server", "receipt does not carry this packet's SHA-256")
            if receipt.get("uuid") != item.uuid:
                raise SyncError("server", "receipt is for another packet")
            return receipt
        if status >= 500 or status in RETRY_STATUSES:
            raise SyncError(
                "server",
                _reason(resp),
                parse_retry_after(resp.headers.get("Retry-After"), self.clock()),
            )
        shaped = server_error(resp)
        if shaped is None:
            # Not the server's answer: it tells nothing about the packet. Retry later.
            raise SyncError(
                "server",
                _foreign(resp),
                parse_retry_after(resp.headers.get("Retry-After"), self.clock()),
            )
        self.check_answer(path, resp, content)
        if status in REJECT_STATUSES:
            raise Rejected(_reason(resp))
        if status == 403 and shaped[0] in self.hold_reasons:
            raise Held(f"{shaped[0]}: {shaped[1]}")
        raise SyncError("auth" if status in (401, 403) else "config", _reason(resp))

    # --- the queue ------------------------------------------------------------------------

    def _attempt(self, item: Any) -> dict[str, Any] | Rejected | Held | SyncError | Stopped:
        try:
            return self.send(item)
        except (Rejected, Held, SyncError, Stopped) as exc:
            return exc

    def drain(
        self,
        *,
        force: bool = False,
        should_stop: Callable[[], bool] | None = None,
        max_items: int | None = None,
        on_item: Callable[[Any, str], None] | None = None,
        on_recorded: Callable[[], None] | None = None,
    ) -> DrainResult:
        """Send due packets oldest-first until none is due, a failure, or ``should_stop``.

        ``on_item(item, outcome)`` follows each recorded outcome (uploaded, rejected, held,
        retry); ``on_recorded()`` follows each store write of outcomes (a group of receipts is
        one write), when the store agrees with every ``on_item`` so far: the moment to count
        what is left (mid-group, the store is ahead of the ``on_item`` calls).

        ``force`` also sends packets whose backoff has not elapsed (the server just became
        reachable again, or a technician asked for a sync). With ``parallel`` > 1 that many
        uploads are in flight at once on the session's keep-alive connections, in queue
        order; outcomes are recorded in order on the calling thread (the store is written
        from one thread only).
        """
        result = DrainResult()
        seen: set[str] = set()
        pool = ThreadPoolExecutor(self.parallel) if self.parallel > 1 else None
        try:
            while True:
                if should_stop is not None and should_stop():
                    return result
                # Forced: every sealed packet, however far off its persisted next attempt (one
                # set under a station clock that was ahead can lie days in the future).
                due_at = FOREVER if force else self.now_dt()
                items = list(self.outbox.due(due_at, self.batch))
                items = [i for i in items if i.uuid not in seen]
                if max_items is not None:
                    done = result.uploaded + result.rejected + result.held
                    items = items[: max(0, max_items - done)]
                if not items:
                    return result
                seen.update(i.uuid for i in items)
                # One packet (the usual case right after a seal): no thread hand-off.
                use = pool if len(items) > 1 else None
                if not self._drain_batch(items, use, result, should_stop, on_item, on_recorded):
                    return result
        finally:
            if pool is not None:
                pool.shutdown(wait=True)

    def _drain_batch(
        self,
        items: list[Any],
        pool: ThreadPoolExecutor | None,
        result: DrainResult,
        should_stop: Callable[[], bool] | None,
        on_item: Callable[[Any, str], None] | None,
        on_recorded: Callable[[], None] | None = None,
    ) -> bool:
        """Send one batch; False when the drain must end (failure or stop)."""
        pending = iter(items)
        inflight: deque[tuple[Any, Future[Any] | None]] = deque()
        stopping = False
        receipts = ReceiptGroup(
            self._mark_uploaded, self.group_n, self.group_s, result, on_item, on_recorded
        )

        def recorded(item: Any, outcome: str) -> None:
            if on_item:
                on_item(item, outcome)
            if on_recorded:
                on_recorded()

        def submit_next() -> None:
            item = next(pending, None)
            if item is not None:
                inflight.append((item, pool.submit(self._attempt, item) if pool else None))

        try:
            for _ in range(self.parallel):
                submit_next()
            while inflight:
                item, fut = inflight.popleft()
                outcome = fut.result() if fut is not None else self._attempt(item)
                if isinstance(outcome, Stopped | Rejected | Held | SyncError):
                    if self._record_unsent(item, outcome, result, receipts.flush, recorded):
                        stopping = True
                else:
                    # Only a receipt that send() checked (sha256 and uuid match) gets here.
                    receipts.add(item, outcome)
                if should_stop is not None and should_stop():
                    stopping = True
                if not stopping:
                    submit_next()  # keep the uploads going while the marks are written
                if receipts.group_due():
                    receipts.flush()
        finally:
            # Also on an exception or a stop: every receipt in hand is recorded before return.
            # (A crash before this point loses only marks; those records are sent again and
            # the idempotent server answers 200 with the same receipt.)
            receipts.flush()
        return not stopping

    def _record_unsent(
        self,
        item: Any,
        outcome: Stopped | Rejected | Held | SyncError,
        result: DrainResult,
        flush: Callable[[], None],
        recorded: Callable[[Any, str], None],
    ) -> bool:
        """Record an outcome that is not a receipt (the receipts in hand first); True when
        the drain must stop."""
        if isinstance(outcome, Stopped):
            # Cut off by abort(): nothing is known of it, so nothing is marked.
            return True
        flush()
        if isinstance(outcome, Rejected):
            self.outbox.mark_rejected(item.uuid, outcome.reason)
            result.rejected += 1
            recorded(item, "rejected")
            return False
        if isinstance(outcome, Held):
            self.outbox.mark_held(item.uuid, outcome.reason)  # type: ignore[attr-defined]
            result.held += 1
            recorded(item, "held")
            return False
        wait = self.backoff(int(item.attempts))
        if outcome.retry_after is not None:
            wait = max(wait, outcome.retry_after)
        if outcome.kind in ("network", "server"):
            self.outbox.mark_retry(item.uuid, outcome.message, self.now_dt(wait))
        if result.error is None:
            result.error = outcome
        recorded(item, "retry")
        return True

    def _mark_uploaded(self, group: list[tuple[Any, dict[str, Any]]]) -> None:
        many = getattr(self.outbox, "mark_uploaded_many", None)
        if many is not None:
            many([(item.uuid, receipt) for item, receipt in group])
            return
        for item, receipt in group:
            self.outbox.mark_uploaded(item.uuid, receipt)


class Rejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Stopped(Exception):
    """The upload was cut off by ``abort()``: the packet is left as it was."""


class Held(Exception):
    """The server refused this packet for its origin station (a relay's forwarder only)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
