"""The relay's pull: the upstream's state of the stations this relay vouched for
(``GET /api/v1/relay/stations``), applied here at start, periodically and after forwarding
(docs/server.md, "Station state from the upstream")."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app import protocol
from app.background import HttpLoop
from app.sync.backoff import backoff
from app.sync.engine import SyncEngine, SyncError
from server import db, kit_relay
from server.core import InputError, ServerCore, check_kecamatan, iso
from server.labels import record_assignment
from server.relay_outbox import revoke_here

log = logging.getLogger(__name__)


# server_meta keys of the station-state pull (shown by `relay status`).
PULL_AT = "upstream_pull_at"  # epoch s of the last successful pull
PULL_ERROR = "upstream_pull_error"  # why the last attempt failed; "" after a success
PULL_ERROR_AT = "upstream_pull_error_at"
PULL_UNLISTED = "upstream_pull_unlisted"  # JSON: registered from here, not ours upstream
RELAY_STATIONS_PATH = protocol.API_PREFIX + "/relay/stations"
DEFAULT_PULL_INTERVAL_S = 180.0


@dataclass(frozen=True)
class PullResult:
    """What one pull changed here."""

    assigned: list[tuple[str, str, str]]  # (station, kecamatan before, kecamatan now)
    revoked: list[str]
    # Registered upstream from here, but the upstream does not list them as this relay's
    # (a kit another relay registered first, or one enrolled there directly): left untouched.
    unlisted: list[str]
    unknown: list[str]  # listed upstream as this relay's, not known here: nothing to do


def _epoch(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


def apply_upstream_state(core: ServerCore, doc: Any) -> PullResult:
    """Apply the upstream's answer to ``GET /relay/stations`` to this relay's station table.

    The central office decides: a listed station whose kecamatan differs here takes the
    upstream's (its next assignment pull from this relay gets it), and a station revoked
    there is revoked here (``revoke_here``, as when a forwarded packet is refused). Nothing
    else is changed: stations not listed are left as they are."""
    entries = doc.get("stations") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise SyncError("server", "the upstream's station list is not readable (no 'stations')")
    kit_relay.take_policies(core.engine, entries)  # each kit's central policy (issue 12)
    here = {st.id: st for st in core.list_stations()}
    assigned: list[tuple[str, str, str]] = []
    revoked: list[str] = []
    unknown: list[str] = []
    listed: set[str] = set()
    for entry in entries:
        sid = entry.get("station_id") if isinstance(entry, dict) else None
        if not isinstance(sid, str):
            log.warning("upstream station list: an entry without a station id: %r", entry)
            continue
        listed.add(sid)
        st = here.get(sid)
        if st is None:
            unknown.append(sid)
            continue
        if entry.get("revoked") is True and revoke_here(core, sid, "pulled from the upstream"):
            revoked.append(sid)
        kecamatan = entry.get("kecamatan")
        if not isinstance(kecamatan, str) or kecamatan == st.kecamatan:
            continue
        try:
            check_kecamatan(kecamatan, "kecamatan")
        except InputError as exc:
            log.warning("upstream assignment of station %s not taken: %s", sid, exc)
            continue
        when = _epoch(entry.get("assigned_at")) or time.time()
        with core.engine.begin() as conn:
            conn.execute(
                db.stations.update()
                .where(db.stations.c.id == sid)
                .values(kecamatan=kecamatan, assigned_at=when)
            )
            # The kit's packets sealed with it from then on are checked against it
            # (server/labels.py).
            record_assignment(conn, sid, kecamatan, when)
        assigned.append((sid, st.kecamatan, kecamatan))
        log.warning(
            "station %s assigned to kecamatan %s by the upstream (was %s here)",
            sid,
            kecamatan,
            st.kecamatan,
        )
    unlisted = sorted(
        st.id
        for st in here.values()
        if st.row["upstream_registered_at"] is not None and st.id not in listed
    )
    if unlisted:
        log.info(
            "stations registered upstream from here that the upstream does not list as this "
            "relay's (left as they are): %s",
            ", ".join(unlisted),
        )
    return PullResult(assigned, revoked, unlisted, sorted(unknown))


class RelayPuller(HttpLoop):
    """Pulls the central state of the stations this relay vouched for, and applies it.

    At start, then every ``interval_s``, and soon after the forwarder talked to the upstream
    (``nudge()``, at most once per ``nudge_gap_s``). An unreachable or refusing upstream is
    logged and recorded (``relay status``) and retried with jittered backoff (at most
    ``interval_s`` apart); the relay goes on serving its stations meanwhile.
    """

    thread_name = "ektp-relay-pull"

    def __init__(
        self,
        core: ServerCore,
        engine: SyncEngine,
        *,
        interval_s: float = DEFAULT_PULL_INTERVAL_S,
        retry_cap_s: float = 60.0,
        nudge_gap_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        before_pull: Callable[[], None] | None = None,
        steps: list[Callable[[], Any]] | None = None,
    ) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be positive")
        self.core = core
        self.engine = engine
        self.before_pull = before_pull  # e.g. learn the upstream's signing key first
        # After the station state, in order: the kits' fates, the purge (server/relay_fates).
        self.steps = list(steps or [])
        self.interval_s = interval_s
        self.retry_cap_s = retry_cap_s
        self.nudge_gap_s = min(interval_s, 30.0) if nudge_gap_s is None else nudge_gap_s
        self.clock = clock
        self.rng = rng or random.Random()
        self.failures = 0
        super().__init__()

    def pull_once(self) -> PullResult:
        """One pull; raises SyncError when the upstream cannot be asked or refuses."""
        if self.before_pull is not None:
            self.before_pull()
        # What the kits reported here goes up first (issue 12, server/kit_relay.py).
        kit_relay.forward_up(self.core, self.engine)
        doc = self.engine.signed_json("GET", RELAY_STATIONS_PATH)
        if isinstance(doc, dict) and doc.get("relay_station_id") not in (
            None,
            self.engine.station_id,
        ):
            raise SyncError("server", "the upstream answered for another relay")
        result = apply_upstream_state(self.core, doc)
        self.core.meta_set(
            {
                PULL_AT: repr(time.time()),
                PULL_ERROR: "",
                PULL_UNLISTED: json.dumps(result.unlisted),
            }
        )
        for step in self.steps:
            step()
        return result

    def attempt(self) -> bool:
        """One pull that never raises: a failure is logged and recorded; False then."""
        try:
            self.pull_once()
        except Exception as exc:  # the thread must go on whatever the upstream or DB did
            message = exc.message if isinstance(exc, SyncError) else f"{type(exc).__name__}: {exc}"
            if isinstance(exc, SyncError):
                log.warning("pulling station state from the upstream failed: %s", message)
            else:
                log.exception("pulling station state from the upstream failed")
            try:
                self.core.meta_set({PULL_ERROR: message, PULL_ERROR_AT: repr(time.time())})
            except Exception:
                log.exception("could not record the pull failure")
            self.failures += 1
            return False
        self.failures = 0
        return True

    def _retry_wait(self) -> float:
        cap = min(self.interval_s, self.retry_cap_s)
        return backoff(self.failures, base_s=0.5, cap_s=cap, rng=self.rng, jitter="equal")

    def _run(self) -> None:
        next_at = self.clock()  # on start
        last = next_at - self.nudge_gap_s
        while not self._stop.is_set():
            if self.clock() >= next_at:
                ok = self.attempt()
                last = self.clock()
                next_at = last + (self.interval_s if ok else self._retry_wait())
            self._wake.wait(max(0.0, next_at - self.clock()))
            if self._wake.is_set():
                self._wake.clear()
                next_at = min(next_at, last + self.nudge_gap_s)

    def nudge(self) -> None:
        """The forwarder just talked to the upstream: pull soon (rate-limited)."""
        self._wake.set()


def pull_status(core: ServerCore) -> dict[str, Any]:
    """The pull's state for `relay status`."""

    def when(key: str) -> str | None:
        value = core.meta_get(key)
        return iso(float(value)) if value else None

    error = core.meta_get(PULL_ERROR) or None
    unlisted = json.loads(core.meta_get(PULL_UNLISTED) or "[]")
    return {
        "last_success_at": when(PULL_AT),
        "error": error,
        "error_at": when(PULL_ERROR_AT) if error else None,
        "unlisted_stations": unlisted,
    }
