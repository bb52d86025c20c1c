"""Kecamatan relay: forward the packets this server received, unchanged, to an upstream.

The relay is itself a station of the upstream (provisioned with a one-time code made there),
with its own Ed25519 key in the home. Stations enrolled at the relay get the upstream's sealing
key, so the relay can route their packets but never read them. Before forwarding a station's
packets the relay registers that station upstream (``POST /api/v1/stations/vouch``, signed by
the relay): the upstream then accepts packets signed by the original station when the relay
uploads them, and still checks that original signature.

Forwarding uses the station's own SyncEngine over ``RelayOutbox`` (the packets table), so
retry, backoff and receipt checks are identical to a station's.

One station's trouble never stops the others: a station the upstream refuses to register
keeps the reason on its row (``upstream_error``), and a packet the upstream refuses for its
station (403 foreign_station / unknown_station / station_revoked) is parked
(``fwd_status = held`` + reason) while the drain goes on. A held packet returns to the queue
when its station's registration next succeeds, or with ``relay requeue``.

The central office manages the relay's kits at the upstream (assignment, revocation); the kits
ask the relay. ``RelayPuller`` pulls the upstream's state of the stations this relay vouched
for (``GET /api/v1/relay/stations``) at start, periodically and after forwarding, and applies
it here (``apply_upstream_state``); docs/server.md, "Station state from the upstream".
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import and_, exists, func, select

from app import packet as pkt
from app import protocol
from app.sync import tls
from app.sync.engine import DrainResult, SyncEngine, SyncError
from app.sync.provision import InvalidServerUrl, check_server_url, enroll
from app.sync.serverkey import learn_server_key
from app.sync.worker import SyncWorker
from server import db, kit_relay
from server.core import InputError, ServerCore, ServiceError, check_kecamatan, iso
from server.keys import load_or_create_relay_key
from server.labels import record_assignment

log = logging.getLogger(__name__)


# 403 reasons of the upstream that refuse a forwarded packet for its station, not the relay.
HOLD_REASONS = frozenset({"foreign_station", "unknown_station", "station_revoked"})


@dataclass(frozen=True)
class RelayItem:
    uuid: str
    data: bytes
    sha256: str
    size: int
    attempts: int
    sealed_at: str


class RelayOutbox:
    """The Outbox interface over the relay's packets table (fwd_* columns)."""

    def __init__(self, core: ServerCore) -> None:
        self.core = core
        # A uuid is unique per station only (schema 4): the engine names a packet by its
        # uuid, so each uuid handed out is mapped to its station for the mark_* calls, and
        # a batch holds one packet per uuid (another station's packet with the same uuid
        # goes in a later drain).
        self._station_of: dict[str, str] = {}

    def due(self, now: datetime, limit: int) -> list[RelayItem]:
        c = db.packets.c
        s = db.stations.c
        # Not the packets of a station enrolled here that is not registered upstream (yet, or
        # again: a kit re-enrolled with a new key; or refused there): the upstream would
        # refuse them, for good when it holds the station with an older key (400
        # bad_signature). They wait for register_stations (held when it is refused).
        unregistered = exists().where(
            s.id == c.station_id, s.public_key.is_not(None), s.upstream_registered_at.is_(None)
        )
        with self.core.engine.begin() as conn:
            rows = conn.execute(
                select(c.uuid, c.data, c.sha256, c.size, c.fwd_attempts, c.sealed_at, c.station_id)
                .where(
                    and_(c.fwd_status == "pending", c.fwd_next_at <= now.timestamp()),
                    ~unregistered,
                )
                .order_by(c.received_at, c.station_id, c.uuid)
                .limit(limit)
            ).all()
        if len(self._station_of) > 100_000:
            self._station_of.clear()
        items: dict[str, RelayItem] = {}
        for r in rows:
            if r[0] not in items:
                items[r[0]] = RelayItem(r[0], bytes(r[1]), r[2], r[3], r[4], r[5])
                self._station_of[r[0]] = r[6]
        return list(items.values())

    def _where(self, uuid: str) -> list[Any]:
        station_id = self._station_of.get(uuid)
        c = db.packets.c
        return [c.uuid == uuid] + ([c.station_id == station_id] if station_id else [])

    def _update(self, uuid: str, **values: Any) -> None:
        with self.core.engine.begin() as conn:
            conn.execute(db.packets.update().where(*self._where(uuid)).values(**values))

    def mark_uploaded(self, uuid: str, receipt: dict[str, Any]) -> None:
        self._update(uuid, fwd_status="uploaded", fwd_receipt=json.dumps(receipt), fwd_error=None)

    def mark_retry(self, uuid: str, error: str, next_attempt_at: datetime) -> None:
        self._update(
            uuid,
            fwd_attempts=db.packets.c.fwd_attempts + 1,
            fwd_error=error,
            fwd_next_at=next_attempt_at.timestamp(),
        )

    def mark_rejected(self, uuid: str, reason: str) -> None:
        self._update(uuid, fwd_status="rejected", fwd_error=reason)

    def mark_held(self, uuid: str, reason: str) -> None:
        """The upstream refused this packet for its station: parked until released.

        When the reason is that the central office revoked the station (a stolen kit), the
        relay revokes it too: the kit's next upload here is refused with "revoked", as it
        would be at the central server, instead of getting receipts for records that can
        never arrive. Its packets already here stay held."""
        log.warning("packet %s held: the upstream refused it (%s)", uuid, reason)
        # What follows from the refusal is written before the packet is parked: a kill -9 in
        # between leaves the packet queued (sent again, refused again), never parked with
        # nothing that would ever release it.
        self._after_refusal(uuid, reason.split(":", 1)[0])
        self._update(uuid, fwd_status="held", fwd_error=reason)

    def _after_refusal(self, uuid: str, word: str) -> None:
        if word not in ("station_revoked", "unknown_station"):
            return
        with self.core.engine.begin() as conn:
            station_id = conn.execute(
                select(db.packets.c.station_id).where(*self._where(uuid)).limit(1)
            ).scalar_one_or_none()
        if station_id is None:
            return
        if word == "station_revoked":
            revoke_here(self.core, station_id, f"a forwarded packet ({uuid}) was refused")
            return
        # The upstream does not know a station registered from here (its database restored
        # from an older backup): register it again (register_stations), which puts its held
        # packets back in the queue; until then its packets wait (due). Only `relay requeue`
        # would otherwise send them, to be refused the same way.
        s = db.stations.c
        with self.core.engine.begin() as conn:
            again = conn.execute(
                db.stations.update()
                .where(
                    s.id == station_id,
                    s.public_key.is_not(None),
                    s.upstream_registered_at.is_not(None),
                )
                .values(upstream_registered_at=None)
            ).rowcount
        if again:
            log.warning(
                "station %s: the upstream no longer knows it; registering it there again",
                station_id,
            )

    def hold_station(self, station_id: str, reason: str) -> int:
        """Park every queued packet of a station the upstream refused to register."""
        c = db.packets.c
        with self.core.engine.begin() as conn:
            return int(
                conn.execute(
                    db.packets.update()
                    .where(c.station_id == station_id, c.fwd_status == "pending")
                    .values(fwd_status="held", fwd_error=reason)
                ).rowcount
            )

    def release_held(self, station_id: str | None = None) -> int:
        """Held packets (of one station, or all) back to the queue; returns how many."""
        c = db.packets.c
        cond = [c.fwd_status == "held"]
        if station_id is not None:
            cond.append(c.station_id == station_id)
        with self.core.engine.begin() as conn:
            return int(
                conn.execute(
                    db.packets.update()
                    .where(*cond)
                    .values(fwd_status="pending", fwd_next_at=time.time(), fwd_attempts=0)
                ).rowcount
            )

    def held(self) -> list[dict[str, Any]]:
        c = db.packets.c
        with self.core.engine.begin() as conn:
            rows = conn.execute(
                select(c.uuid, c.station_id, c.fwd_error)
                .where(c.fwd_status == "held")
                .order_by(c.received_at, c.uuid)
            ).all()
        return [{"uuid": u, "station": s, "reason": r} for u, s, r in rows]

    def pending(self) -> tuple[int, int]:
        c = db.packets.c
        with self.core.engine.begin() as conn:
            row = conn.execute(
                select(func.count(), func.coalesce(func.sum(c.size), 0)).where(
                    c.fwd_status == "pending"
                )
            ).one()
        return int(row[0]), int(row[1])

    def counts(self) -> dict[str, int]:
        c = db.packets.c
        with self.core.engine.begin() as conn:
            rows = conn.execute(select(c.fwd_status, func.count()).group_by(c.fwd_status)).all()
        return {str(s): int(n) for s, n in rows if s is not None}


def revoke_here(core: ServerCore, station_id: str, how: str) -> bool:
    """The upstream revoked ``station_id``: revoke it on this relay too (logged), so the kit's
    uploads here are refused with "revoked" as they would be centrally. Its packets already
    here are kept and still offered upstream, which decides. True when it was revoked now."""
    st = core.find_station(station_id)
    if st is None or st.revoked:
        return False
    core.revoke(station_id)
    log.warning("station %s revoked here: the upstream revoked it (%s)", station_id, how)
    return True


# server_meta: the upstream's signing key (base64); its answers are checked with it. Missing
# on a relay provisioned before the upstream signed its answers: learned once, through the
# upstream's sealing key (app.sync.serverkey).
UPSTREAM_SIGNING_KEY = "upstream_signing_key"
UPSTREAM_CA_FILE = "upstream-ca.pem"  # `relay provision --ca-file`: the upstream's certificate


def upstream_verify_key(core: ServerCore) -> Ed25519PublicKey | None:
    value = core.meta_get(UPSTREAM_SIGNING_KEY)
    return pkt.load_signing_public_key_b64(value) if value else None


def forward_key_challenge(core: ServerCore, station: Any, challenge: str) -> dict[str, Any]:
    """A station enrolled here, provisioned before servers signed their answers, learns this
    relay's signing key: its challenge is sealed to the central key, so the centre opens it
    and vouches for the key this relay is registered with there (its signing key). The
    centre's answer is checked like every answer from it, then handed to the station."""
    station_id = core.meta_get("upstream_station_id")
    url = core.meta_get("upstream_url")
    if not station_id or not url:
        raise ServiceError(503, "this relay is not provisioned at its upstream yet")
    engine = SyncEngine(
        RelayOutbox(core),
        server_url=url,
        station_id=station_id,
        signing_key=load_or_create_relay_key(core.home),
        timeout=(5.0, 15.0),
        server_verify_key=upstream_verify_key(core),
    )
    engine.verify = tls.verify_for(core.home, UPSTREAM_CA_FILE)
    if engine.server_verify_key is None:
        try:
            sealing = pkt.load_sealing_public_key(
                str(core.meta_get("upstream_sealing_key")).encode()
            )
            core.meta_set({UPSTREAM_SIGNING_KEY: learn_server_key(engine, sealing)})
        except SyncError as err:
            raise ServiceError(503, f"the upstream cannot be asked now: {err.message}") from err
    try:
        doc = engine.signed_json(
            "POST", protocol.RELAY_KEY_PATH, {"station_id": station.id, "challenge": challenge}
        )
    except SyncError as err:
        if err.kind in ("network", "server"):
            raise ServiceError(503, f"the upstream cannot be asked now: {err.message}") from err
        raise ServiceError(409, f"the upstream refused: {err.message}", "upstream_refused") from err
    if not isinstance(doc, dict):
        raise ServiceError(503, "the upstream's answer is malformed")
    return dict(doc)


def provision(
    core: ServerCore,
    upstream_url: str,
    code: str,
    *,
    allow_insecure_http: bool = False,
    ca_file: Path | None = None,
) -> dict[str, Any]:
    """Enroll this server at the upstream as a relay station; remembers the identity.
    ``ca_file``: the one certificate to trust for the upstream's https (kept in the home)."""
    ca: bytes | None = None
    if ca_file is not None:
        try:
            ca = tls.check_certificate_file(ca_file.read_bytes())
        except (OSError, tls.BadCertificateFile) as exc:
            raise InputError(f"--ca-file: {ca_file}: {exc}") from exc
    try:
        upstream_url = check_server_url(upstream_url, allow_insecure_http=allow_insecure_http)
    except InvalidServerUrl as exc:
        raise InputError(f"--upstream: {exc}") from exc
    known = core.meta_get("upstream_station_id")
    if known is None:
        # Stations enrolled here before, and their packets, were sealed to THIS server's key,
        # which the upstream cannot open: a relay starts from an empty home.
        n_st, n_pk = len(core.list_stations()), core.count_packets()
        if n_st or n_pk:
            raise InputError(
                f"--home: this server already holds {n_st} station(s) and {n_pk} packet(s) "
                "sealed to its own key; a relay must start from a fresh, empty --home"
            )
    key = load_or_create_relay_key(core.home)
    result = enroll(
        upstream_url,
        code,
        key.public_key(),
        station_id=known,
        verify=str(ca_file) if ca is not None else True,
    )
    if ca is not None:
        tls.pin_certificate(core.home, ca, UPSTREAM_CA_FILE)
    core.meta_set(
        {
            "upstream_url": upstream_url.rstrip("/"),
            "upstream_station_id": result.station_id,
            "upstream_sealing_key": result.server_key_pem.decode(),
            UPSTREAM_SIGNING_KEY: result.server_signing_key,
            "upstream_server_id": result.server_id,
        }
    )
    return {
        "upstream": upstream_url,
        "relay_station_id": result.station_id,
        "kecamatan": result.kecamatan,
        "sealing_key_id": result.server_key_id,
    }


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


class RelayPuller:
    """Pulls the central state of the stations this relay vouched for, and applies it.

    At start, then every ``interval_s``, and soon after the forwarder talked to the upstream
    (``nudge()``, at most once per ``nudge_gap_s``). An unreachable or refusing upstream is
    logged and recorded (``relay status``) and retried with jittered backoff (at most
    ``interval_s`` apart); the relay goes on serving its stations meanwhile.
    """

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
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

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
        ceiling = min(self.interval_s, self.retry_cap_s, 0.5 * 2 ** min(self.failures, 20))
        return ceiling / 2 + self.rng.uniform(0.0, ceiling / 2)

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

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.engine.resume()
        self._thread = threading.Thread(target=self._run, name="ektp-relay-pull", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """End the loop and return at once; a pull in flight is cut off (a stalled upstream
        does not hold the relay's shutdown until the read timeout)."""
        self._stop.set()
        self._wake.set()
        self.engine.abort()

    def stop(self, timeout: float = 10.0) -> bool:
        """End the loop and wait; True when the thread has ended."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                return False  # still ending: the engine stays cut off until it has
            self._thread = None
        self.engine.resume()
        return True

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()


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


class RelayForwarder:
    """Builds the engine + worker for relay mode and registers stations upstream first."""

    def __init__(
        self,
        core: ServerCore,
        upstream_url: str | None = None,
        *,
        interval_s: float = 5.0,
        timeout: tuple[float, float] = (5.0, 30.0),
        cap_s: float = 60.0,
        pull_interval_s: float = DEFAULT_PULL_INTERVAL_S,
        retention_days: float = 30.0,
    ) -> None:
        from server.relay_fates import pull_fates, purge_forwarded

        station_id = core.meta_get("upstream_station_id")
        stored_url = core.meta_get("upstream_url")
        if not station_id or not stored_url:
            raise InputError(
                "--upstream: this server is not provisioned as a relay: run "
                "`ektp-server relay provision --upstream URL --code CODE` first"
            )
        self.core = core
        self.outbox = RelayOutbox(core)
        url = upstream_url or stored_url
        key = load_or_create_relay_key(core.home)
        verify = upstream_verify_key(core)
        self._key_lock = threading.Lock()
        self.engine = SyncEngine(
            self.outbox,
            server_url=url,
            station_id=station_id,
            signing_key=key,
            timeout=timeout,
            cap_s=cap_s,
            hold_reasons=HOLD_REASONS,
            server_verify_key=verify,
        )
        self.engine.verify = tls.verify_for(core.home, UPSTREAM_CA_FILE)
        # Its own engine (and HTTP session): it runs on its own thread.
        self.puller = RelayPuller(
            core,
            SyncEngine(
                self.outbox,
                server_url=url,
                station_id=station_id,
                signing_key=key,
                timeout=timeout,
                server_verify_key=verify,
            ),
            interval_s=pull_interval_s,
            retry_cap_s=cap_s,
            before_pull=self.ensure_upstream_key,
            # The purge first: it runs on every pull, even while the fates cannot be had
            # (it then finds nothing the centre has confirmed).
            steps=[
                lambda: purge_forwarded(core, retention_days),
                lambda: pull_fates(core, self.puller.engine),
            ],
        )
        self.puller.engine.verify = self.engine.verify
        self.worker = SyncWorker(
            self.engine,
            interval_s=interval_s,
            maintenance_interval_s=0.0,
            offline_cap_s=cap_s,
            min_wait_s=min(0.2, cap_s / 10),
            pending=self.outbox.pending,
            maintenance=[self.ensure_upstream_key, self.register_stations],
            on_drain=self._drained,
            drain=self._drain,
        )

    def ensure_upstream_key(self) -> None:
        """Learn the upstream's signing key once when this relay was provisioned before it
        signed its answers; SyncError while it cannot (nothing is forwarded meanwhile)."""
        if self.engine.server_verify_key is not None:
            return
        with self._key_lock:
            if self.engine.server_verify_key is not None:
                return
            sealing = pkt.load_sealing_public_key(
                str(self.core.meta_get("upstream_sealing_key")).encode()
            )
            key_b64 = learn_server_key(self.engine, sealing)
            self.core.meta_set({UPSTREAM_SIGNING_KEY: key_b64})
            self.puller.engine.server_verify_key = self.engine.server_verify_key

    def _drain(self, **kwargs: Any) -> DrainResult:
        try:
            self.ensure_upstream_key()
            # A kit's offline move before its packets sealed after it (server/kit_relay.py).
            kit_relay.forward_moves(self.core, self.engine)
        except SyncError as err:
            return DrainResult(error=err)
        return self.engine.drain(**kwargs)

    def _drained(self, result: DrainResult) -> None:
        # The upstream answered for packets: a cheap moment to learn its station decisions.
        if result.uploaded or result.held or result.rejected:
            self.puller.nudge()

    def register_stations(self) -> int:
        """Vouch upstream for every enrolled station not registered there yet."""
        c = db.stations.c
        with self.core.engine.begin() as conn:
            rows = conn.execute(
                select(c.id, c.name, c.kecamatan, c.public_key).where(
                    c.public_key.is_not(None), c.upstream_registered_at.is_(None)
                )
            ).all()
            # Packets that arrived since a station's registration was refused: held too.
            refused = conn.execute(
                select(c.id, c.upstream_error).where(c.upstream_error.is_not(None))
            ).all()
        for sid, error in refused:
            self.outbox.hold_station(sid, f"station not registered upstream: {error}")
        done = 0
        for sid, name, kec, pub in rows:
            try:
                # Its earlier keys first, oldest first: packets signed with one of them may
                # still be queued here (the kit re-enrolled with a new key while the upstream
                # was down), and the upstream accepts them only from a key it has held. It
                # keeps each one replaced by the next, as when the kit re-enrolls.
                for old in self._earlier_keys(sid, pub):
                    self._vouch_earlier(sid, name, kec, old)
                self._vouch(sid, name, kec, pub)
            except SyncError as err:
                if err.kind in ("network", "server"):
                    raise  # the upstream is unreachable or unhappy: the worker retries later
                # The upstream refuses THIS station (moved kit, revoked...): keep the reason
                # on its row, visible in `station list` and `relay status`; go on.
                self._set_station(sid, upstream_error=err.message)
                self.outbox.hold_station(sid, f"station not registered upstream: {err.message}")
                log.warning("upstream refused station %s: %s", sid, err.message)
                continue
            # Released first: a kill -9 before the mark leaves its packets queued but not due
            # (an unregistered station's wait, RelayOutbox.due) until the next registration,
            # never held with the station marked registered (nothing would release them).
            self.outbox.release_held(sid)
            self._set_station(sid, upstream_registered_at=time.time(), upstream_error=None)
            done += 1
        return done

    def _earlier_keys(self, station_id: str, current: str) -> list[str]:
        k = db.station_keys.c
        with self.core.engine.begin() as conn:
            return list(
                conn.execute(
                    select(k.public_key)
                    .where(
                        k.station_id == station_id,
                        k.public_key != current,
                        k.replaced_at.is_not(None),
                    )
                    .order_by(k.added_at)
                ).scalars()
            )

    def _vouch(self, station_id: str, name: str, kecamatan: str, public: str) -> None:
        """Register the station with this key upstream (SyncError when that fails)."""
        body = {"station_id": station_id, "name": name, "kecamatan": kecamatan}
        self.engine.signed_json("POST", "/api/v1/stations/vouch", {**body, "public_key": public})

    def _vouch_earlier(self, station_id: str, name: str, kecamatan: str, public: str) -> None:
        """Register an earlier key of the station; a refusal of it is logged, not fatal (the
        current key's registration decides)."""
        try:
            self._vouch(station_id, name, kecamatan, public)
        except SyncError as err:
            if err.kind in ("network", "server"):
                raise
            log.warning("upstream refused an earlier key of station %s: %s", station_id, err)

    def _set_station(self, station_id: str, **values: Any) -> None:
        with self.core.engine.begin() as conn:
            conn.execute(
                db.stations.update().where(db.stations.c.id == station_id).values(**values)
            )

    def start(self) -> None:
        self.worker.start()
        self.puller.start()

    def wake(self) -> None:
        # A new station may have enrolled: registration runs before the next drain.
        self.worker.wake()

    def stop(self) -> bool:
        self.worker.request_stop()
        self.puller.request_stop()
        forwarder_ended = self.worker.stop()
        return self.puller.stop() and forwarder_ended
