"""A fault-injecting HTTP/1.1 proxy of our own, for loopback tests and benchmarks.

It sits between a station and the server and, per request, either passes it through or
injects one fault:

- ``reset``: read part of the request body, then reset the connection (RST).
- ``stall``: read the request, answer nothing until the client gives up (``stall_s``).
- ``truncate``: forward it (the server commits), send back only half of the reply, close.
- ``lost_reply``: forward it (the server commits), close without sending any reply.
- ``502`` / ``503``: answer that status without forwarding (503 carries Retry-After: 0).

``down()`` closes the listening socket (connection refused) until ``up()``. ``on_forwarded``
(if set) is called after the server answered a forwarded request, before the client gets
anything: a test can change the client's machine at exactly that moment. Only loopback.

Forced only (not one of ``FAULTS``): ``hold`` reads the request and forwards it once the test
calls ``release()`` (at most ``stall_s`` later): a test can act while a request is in flight.
``500_after``: forward it (the server commits), then answer the client a bare HTTP 500 (not in
the server's error shape), as a server failing after its commit or a broken gateway would.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
from collections import Counter
from collections.abc import Callable, Sequence

FAULTS = ("reset", "stall", "truncate", "lost_reply", "502", "503")


class _Closed(Exception):
    pass


def _recv_until(sock: socket.socket, buf: bytearray, marker: bytes, limit: int = 65536) -> int:
    while True:
        idx = buf.find(marker)
        if idx >= 0:
            return idx
        if len(buf) > limit:
            raise _Closed("head too large")
        chunk = sock.recv(65536)
        if not chunk:
            raise _Closed("eof")
        buf.extend(chunk)


def _recv_exact(sock: socket.socket, buf: bytearray, n: int) -> bytes:
    while len(buf) < n:
        chunk = sock.recv(max(65536, n - len(buf)))
        if not chunk:
            raise _Closed("eof")
        buf.extend(chunk)
    out = bytes(buf[:n])
    del buf[:n]
    return out


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return None


def _rst(sock: socket.socket) -> None:
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class FaultProxy:
    def __init__(
        self,
        target_port: int,
        *,
        fault_rate: float = 0.0,
        faults: Sequence[str] = FAULTS,
        stall_s: float = 3.0,
        seed: int = 0,
        port: int = 0,
    ) -> None:
        self.target = ("127.0.0.1", target_port)
        self.fault_rate = fault_rate
        self.faults = list(faults)
        self.stall_s = stall_s
        self.rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self.counts: Counter[str] = Counter()
        self.requests: list[tuple[str, str]] = []  # (fault, request line), in order
        self._listener: socket.socket | None = None
        self._port = port
        self._threads: list[threading.Thread] = []
        self._socks: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self.forced: list[str] = []  # faults to apply to the next requests, in order
        # When set, ``forced`` applies only to requests whose request line contains it (e.g.
        # "POST /api/v1/stations/vouch"); the others go by ``fault_rate``.
        self.forced_on: str | None = None
        self.retry_after = 0  # the Retry-After of injected 503s (seconds)
        self.on_forwarded: Callable[[], None] | None = None
        self._released = threading.Event()

    def release(self) -> None:
        """Let the requests held by a forced ``hold`` (and later ones) go on to the server."""
        self._released.set()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        self._stopping.clear()
        self.up()
        return self

    def up(self) -> None:
        if self._listener is not None:
            return
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self._port))
        ls.listen(64)
        self._port = ls.getsockname()[1]
        self._listener = ls
        t = threading.Thread(target=self._accept_loop, args=(ls,), daemon=True)
        t.start()
        self._threads.append(t)

    def down(self) -> None:
        """Connection refused from now on (existing connections are reset too)."""
        ls, self._listener = self._listener, None
        if ls is not None:
            try:
                ls.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            ls.close()
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            _rst(s)

    def stop(self) -> None:
        self._stopping.set()
        # Wake the threads blocked reading an idle keep-alive connection (a close from
        # another thread does not, on Linux): stop() then returns at once, not after 60 s.
        with self._lock:
            socks = list(self._socks)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.down()
        for t in self._threads:
            t.join(timeout=self.stall_s + 5)
        self._threads = [t for t in self._threads if t.is_alive()]

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- plumbing -------------------------------------------------------------------------

    def _accept_loop(self, ls: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = ls.accept()
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(client,), daemon=True)
            t.start()
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)

    def _track(self, s: socket.socket, on: bool) -> None:
        with self._lock:
            if on:
                self._socks.add(s)
            else:
                self._socks.discard(s)

    def _choose(self, line: str = "") -> str:
        with self._rng_lock:
            if self.forced and (self.forced_on is None or self.forced_on in line):
                return self.forced.pop(0)
            if self.fault_rate and self.rng.random() < self.fault_rate:
                return self.rng.choice(self.faults)
            return "ok"

    def _serve(self, client: socket.socket) -> None:
        self._track(client, True)
        upstream: socket.socket | None = None
        cbuf = bytearray()
        ubuf = bytearray()
        try:
            client.settimeout(60)
            while not self._stopping.is_set():
                end = _recv_until(client, cbuf, b"\r\n\r\n")
                head = _recv_exact(client, cbuf, end + 4)
                length = _content_length(head) or 0
                line = head.split(b"\r\n", 1)[0].decode("latin-1")
                fault = self._choose(line)
                self.counts[fault] += 1
                self.requests.append((fault, line))
                if fault == "reset":
                    _recv_exact(client, cbuf, length // 2)
                    _rst(client)
                    return
                body = _recv_exact(client, cbuf, length)
                if fault == "stall":
                    self._stopping.wait(self.stall_s)
                    client.close()
                    return
                if fault == "hold":
                    self._released.wait(self.stall_s)
                    if self._stopping.is_set():
                        return
                if fault in ("502", "503"):
                    extra = (
                        f"Retry-After: {self.retry_after}\r\n".encode() if fault == "503" else b""
                    )
                    msg = b'{"detail":"injected"}'
                    client.sendall(
                        b"HTTP/1.1 "
                        + fault.encode()
                        + b" Injected\r\n"
                        + extra
                        + b"Content-Type: application/json\r\nContent-Length: "
                        + str(len(msg)).encode()
                        + b"\r\n\r\n"
                        + msg
                    )
                    continue
                if upstream is None:
                    upstream = socket.create_connection(self.target, timeout=60)
                    self._track(upstream, True)
                upstream.sendall(head + body)
                rend = _recv_until(upstream, ubuf, b"\r\n\r\n")
                rhead = _recv_exact(upstream, ubuf, rend + 4)
                rlen = _content_length(rhead)
                rbody = _recv_exact(upstream, ubuf, rlen) if rlen is not None else b""
                if self.on_forwarded is not None:
                    self.on_forwarded()
                if fault == "lost_reply":
                    _rst(client)
                    return
                if fault == "500_after":
                    msg = b"Internal Server Error"
                    client.sendall(
                        b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                        b"Content-Length: " + str(len(msg)).encode() + b"\r\n\r\n" + msg
                    )
                    continue
                if fault == "truncate":
                    reply = rhead + rbody
                    client.sendall(reply[: max(1, len(rhead) + len(rbody) // 2)])
                    client.close()
                    return
                client.sendall(rhead + rbody)
        except (_Closed, OSError, ValueError):
            pass
        finally:
            self._track(client, False)
            try:
                client.close()
            except OSError:
                pass
            if upstream is not None:
                self._track(upstream, False)
                upstream.close()
