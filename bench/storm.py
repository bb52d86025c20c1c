"""A reconnect storm: every kit comes back online at once (after a WAN outage, or the morning
after a holiday) and drains its backlog, following the station's own retry rules.

One asyncio process plays N kits. Each kit is a real station identity registered on the
server (its own Ed25519 key, enrolled with a one-time code) holding a backlog of sealed
packets (``app.packet.seal``, to the server's sealing key). All kits reconnect within
``spread_s`` (1 s) and upload oldest first, one request at a time on their own keep-alive
connection, each request signed as a station signs it (``app.protocol.sign_request``, a fresh
nonce per attempt). A 201/200 receipt is checked (SHA-256 of the bytes sent) and the kit goes
on; anything else is retried as ``app.sync.engine.SyncEngine`` does: full jitter,
``uniform(0, min(cap, base * 2**attempts))``, never sooner than the server's ``Retry-After``.

Used by ``bench/bench_storm.py`` (the full storm, beside the steady ingest rate of the same
run) and ``tests/server/test_storm.py`` (a few hundred kits).
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import packet as pkt
from app import protocol
from app.sync.backoff import backoff

# The station's defaults (app/sync/station.py): backoff base and cap.
BASE_S = 1.0
CAP_S = 300.0
REQUEST_TIMEOUT_S = 60.0
# uvicorn closes a keep-alive connection idle for 5 s; a station's HTTP client opens another.
IDLE_REOPEN_S = 4.0


@dataclass
class Kit:
    station_id: str
    key: Ed25519PrivateKey
    packets: list[bytes] = field(default_factory=list)
    uuids: list[str] = field(default_factory=list)
    shas: list[str] = field(default_factory=list)
    drained_s: float | None = None


@dataclass
class Storm:
    """What the kits saw."""

    kits: int
    records_sent: int = 0
    requests: int = 0
    status: Counter[int] = field(default_factory=Counter)
    network_errors: int = 0
    error_kinds: Counter[str] = field(default_factory=Counter)
    loop_lag_s: list[float] = field(default_factory=list)
    retry_after: Counter[str] = field(default_factory=Counter)  # of the 503s; "" = none
    latencies_s: list[float] = field(default_factory=list)  # accepted requests (201/200)
    drains_s: list[float] = field(default_factory=list)
    created: Counter[str] = field(default_factory=Counter)  # uuid -> 201s
    bad_receipts: int = 0
    unexpected: list[tuple[int, bytes]] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def accepted(self) -> int:
        return self.status[201] + self.status[200]

    @property
    def duplicates(self) -> int:
        """Records the server answered 201 (stored now) more than once."""
        return sum(n - 1 for n in self.created.values() if n > 1)


def register_kits(core: Any, n: int, kecamatan: str, threads: int = 4) -> list[Kit]:
    """``n`` stations added and enrolled through ``ServerCore`` (code, then the kit's own key)."""

    def one(i: int) -> Kit:
        station, code = core.add_station(f"Kit {i:05d}", kecamatan)
        key = Ed25519PrivateKey.generate()
        core.enroll(code, pkt.signing_public_key_b64(key.public_key()))
        return Kit(station.id, key)

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(n)))


def fill_backlogs(
    kits: Sequence[Kit], server_key: Any, kecamatan: str, records: int, size: int
) -> None:
    """Each kit seals ``records`` packets of about ``size`` bytes (a face photo's worth)."""
    from uuid6 import uuid7

    for kit in kits:
        for _ in range(records):
            uuid = str(uuid7())
            sealed = pkt.seal(
                {"uuid": uuid, "station_id": kit.station_id, "biodata": {"nama": "WARGA"}},
                [pkt.Attachment("face.jpg", "image/jpeg", os.urandom(size))],
                uuid=uuid,
                station_id=kit.station_id,
                kecamatan=kecamatan,
                server_public_key=server_key,
                station_key=kit.key,
            )
            kit.packets.append(sealed.data)
            kit.uuids.append(uuid)
            kit.shas.append(sealed.sha256)


def _request_bytes(host: str, port: int, kit: Kit, i: int) -> bytes:
    data = kit.packets[i]
    path = protocol.packet_path(kit.uuids[i])
    headers = protocol.sign_request("PUT", path, data, kit.station_id, kit.key)
    lines = [
        f"PUT {path} HTTP/1.1",
        f"Host: {host}:{port}",
        f"Content-Type: {protocol.PACKET_CONTENT_TYPE}",
        f"Content-Length: {len(data)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes
) -> tuple[int, dict[str, str], bytes]:
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def _kit(
    kit: Kit, host: str, port: int, start_s: float, t0: float, out: Storm, rng: random.Random
) -> None:
    await asyncio.sleep(start_s)
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    i, attempts = 0, 0
    last_used = 0.0
    try:
        while i < len(kit.packets):
            raw = _request_bytes(host, port, kit, i)
            status: int | None = None
            headers: dict[str, str] = {}
            sent = time.perf_counter()
            if conn is not None and time.perf_counter() - last_used > IDLE_REOPEN_S:
                conn[1].close()  # the server closes an idle keep-alive connection (5 s)
                conn = None
            try:
                if conn is None:
                    conn = await asyncio.wait_for(
                        asyncio.open_connection(host, port), REQUEST_TIMEOUT_S
                    )
                status, headers, body = await asyncio.wait_for(
                    _exchange(*conn, raw), REQUEST_TIMEOUT_S
                )
                if headers.get("connection", "").lower() == "close":
                    conn[1].close()
                    conn = None
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
                out.network_errors += 1
                out.error_kinds[type(exc).__name__] += 1
                if conn is not None:
                    conn[1].close()
                    conn = None
            out.requests += 1
            last_used = time.perf_counter()
            if status is not None:
                out.status[status] += 1
            if status in (200, 201):
                out.latencies_s.append(time.perf_counter() - sent)
                receipt = json.loads(body)
                if receipt.get("sha256") != kit.shas[i] or receipt.get("uuid") != kit.uuids[i]:
                    out.bad_receipts += 1
                if status == 201:
                    out.created[kit.uuids[i]] += 1
                i, attempts = i + 1, 0
                continue
            retry_after: float | None = None
            if status == 503:
                value = headers.get("retry-after", "")
                out.retry_after[value] += 1
                retry_after = float(value) if value.isdigit() else None
            elif status is not None:
                out.unexpected.append((status, body[:200]))
                i, attempts = i + 1, 0  # a refusal: the station marks it and goes on
                continue
            wait = backoff(attempts, base_s=BASE_S, cap_s=CAP_S, rng=rng)
            if retry_after is not None:
                wait = max(wait, retry_after)
            attempts += 1
            await asyncio.sleep(wait)
    finally:
        if conn is not None:
            conn[1].close()
    kit.drained_s = time.perf_counter() - t0
    out.drains_s.append(kit.drained_s)


async def _storm(kits: Sequence[Kit], host: str, port: int, spread_s: float, seed: int) -> Storm:
    out = Storm(kits=len(kits), records_sent=sum(len(k.packets) for k in kits))
    rng = random.Random(seed)
    t0 = time.perf_counter()
    done = asyncio.Event()

    async def lag() -> None:
        # How late this process's own event loop wakes a task: the kits' latencies include it
        # (one process plays every kit; real kits are separate machines).
        while not done.is_set():
            before = time.perf_counter()
            await asyncio.sleep(0.1)
            out.loop_lag_s.append(time.perf_counter() - before - 0.1)

    watcher = asyncio.ensure_future(lag())
    await asyncio.gather(
        *(_kit(k, host, port, rng.uniform(0.0, spread_s), t0, out, rng) for k in kits)
    )
    done.set()
    await watcher
    out.elapsed_s = time.perf_counter() - t0
    return out


def run_storm(
    kits: Sequence[Kit], port: int, *, host: str = "127.0.0.1", spread_s: float = 1.0, seed: int = 0
) -> Storm:
    """Every kit reconnects within ``spread_s`` and drains its backlog; returns when all have."""
    try:
        import uvloop

        return uvloop.run(_storm(kits, host, port, spread_s, seed))
    except ImportError:  # pragma: no cover - Windows
        return asyncio.run(_storm(kits, host, port, spread_s, seed))


def stored(db_url: str, kits: Sequence[Kit]) -> tuple[int, int]:
    """(records of these kits the database holds with the bytes sent, rows held for them in
    all): each record exactly once, hashes matching, means (records_sent, records_sent)."""
    from sqlalchemy import create_engine, text

    wanted = {(k.station_id, u): s for k in kits for u, s in zip(k.uuids, k.shas, strict=True)}
    ids = {k.station_id for k in kits}
    from server.db import normalize_url

    engine = create_engine(normalize_url(db_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT station_id, uuid, sha256 FROM packets")).all()
    finally:
        engine.dispose()
    mine = [r for r in rows if r[0] in ids]
    good = sum(1 for r in mine if wanted.get((r[0], r[1])) == r[2])
    return good, len(mine)


class ProcessWatch:
    """CPU seconds and the peak resident memory of a process and its children (Linux /proc)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_rss = 0
        self._cpu0 = self.cpu_s()
        self._stop = False

    def _pids(self) -> list[int]:
        pids = [self.pid]
        try:
            kids = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
            pids += [int(k) for k in kids]
        except OSError:
            pass
        return pids

    def cpu_s(self) -> float:
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self._pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
        return total / ticks

    def rss(self) -> int:
        total = 0
        for pid in self._pids():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
            except OSError:
                pass
        return total

    def sample(self) -> None:
        self.peak_rss = max(self.peak_rss, self.rss())

    def used_cpu_s(self) -> float:
        return self.cpu_s() - self._cpu0

    def start_sampling(self, every_s: float = 0.5) -> None:
        import threading

        def loop() -> None:
            while not self._stop:
                self.sample()
                time.sleep(every_s)

        threading.Thread(target=loop, daemon=True).start()

    def stop(self) -> None:
        self._stop = True
