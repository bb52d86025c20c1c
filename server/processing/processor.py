"""The processor: takes batches from the queue, opens and checks each packet, writes its fate.

``Processor.run_once()`` drains what can be taken now (``ektp-server process --once``);
``start()``/``stop()`` run it on a thread that polls (``process``, ``serve --process``). A
packet that fails a check never stops the queue: it gets its fate and the next one goes on.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid as uuidlib
from collections import Counter
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from app import packet as pkt
from server import db
from server.processing import checks, fates
from server.processing import queue as work
from server.processing.checks import PROCESSING_FAILED, WrongSealingKey

log = logging.getLogger("ektp.server.processing")

# A packet whose processing failed this many times (the processor died on it each time) is
# rejected with reason processing_failed instead of taking processors down for ever.
MAX_ATTEMPTS = 5


def station_key(conn: Connection, station_id: str, key_id: str) -> Ed25519PublicKey | None:
    """The station's public key with this id: its current one or one it had before."""
    s, k = db.stations.c, db.station_keys.c
    found = (
        conn.execute(select(s.public_key).where(s.id == station_id, s.key_id == key_id)).scalar()
        or conn.execute(
            select(k.public_key).where(k.station_id == station_id, k.key_id == key_id)
        ).scalar()
    )
    if not found:
        return None
    try:
        return pkt.load_signing_public_key_b64(found)
    except pkt.PacketError:
        return None


class Processor:
    def __init__(
        self,
        engine: Engine,
        sealing_key: X25519PrivateKey,
        *,
        batch: int = 32,
        lease_s: float = 120.0,
        poll_s: float = 0.5,
        owner: str | None = None,
        on_error: Callable[[str], None] | None = None,
    ) -> None:
        self.engine = engine
        self.sealing_key = sealing_key
        self.key_id = pkt.key_id(sealing_key.public_key())
        self.batch = batch
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuidlib.uuid4().hex[:8]}"
        self.on_error = on_error
        self.counts: Counter[str] = Counter()
        self.error: str | None = None  # why the thread stopped, if it did on its own
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- one batch --------------------------------------------------------------------------

    def step(self) -> int:
        """Take one batch and process it; returns how many rows were taken."""
        with self.engine.begin() as conn:
            items = work.claim(conn, self.owner, self.batch, self.lease_s, time.time())
        for n, item in enumerate(items):
            if self._stop.is_set():
                self._give_back(items[n:])
                break
            try:
                self._one(item)
            except WrongSealingKey:
                self._give_back(items[n:])
                raise
            except DBAPIError as exc:
                # Deadlock, lost connection...: the lease runs out and the row is taken again.
                log.warning("packet %s: database error, retried later: %s", item.uuid, exc.orig)
        return len(items)

    def _give_back(self, items: list[work.Item]) -> None:
        with self.engine.begin() as conn:
            for item in items:
                work.release(conn, self.owner, item)

    def _one(self, item: work.Item) -> None:
        p = db.packets.c
        with self.engine.connect() as conn:
            row = conn.execute(
                select(p.data, p.received_at).where(
                    p.uuid == item.uuid, p.station_id == item.station_id
                )
            ).first()
            if row is None:  # cannot happen while the row is queued (same transaction)
                return
            data, received_at = bytes(row[0]), float(row[1])
            try:
                header = pkt.read_header(data)
            except pkt.PacketError:
                header = None
            key = station_key(conn, item.station_id, header.station_key_id) if header else None
            conn.rollback()
        if header is None or header.station_id != item.station_id or header.uuid != item.uuid:
            verdict = checks.rejected(checks.MALFORMED, "header")
            header = header or pkt.PacketHeader(item.uuid, item.station_id, "", "", "", "")
        elif item.attempts > MAX_ATTEMPTS:
            verdict = checks.rejected(PROCESSING_FAILED, f"attempts:{item.attempts - 1}")
        else:
            verdict = checks.check(data, header, key, self.sealing_key, self.key_id)
        with self.engine.begin() as conn:
            written = fates.apply(conn, item, header, received_at, verdict, self.owner, time.time())
        if written is not None:
            self.counts[written.fate] += 1

    # --- draining and the thread --------------------------------------------------------------

    def run_once(self) -> Counter[str]:
        """Process until nothing can be taken; returns the fates written (this call)."""
        before = Counter(self.counts)
        while not self._stop.is_set() and self.step():
            pass
        return self.counts - before

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ektp-processor", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                taken = self.step()
            except WrongSealingKey as exc:
                self.error = str(exc)
                log.error("processor stopped: %s", exc)
                if self.on_error:
                    self.on_error(str(exc))
                return
            except Exception as exc:  # the database is down: try again after a pause
                log.warning("processor: %s: %s", type(exc).__name__, exc)
                taken = 0
            if not taken:
                self._stop.wait(self.poll_s)

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait(self) -> None:
        """Until the thread ends (stop() from a signal handler, or a fatal error)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)
