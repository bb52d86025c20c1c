"""Kecamatan relay: forward the packets this server received, unchanged, to an upstream.

The relay is itself a station of the upstream (provisioned with a one-time code made there),
with its own Ed25519 key in the home. Stations enrolled at the relay get the upstream's sealing
key, so the relay can route their packets but never read them. Before forwarding a station's
packets the relay registers that station upstream (``POST /api/v1/stations/vouch``, signed by
the relay): the upstream then accepts packets signed by the original station when the relay
uploads them, and still checks that original signature.

Forwarding uses the station's own SyncEngine over ``RelayOutbox`` (the packets table,
server/relay_outbox.py), so retry, backoff and receipt checks are identical to a station's.

One station's trouble never stops the others: a station the upstream refuses to register
keeps the reason on its row (``upstream_error``), and a packet the upstream refuses for its
station (403 foreign_station / unknown_station / station_revoked) is parked
(``fwd_status = held`` + reason) while the drain goes on. A held packet returns to the queue
when its station's registration next succeeds, or with ``relay requeue``.

The central office manages the relay's kits at the upstream (assignment, revocation); the kits
ask the relay. ``RelayPuller`` pulls the upstream's state of the stations this relay vouched
for (``GET /api/v1/relay/stations``) at start, periodically and after forwarding, and applies
it here (``apply_upstream_state``, server/relay_pull.py); docs/server.md, "Station state from the upstream".
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import select

from app import packet as pkt
from app import protocol
from app.protocol import Reason
from app.sync import tls
from app.sync.engine import DrainResult, SyncEngine, SyncError
from app.sync.provision import InvalidServerUrl, check_server_url, enroll
from app.sync.serverkey import learn_server_key
from app.sync.worker import SyncWorker
from server import db, kit_relay
from server.core import InputError, ServerCore, ServiceError
from server.keys import load_or_create_relay_key
from server.relay_outbox import HOLD_REASONS, RelayOutbox
from server.relay_pull import DEFAULT_PULL_INTERVAL_S, RelayPuller

log = logging.getLogger(__name__)


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
        raise ServiceError(
            409, f"the upstream refused: {err.message}", Reason.UPSTREAM_REFUSED
        ) from err
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
