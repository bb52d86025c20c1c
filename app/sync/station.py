"""The station's side of sync: the engine over the station store, plus what surrounds it.

``StationSync`` ties the SyncEngine to the store's Outbox and identity, keeps the sync figures
(``SyncStateFile``), pulls the station's assignment, purges uploaded payloads after the
retention period and checks the falling-behind policy. ``once()`` is ``sync --once``;
``worker()`` is the background worker the UI starts.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import requests

from app import packet, protocol
from app.store.backlog import BacklogState, check_backlog_policy
from app.store.central import store_verifier
from app.store.db import Store
from app.store.outbox import Outbox, PendingStats
from app.store.settings import load_settings
from app.store.station import (
    get_identity,
    set_assignment,
    set_server_sealing_key,
    set_server_signing_key,
)
from app.store.timeutil import utcnow
from app.sync import kit_report
from app.sync import policy as central_policy
from app.sync.engine import DEFAULT_TIMEOUT, DrainResult, SyncEngine, SyncError
from app.sync.pull import FatesStep, PullCycle
from app.sync.serverkey import learn_server_key
from app.sync.state import SyncStateFile
from app.sync.tls import verify_for
from app.sync.worker import Progress, SyncState, SyncWorker


class NotProvisioned(Exception):
    """The station has no identity or no server URL yet."""


@dataclass(frozen=True)
class OnceResult:
    uploaded: int
    rejected: int  # in this run
    remaining: int  # not at the server: still sealed, or rejected (now or before)
    error: str | None
    rejected_waiting: int = 0  # of ``remaining``: wait for a technician's `requeue`


class StationSync:
    def __init__(
        self,
        store: Store,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        base_s: float = 1.0,
        cap_s: float = 300.0,
        rng: random.Random | None = None,
        server_url: str | None = None,
    ) -> None:
        identity = get_identity(store)
        if identity is None:
            raise NotProvisioned("station is not initialized: run `provision` (or `init`)")
        url = server_url or identity.server_url
        if not url:
            raise NotProvisioned("no server URL: run `provision --server URL --code CODE`")
        self.store = store
        self.identity = identity
        self.clock = clock
        self.outbox = Outbox(store)
        self.engine = SyncEngine(
            self.outbox,
            server_url=url,
            station_id=identity.station_id,
            signing_key=identity.signing_key,
            session=session,
            clock=clock,
            rng=rng,
            base_s=base_s,
            cap_s=cap_s,
            timeout=timeout,
            server_verify_key=identity.server_verify_key,
        )
        self.engine.verify = verify_for(store.home)  # a certificate the technician pinned
        self.state = SyncStateFile(store.home)
        self._kept_offset: tuple[float, float] | None = None
        # What the station asks the centre for after a drain and on its interval (pull.py).
        self.pull = PullCycle([FatesStep(self.engine, store)], clock=clock)

    @property
    def server_url(self) -> str:
        return self.engine.server_url

    # --- the server's signing key ------------------------------------------------------------

    def ensure_server_key(self) -> None:
        """A station provisioned before the server signed its answers learns its key once
        (app.sync.serverkey) and stores it; raises SyncError when it cannot yet."""
        if self.engine.server_verify_key is not None:
            return
        key_b64 = learn_server_key(self.engine, self.identity.server_public_key)
        set_server_signing_key(self.store, key_b64, "sync")

    # --- one drain, recorded ----------------------------------------------------------------

    def drain(
        self,
        *,
        force: bool = False,
        should_stop: Callable[[], bool] | None = None,
        on_item: Callable[[Any, str], None] | None = None,
        on_recorded: Callable[[], None] | None = None,
        max_items: int | None = None,
    ) -> DrainResult:
        exposure: list[float] = []

        def item_done(item: Any, outcome: str) -> None:
            if outcome == "uploaded":
                exposure.append(max(0.0, self.clock() - item.sealed_at.timestamp()))
            if on_item is not None:
                on_item(item, outcome)

        try:
            self.ensure_server_key()
        except SyncError as err:
            self.state.update(now=self.clock(), error=err.message)
            return DrainResult(error=err)
        result = self.engine.drain(
            force=force,
            should_stop=should_stop,
            on_item=item_done,
            on_recorded=on_recorded,
            max_items=max_items,
        )
        self._keep_clock_offset()
        if result.uploaded or result.rejected or result.error is not None:
            self.state.update(
                now=self.clock(),
                uploaded=result.uploaded,
                rejected=result.rejected,
                exposure=exposure,
                error=result.error.message if result.error else None,
            )
        return result

    def _keep_clock_offset(self) -> None:
        """Into the sync state, when a new answer measured it (app.sync.state.last_clock_offset
        reads it back: `status`, kit health)."""
        measured, kept = self.engine.clock_offset, self._kept_offset
        if measured is None:
            return
        # Not a file write per upload: when it moved, or every 5 minutes.
        if kept is None or abs(measured[0] - kept[0]) >= 0.5 or measured[1] - kept[1] >= 300:
            self.state.record_clock_offset(*measured)
            self._kept_offset = measured

    def drain_then_pull(self, **kwargs: Any) -> DrainResult:
        """A drain, then the pull cycle when the drain uploaded something (the centre's
        ``received`` is waiting), was forced ("Kirim sekarang", back online) or the pull is
        due; not while the server is unreachable."""
        result = self.drain(**kwargs)
        should_stop = kwargs.get("should_stop")
        if should_stop is not None and should_stop():
            return result  # the worker is stopping: no pull cycle after it
        reachable = result.error is None or result.error.kind != "network"
        if reachable and (result.uploaded or kwargs.get("force") or self.pull.due()):
            self.run_pull()
            if result.uploaded:
                self.pull.follow_up()
        return result

    def run_pull(self) -> dict[str, Any]:
        try:
            self.ensure_server_key()
        except SyncError as err:
            return {"server_key": err}
        return self.pull.run()

    # --- around the drain -------------------------------------------------------------------

    def pull_assignment(self) -> dict[str, Any]:
        """Ask the server for this station's kecamatan, policy and role (a card-check station:
        ``verifier``); adopt them when they changed. Moves made offline are reported first (app/sync/kit_report.py)."""
        self.ensure_server_key()
        for step in kit_report.BEFORE_ASSIGNMENT:
            step(self)
        doc = self.engine.signed_json("GET", protocol.API_PREFIX + "/station")
        self._keep_clock_offset()
        if doc.get("revoked"):
            raise SyncError("auth", "this station has been revoked by the central office")
        kecamatan = str(doc.get("kecamatan") or "")
        self._adopt_rotated_key(doc)
        current = get_identity(self.store)
        if kecamatan and current is not None and kecamatan != current.kecamatan:
            set_assignment(self.store, kecamatan, "server", "assigned by the server")
        central_policy.apply(self.store, doc)
        verifier = doc.get("verifier")
        if isinstance(verifier, bool):  # absent from a server of an earlier release
            store_verifier(self.store, verifier)
        return dict(doc)

    def _adopt_rotated_key(self, doc: dict[str, Any]) -> None:
        """The server rotated its sealing key (`ektp-server keys rotate`) and names the new
        one in its signed answer: seal to it from now on. Only to a hybrid (ML-KEM-768 +
        X25519) key, never back to X25519 alone (a node not yet restarted names the old)."""
        pem, kid = doc.get("server_key_pem"), doc.get("server_key_id")
        if not isinstance(pem, str) or kid == packet.key_id(self.identity.server_public_key):
            return
        try:
            key = packet.load_sealing_public_key(pem.encode())
        except packet.PacketError:
            return
        if packet.key_id(key) != kid or packet.suite_of(key) != packet.SUITE_HYBRID:
            return
        set_server_sealing_key(self.store, packet.sealing_public_key_pem(key), "server")
        self.identity = get_identity(self.store) or self.identity

    def report_to_centre(self) -> list[str]:
        """Health and audit events to the centre (app/sync/kit_report.py); the errors."""
        return kit_report.report(self)

    def purge(self) -> int:
        days = load_settings(self.store).retention_days  # capped (MAX_RETENTION_DAYS)
        return self.outbox.purge(utcnow() - timedelta(days=days))

    def backlog(self) -> BacklogState:
        return check_backlog_policy(self.store)

    def pending(self) -> tuple[int, int, int]:
        """(records, bytes, rejected) not yet at the server, rejected ones included in the
        records: the light must not say "all sent" while rejected records wait for a
        technician; and the third figure keeps them out of "sending N of M" (the worker does
        not send them)."""
        p = self.outbox.pending()
        return p.count, p.bytes, p.rejected

    # --- sync --once ------------------------------------------------------------------------

    def once(self, deadline_s: float = 600.0) -> OnceResult:
        """Send everything now (ignoring backoff): the technician asked for it."""
        end = time.monotonic() + deadline_s
        if not self.engine.probe():
            msg = f"server unreachable at {self.server_url}"
            self.state.update(now=self.clock(), error=msg)
            return self._result(0, 0, msg)
        error: str | None = None
        try:
            self.pull_assignment()
        except SyncError as err:
            if err.kind == "auth":
                self.state.update(now=self.clock(), error=err.message)
                return self._result(0, 0, err.message)
            error = err.message
        uploaded = rejected = 0
        while time.monotonic() < end:
            result = self.drain(force=True, should_stop=lambda: time.monotonic() >= end)
            uploaded += result.uploaded
            rejected += result.rejected
            if result.error is not None:
                error = result.error.message
                break
            if not (result.uploaded or result.rejected):
                break
        # The fates: the centre's `received` ends the payloads' wait for the purge.
        self.run_pull()
        self.purge()
        self.report_to_centre()
        return self._result(uploaded, rejected, error)

    def _result(self, uploaded: int, rejected: int, error: str | None) -> OnceResult:
        p = self.outbox.pending()
        return OnceResult(uploaded, rejected, p.count, error, p.rejected)

    # --- the background worker ----------------------------------------------------------------

    def worker(
        self,
        *,
        on_progress: Callable[[Progress], None] | None = None,
        on_state: Callable[[SyncState], None] | None = None,
        on_backlog: Callable[[BacklogState], None] | None = None,
        interval_s: float = 30.0,
        maintenance_interval_s: float = 300.0,
        offline_cap_s: float = 60.0,
        min_wait_s: float = 0.2,
    ) -> SyncWorker:
        def backlog_task() -> None:
            state = self.backlog()
            if on_backlog is not None:
                on_backlog(state)

        return SyncWorker(
            self.engine,
            interval_s=interval_s,
            maintenance_interval_s=maintenance_interval_s,
            offline_cap_s=offline_cap_s,
            min_wait_s=min_wait_s,
            pending=self.pending,
            maintenance=[self.pull_assignment, self.purge, backlog_task, self.report_to_centre],
            on_progress=on_progress,
            on_state=on_state,
            drain=self.drain_then_pull,
            clock=self.clock,
        )


def _iso_ts(ts: float | None) -> str | None:
    from datetime import UTC, datetime

    from app.store.timeutil import iso

    return None if ts is None else iso(datetime.fromtimestamp(ts, UTC))


def sync_summary(store: Store, pending: PendingStats, alone: PendingStats) -> dict[str, Any]:
    """The ``sync`` part of ``status --json``: last success/error, backlog, exposure window.

    ``pending`` = ``Outbox.pending()``; ``alone`` = ``Outbox.unsent_unexported()``: the records
    not at the server (sealed or rejected) and never exported, which live in one place only
    unless mirrored. The caller (``status``) has read both already."""
    from app.store.timeutil import iso

    st = SyncStateFile(store.home).load()
    nxt = Outbox(store).next_attempt_at() if pending.sendable else None
    oldest_age = (
        None
        if alone.oldest_sealed_at is None
        else round((utcnow() - alone.oldest_sealed_at).total_seconds(), 3)
    )
    mirrored = load_settings(store).mirror_dir is not None
    return {
        "last_success_at": _iso_ts(st.last_success_at),
        "last_attempt_at": _iso_ts(st.last_attempt_at),
        "last_error": st.last_error,
        "last_error_at": _iso_ts(st.last_error_at),
        "uploaded_total": st.uploaded_total,
        "rejected_total": st.rejected_total,
        "backlog": {
            "records": pending.count,
            "rejected": pending.rejected,
            "bytes": pending.bytes,
            "oldest_sealed_at": None
            if pending.oldest_sealed_at is None
            else iso(pending.oldest_sealed_at),
        },
        "next_attempt_at": None if nxt is None else iso(nxt),
        # server minus station seconds (+: the station is behind), last measured during sync
        "clock_offset_s": st.clock_offset_s,
        "clock_offset_measured_at": _iso_ts(st.clock_offset_at),
        "exposure_window": {
            # seal-to-receipt of recent uploads (the exposure window while online)
            **st.exposure_figures(),
            # how long the oldest unsent record has existed in one place only (0 with a mirror)
            "current_s": 0.0 if mirrored or oldest_age is None else oldest_age,
        },
    }
