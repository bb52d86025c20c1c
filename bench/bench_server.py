"""Server ingest on PostgreSQL from several concurrent stations, beside raw INSERT throughput.

Both sides run in the same run on the same throwaway PostgreSQL cluster with the same bytes,
from the same number of threads (``STATIONS``), each thread one station:

- value: signed ``PUT /api/v1/packets/{uuid}`` of ~100 KB sealed packets to ``ektp-server
  --db postgresql://... serve --workers 2``; a record counts once the server answered 201
  (which it sends only after the packet's commit).
- baseline: ``INSERT`` + ``COMMIT`` of the same packet bytes into a one-table database of the
  same cluster, one psycopg 3 connection per thread (no HTTP, no checks).

The load generator stands in for stations, which are separate machines: here it shares the two
cores with the server and PostgreSQL, so it is kept cheap. Before the clock starts it seals
every packet, signs every request exactly as a station does (``app.protocol.sign_request``:
Ed25519 over method, path, body SHA-256, timestamp, a fresh nonce; the server accepts
timestamps within 300 s and the run takes seconds), and formats each request's bytes. Each
thread then holds one keep-alive connection (opened, and warmed with one small packet, before
the clock) and, per request, sends the pre-built bytes and reads the response (status line,
headers, ``Content-Length`` body) with plain sockets; latency is send-to-response per request.
The server does every check it always does.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import time
import uuid as uuidlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from bench.figures import Figure, latency_figures

STATIONS = 8
WORKERS = 2
PACKET_BYTES = 100 * 1024
T = TypeVar("T")


def _timed_threads(
    work: Callable[[T], list[float]], items: Sequence[T]
) -> tuple[float, list[float]]:
    """One thread per item, started together; returns (wall time, every latency sample).

    ``work(item)`` returns its own latency samples; any exception fails the bench.
    """
    latencies: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(len(items) + 1)

    def run(item: T) -> None:
        start.wait()
        try:
            mine = work(item)
        except BaseException as exc:  # reported after the join
            with lock:
                errors.append(exc)
            return
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(it,)) for it in items]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise RuntimeError(f"{len(errors)} load threads failed, first: {errors[0]!r}")
    return elapsed, latencies


class _Connection:
    """One keep-alive HTTP/1.1 connection that sends pre-built requests (the lean client)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def request(self, raw: bytes) -> tuple[int, bytes]:
        self.sock.sendall(raw)
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, _, rest = self.buf.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split()[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        self.buf = rest
        while len(self.buf) < length:
            self._fill()
        body, self.buf = self.buf[:length], self.buf[length:]
        return status, body

    def _fill(self) -> None:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("server closed the connection")
        self.buf += chunk

    def close(self) -> None:
        self.sock.close()


def signed_put(port: int, station_id: str, key: Any, data: bytes) -> bytes:
    """The bytes of one signed packet PUT, as a station sends it."""
    from app import packet as pkt
    from app import protocol

    path = protocol.packet_path(pkt.read_header(data).uuid)
    headers = protocol.sign_request("PUT", path, data, station_id, key)
    lines = [
        f"PUT {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Type: {protocol.PACKET_CONTENT_TYPE}",
        f"Content-Length: {len(data)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def _ingest(conns: list[_Connection], requests: list[list[bytes]]) -> tuple[float, list[float]]:
    def work(i: int) -> list[float]:
        conn, mine = conns[i], []
        for raw in requests[i]:
            t0 = time.perf_counter()
            status, body = conn.request(raw)
            mine.append(time.perf_counter() - t0)
            if status != 201:
                raise RuntimeError(f"PUT answered {status}: {body[:200]!r}")
        return mine

    return _timed_threads(work, range(len(conns)))


def _raw_insert(url: str, blobs: list[list[bytes]]) -> tuple[float, list[float]]:
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE raw_packets (uuid text PRIMARY KEY, data bytea NOT NULL)")
    conns = [psycopg.connect(dsn) for _ in blobs]

    def work(i: int) -> list[float]:
        conn, mine = conns[i], []
        for data in blobs[i]:
            t0 = time.perf_counter()
            with conn.transaction():
                conn.execute(
                    "INSERT INTO raw_packets (uuid, data) VALUES (%s, %s)",
                    (str(uuidlib.uuid4()), data),
                )
            mine.append(time.perf_counter() - t0)
        return mine

    try:
        return _timed_threads(work, range(len(blobs)))
    finally:
        for c in conns:
            c.close()


def run(quick: bool) -> list[Figure]:
    from tests.support.server import PostgresCluster, ServerProcess, find_pg_bindir
    from tests.support.server_fixtures import TestStation

    bindir = find_pg_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
    per_station = 25 if quick else 100
    tmp = Path(tempfile.mkdtemp(prefix="bench-server-"))
    cluster = PostgresCluster(bindir).start()
    srv = None
    conns: list[_Connection] = []
    try:
        url = cluster.create_database("bench")
        srv = ServerProcess(tmp / "server", url, extra=["--workers", str(WORKERS)]).start()
        stations = [TestStation.enroll(srv, name=f"Kit {i}") for i in range(STATIONS)]
        packets = [
            [st.seal(photo_bytes=PACKET_BYTES).data for _ in range(per_station)] for st in stations
        ]
        requests = [
            [signed_put(srv.port, st.station_id, st.key, data) for data in datas]
            for st, datas in zip(stations, packets, strict=True)
        ]
        # warm-up, not counted: each connection opened and used once (imports, DB connections)
        conns = [_Connection(srv.port) for _ in stations]
        for conn, st in zip(conns, stations, strict=True):
            status, body = conn.request(
                signed_put(srv.port, st.station_id, st.key, st.seal(photo_bytes=1000).data)
            )
            if status != 201:
                raise RuntimeError(f"warm-up PUT answered {status}: {body[:200]!r}")
        elapsed, lat = _ingest(conns, requests)
        total = STATIONS * per_station
        size_kb = len(packets[0][0]) / 1024
        rate = total / elapsed

        raw_elapsed, raw_lat = _raw_insert(cluster.create_database("raw"), packets)
        raw_rate = total / raw_elapsed
        return [
            Figure(
                "server",
                f"PostgreSQL ingest, {STATIONS} stations, {size_kb:.0f} KB packets",
                "records/s",
                rate,
                raw_rate,
                "raw INSERT+COMMIT",
                ">= 300/s and >= 50% of raw",
                rate >= 300 and rate >= 0.5 * raw_rate,
            ),
            *latency_figures("server", "PostgreSQL ingest latency", lat, raw_lat, "raw INSERT"),
        ]
    finally:
        for c in conns:
            c.close()
        if srv is not None:
            srv.stop()
        cluster.stop()
        shutil.rmtree(tmp, ignore_errors=True)
