"""The processor: takes batches from the queue, opens and checks each packet, writes its fate.

``Processor.run_once()`` drains what can be taken now (``ektp-server process --once``);
``start()``/``stop()`` run it on a thread that polls (``process``, ``serve --process``). A
packet that fails a check never stops the queue: it gets its fate and the next one goes on.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid as uuidlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from app import packet as pkt
from app.background import BackgroundLoop
from server import db, station_fates
from server.blobs import BlobStore, Ref
from server.processing import checks, counters, fates
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


@dataclass(frozen=True)
class _Packet:
    data: bytes
    received_at: float
    header: pkt.PacketHeader | None
    station_key: Ed25519PublicKey | None


class Processor(BackgroundLoop):
    thread_name = "ektp-processor"

    def __init__(
        self,
        engine: Engine,
        sealing_keys: Sequence[pkt.SealingPrivateKey],
        *,
        batch: int = 64,
        lease_s: float = 120.0,
        poll_s: float = 0.5,
        owner: str | None = None,
        on_error: Callable[[str], None] | None = None,
        blobs: BlobStore | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        # By key id: the cluster's key in force and those rotated away from (server.cluster_key).
        self.sealing_keys = {pkt.key_id(k.public_key()): k for k in sealing_keys}
        # Where packet bytes are: the database or a bucket (server.blobs).
        self.blobs = blobs or BlobStore()
        self.batch = batch
        self.lease_s = lease_s
        self.poll_s = poll_s
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuidlib.uuid4().hex[:8]}"
        self.on_error = on_error
        self.counts: Counter[str] = Counter()
        self._keys: dict[tuple[str, str], Ed25519PublicKey | None] = {}
        self.error: str | None = None  # why the thread stopped, if it did on its own

    # --- one batch --------------------------------------------------------------------------

    def step(self) -> int:
        """Take one batch, check every packet, write their fates in one transaction; returns
        how many rows were taken."""
        with self.engine.begin() as conn:
            items = work.claim(conn, self.owner, self.batch, self.lease_s, time.time())
        if not items:
            return 0
        try:
            judged = [self._judge(item, packet) for item, packet in self._read(items)]
        except WrongSealingKey:
            self._give_back(items)
            raise
        if self._stop.is_set():
            self._give_back(items)
            return len(items)
        # NIK order (arrival order within one NIK): concurrent batches lock NIK holders in the
        # same order. Who holds a NIK is the first of its packets to be written.
        judged.sort(key=lambda j: (j.verdict.nik or "", j.received_at, j.item.uuid))
        try:
            self._write(judged)
        except DBAPIError as exc:
            # A deadlock or a lost connection: one transaction per packet, so one bad row
            # cannot hold the rest back; what fails again waits for its lease to run out.
            log.warning("batch of %d: %s; writing one by one", len(judged), exc.orig)
            for one in judged:
                try:
                    self._write([one])
                except DBAPIError as again:
                    log.warning("packet %s: retried later: %s", one.item.uuid, again.orig)
        return len(items)

    def _read(self, items: list[work.Item]) -> list[tuple[work.Item, _Packet | None]]:
        p = db.packets.c
        with self.engine.connect() as conn:
            rows = {
                (r.station_id, r.uuid): r
                for r in conn.execute(
                    select(p.station_id, p.uuid, p.data, p.sha256, p.received_at).where(
                        p.uuid.in_([i.uuid for i in items])
                    )
                )
            }
            out: list[tuple[work.Item, _Packet | None]] = []
            keys = self._keys
            for item in items:
                row = rows.get((item.station_id, item.uuid))
                if row is None:  # cannot happen while the row is queued (same transaction)
                    out.append((item, None))
                    continue
                data = self.blobs.read(Ref(item.station_id, item.uuid, row.sha256), row.data)
                try:
                    header: pkt.PacketHeader | None = pkt.read_header(data)
                except pkt.PacketError:
                    header = None
                key = None
                if header is not None:
                    wanted = (item.station_id, header.station_key_id)
                    if keys.get(wanted) is None:  # a key id names one key for good
                        keys[wanted] = station_key(conn, *wanted)
                    key = keys[wanted]
                out.append((item, _Packet(data, float(row.received_at), header, key)))
            conn.rollback()
        return out

    def _judge(self, item: work.Item, packet: _Packet | None) -> fates.Judged:
        if packet is None:
            header = pkt.PacketHeader(item.uuid, item.station_id, "", "", "", "")
            return fates.Judged(item, header, 0.0, checks.rejected(checks.MALFORMED, "missing"))
        found = packet.header
        header = found or pkt.PacketHeader(item.uuid, item.station_id, "", "", "", "")
        if found is None or found.station_id != item.station_id or found.uuid != item.uuid:
            verdict = checks.rejected(checks.MALFORMED, "header")
        elif item.attempts > MAX_ATTEMPTS:
            verdict = checks.rejected(PROCESSING_FAILED, f"attempts:{item.attempts - 1}")
        else:
            verdict = checks.check(packet.data, header, packet.station_key, self.sealing_keys)
        return fates.Judged(item, header, packet.received_at, verdict)

    def _write(self, judged: list[fates.Judged]) -> None:
        tally = counters.Tally()
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                # Safe not to wait for the WAL flush: the fates, their counts and the queue
                # rows' removal are one transaction, so a PostgreSQL crash that loses the last
                # commits puts those packets back in the queue, and they are processed again.
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
            now = time.time()
            written = fates.apply_batch(conn, judged, self.owner, now, tally)
            # Each fate goes back to its station in the same transaction (server/station_fates).
            station_fates.record_processed(
                conn,
                (
                    station_fates.Fate(w.station_id, w.uuid, w.fate, w.reason, w.duplicate_of)
                    for w in written
                ),
                now,
            )
            tally.flush(conn, now)
        for w in written:
            self.counts[w.fate] += 1

    def _give_back(self, items: list[work.Item]) -> None:
        with self.engine.begin() as conn:
            for item in items:
                work.release(conn, self.owner, item)

    # --- draining and the thread --------------------------------------------------------------

    def run_once(self) -> Counter[str]:
        """Process until nothing can be taken; returns the fates written (this call)."""
        before = Counter(self.counts)
        while not self._stop.is_set() and self.step():
            pass
        return self.counts - before

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

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop after the batch in hand (its fates are written in one transaction with it)."""
        return super().stop(timeout)

    def wait(self) -> None:
        """Until the thread ends (stop() from a signal handler, or a fatal error)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)
