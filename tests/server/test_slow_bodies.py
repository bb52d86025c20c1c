"""Slow and big request bodies from raw-socket clients against a real server process, on
SQLite and on PostgreSQL (whose uploads take the one-statement path, server/ingest.py):
nobody without a station key can hold an upload slot, a slow station holds only its own,
every body has a deadline, and unfinished big bodies wait on disk, not in memory
(issue 18, item 2; server/bodies.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import socket
import time
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app import protocol
from tests.support.server import ServerProcess
from tests.support.server_fixtures import TestStation, sqlite_only


@pytest.fixture
def slow_server(tmp_path: Path, db_url: str | None) -> Iterator[ServerProcess]:
    extra = ["--max-inflight", "4", "--body-timeout", "3", "--body-min-rate", "100000"]
    proc = ServerProcess(tmp_path / "server", db_url, extra=extra).start()
    yield proc
    proc.stop()


def _open(srv: ServerProcess, method: str, path: str, length: int, headers: dict[str, str],
          first: bytes) -> socket.socket:  # fmt: skip
    """A request whose headers and the first bytes of its body are sent; the rest never."""
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    head = f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {length}\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    sock.sendall(head.encode() + first)
    return sock


def _reply(sock: socket.socket, timeout: float) -> tuple[int, dict[str, str], dict[str, str]]:
    """Status, headers and JSON body of the server's answer on a raw socket."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed without an answer: {data!r}")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])}
    length = int(headers["content-length"])
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, json.loads(rest[:length])


def _has_reply(sock: socket.socket, wait: float) -> bool:
    sock.settimeout(wait)
    try:
        return bool(sock.recv(1, socket.MSG_PEEK))
    except TimeoutError:
        return False


def _fake_signed(path: str) -> dict[str, str]:
    """Signature headers of a station nobody enrolled."""
    return protocol.sign_request(
        "PUT", path, b"x" * 100_000, "no-such-station", Ed25519PrivateKey.generate()
    )


@sqlite_only
def test_slow_bodies_without_a_key_hold_no_slot(slow_server: ServerProcess) -> None:
    """64 sockets that send 10 bytes of a body and stop: before, they held every in-flight
    slot and every signed upload got 503. Now an unsigned or forged upload is answered 401
    from its headers (no body read), enroll bodies are capped per client address and cut by
    the deadline, and a station's uploads go through meanwhile."""
    srv = slow_server
    st = TestStation.enroll(srv)
    socks: list[socket.socket] = []
    try:
        for i in range(64):
            if i % 2:
                path = protocol.packet_path(str(uuidlib.uuid4()))
                socks.append(_open(srv, "PUT", path, 100_000, _fake_signed(path), b"x" * 10))
            else:
                enroll = protocol.API_PREFIX + "/stations/enroll"
                socks.append(_open(srv, "POST", enroll, 1000, {}, b'{"code": "'))
        for _ in range(5):
            resp = st.put(st.seal())
            assert resp.status_code == 201, resp.text
        # The forged uploads were refused without their body.
        for sock in socks[1::2]:
            status, _, doc = _reply(sock, 10)
            assert (status, doc["error"]) == (401, "unknown_station"), doc
        # Enroll bodies: --bodies-per-address (8) are read, slowly, until the deadline cuts
        # them (408); the others were refused at once (503, Retry-After).
        seen: dict[tuple[int, str], int] = {}
        for sock in socks[0::2]:
            status, headers, doc = _reply(sock, 15)
            seen[status, doc["error"]] = seen.get((status, doc["error"]), 0) + 1
            if status == 503:
                assert headers["retry-after"].isdigit()
        assert seen == {(408, "body_timeout"): 8, (503, "client_busy"): 24}, seen
        assert st.put(st.seal()).status_code == 201
    finally:
        for sock in socks:
            sock.close()


@sqlite_only
def test_a_slow_station_holds_only_its_own_slots(slow_server: ServerProcess) -> None:
    """A station (or a thief with its key) that starts uploads and stalls: at most
    --uploads-per-station of its bodies are waited for, each until the deadline (408); its
    further uploads get 503 meanwhile, other stations' uploads go through."""
    srv = slow_server
    slow, other = TestStation.enroll(srv), TestStation.enroll(srv, name="Kit 2")
    socks = []
    try:
        for _ in range(4):
            p = slow.seal()
            path = protocol.packet_path(p.uuid)
            headers = protocol.sign_request("PUT", path, p.data, slow.station_id, slow.key)
            socks.append(_open(srv, "PUT", path, len(p.data), headers, p.data[:10]))
        time.sleep(0.5)
        started = time.monotonic()
        busy = slow.put(slow.seal())
        assert busy.status_code == 503 and busy.json()["error"] == "client_busy", busy.text
        assert busy.headers["Retry-After"].isdigit()
        assert other.put(other.seal()).status_code == 201
        for sock in socks:
            status, headers, doc = _reply(sock, 15)
            assert (status, doc["error"]) == (408, "body_timeout"), doc
            assert headers["connection"] == "close"
            sock.settimeout(10)
            assert sock.recv(1) == b""  # the server closed it: the rest is never read
        assert time.monotonic() - started < 10
        assert slow.put(slow.seal()).status_code == 201  # its slots are free again
    finally:
        for sock in socks:
            sock.close()


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@sqlite_only
def test_unfinished_big_bodies_wait_on_disk(tmp_path: Path, db_url: str | None) -> None:
    """16 signed 16 MiB uploads that stop after 6 MiB: before, the server held 96 MiB of them
    in memory (grew from 82 to 340 MB in the report); now a body above 1 MiB is spooled to an
    unnamed 0600 file in the home's tmp folder while it arrives, gone when the client goes."""
    extra = ["--uploads-per-station", "16", "--body-timeout", "60", "--body-min-rate", "1000"]
    with ServerProcess(tmp_path / "server", db_url, extra=extra) as srv:
        assert srv.proc is not None
        st = TestStation.enroll(srv)
        assert st.put(st.seal()).status_code == 201
        before = _rss(srv.proc.pid)
        size, sent = 16 * 1024 * 1024, 6 * 1024 * 1024
        digest = hashlib.sha256(b"\0" * size).hexdigest()
        socks = []
        try:
            for _ in range(16):
                path = protocol.packet_path(str(uuidlib.uuid4()))
                headers = _with_digest(path, st, digest)
                socks.append(_open(srv, "PUT", path, size, headers, b""))
            chunk = b"\0" * (1024 * 1024)
            for _ in range(sent // len(chunk)):
                for sock in socks:
                    sock.sendall(chunk)
            spool = srv.home / "tmp"
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                files = _spooled(srv.proc.pid, spool)
                grown = _rss(srv.proc.pid) - before
                if sum(size for size, _ in files) >= 16 * (sent - 1024 * 1024):
                    break
                if grown >= 48 * 1024 * 1024:
                    break
                time.sleep(0.2)
            assert grown < 48 * 1024 * 1024, f"server grew by {grown / 2**20:.0f} MiB"
            assert sum(size for size, _ in files) >= 16 * (sent - 1024 * 1024), files
            assert {mode for _, mode in files} == {0o600}
            other = TestStation.enroll(srv, name="Kit 2")
            assert other.put(other.seal()).status_code == 201
        finally:
            for sock in socks:
                sock.close()
        deadline = time.monotonic() + 20
        while _spooled(srv.proc.pid, spool) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _spooled(srv.proc.pid, spool) == []
        assert list(spool.iterdir()) == []  # unnamed files: nothing left after a crash


def _spooled(pid: int, folder: Path) -> list[tuple[int, int]]:
    """(size, mode) of the files the server process holds open in ``folder`` (its spooled
    bodies are unnamed temporary files there: O_TMPFILE)."""
    out = []
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = str(fd.readlink())
            st = fd.stat()
        except OSError:
            continue
        if target.startswith(str(folder) + "/"):
            out.append((st.st_size, st.st_mode & 0o777))
    return out


def _with_digest(path: str, st: TestStation, digest: str) -> dict[str, str]:
    """A station's signature headers over ``digest``: the hash of a body the test never
    builds in full (a 16 MiB body of zeros)."""
    headers = protocol.sign_request("PUT", path, b"", st.station_id, st.key)
    msg = protocol._message(  # the message sign_request signs, with another digest
        "PUT",
        path,
        digest,
        int(headers[protocol.H_TIMESTAMP]),
        headers[protocol.H_NONCE],
        st.station_id,
    )
    signature = base64.b64encode(st.key.sign(msg)).decode()
    return {**headers, protocol.H_DIGEST: digest, protocol.H_SIGNATURE: signature}


@sqlite_only
def test_an_upload_without_a_length_or_above_the_cap_is_refused_first(
    slow_server: ServerProcess,
) -> None:
    """The declared length is checked before anything is read: 411 without one, 413 above
    --max-body (before the old code read the body)."""
    srv = slow_server
    st = TestStation.enroll(srv)
    p = st.seal()
    path = protocol.packet_path(p.uuid)
    headers = protocol.sign_request("PUT", path, p.data, st.station_id, st.key)
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
    try:
        head = f"PUT {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode() + b"a\r\n0123456789\r\n")
        status, _, doc = _reply(sock, 10)
        assert (status, doc["error"]) == (411, "length_required"), doc
    finally:
        sock.close()
    big = _open(srv, "PUT", path, 17 * 1024 * 1024, headers, b"")
    try:
        status, _, doc = _reply(big, 10)
        assert status == 413, doc
    finally:
        big.close()
