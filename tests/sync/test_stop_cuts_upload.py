"""Stopping the sync worker cuts off uploads stalled on a dead network (no Qt).

Without it, stop() waited for the request's read timeout (30 s by default) and a closed
station kept running. The cut-off records are left exactly as they were (sealed, no error,
no backoff) and go on the next sync; the server answers 200 if it had them already.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from app.store.db import open_store
from app.store.models import Record
from app.sync.abortable import AbortableSession
from app.sync.station import StationSync
from tests.support.faultproxy import FaultProxy
from tests.support.server import ServerProcess
from tests.support.tlsfront import self_signed
from tests.support.wait import wait_for
from tests.sync.helpers import provisioned_home, seal_n
from tests.sync.test_faults import server_packets

# Longer than any wait below: only an abort ends these requests in time.
STALL_S = 60.0
LONG_TIMEOUT = (5.0, 60.0)


def _rows(store) -> dict[str, tuple[str, int, str | None]]:  # type: ignore[no-untyped-def]
    with store.read() as s:
        return {
            r.uuid: (r.status, r.attempts, r.last_error)
            for r in s.execute(select(Record)).scalars()
        }


@pytest.mark.parametrize("n", [1, 3], ids=["one-upload", "parallel-uploads"])
def test_stop_cuts_off_stalled_uploads_and_marks_nothing(tmp_path: Path, n: int) -> None:
    srv = ServerProcess(tmp_path / "server").start()
    proxy = FaultProxy(srv.port, stall_s=STALL_S).start()
    try:
        home = provisioned_home(tmp_path / "station", srv, url=proxy.url)
        with open_store(home) as store:
            sent = seal_n(store, n)
            before = _rows(store)
            # Every upload stalls (2 in flight at once when there are several: the engine's
            # parallel uploads); the probe, the assignment pull and the kit's reports pass.
            proxy.forced_on = "PUT /api/v1/packets/"
            proxy.forced = ["stall"] * n
            sync = StationSync(store, timeout=LONG_TIMEOUT)
            worker = sync.worker(interval_s=3600)
            worker.start()
            expect = min(n, 2)
            wait_for(lambda: proxy.counts["stall"] >= expect, 30, "the uploads to stall")
            time.sleep(0.2)  # the bodies are sent: the requests now wait for replies
            t0 = time.monotonic()
            assert worker.stop(timeout=10), "the worker did not end"
            assert time.monotonic() - t0 < 2.0  # not the 60 s read timeout
            assert not worker.running
            assert not [t for t in threading.enumerate() if t.name.startswith("ThreadPool")]
            # Nothing marked: no failure recorded, no backoff, still sealed.
            assert _rows(store) == before
            assert all(status == "sealed" for status, _, _ in before.values())
            assert server_packets(srv) == {}

            proxy.forced = []  # the network is back (a third upload never started)
            # The next sync, by the same engine: the cut-off ended with the worker.
            result = sync.once(deadline_s=60)
            assert (result.uploaded, result.remaining, result.error) == (n, 0, None)
        assert server_packets(srv) == sent
    finally:
        proxy.stop()
        srv.stop()


def test_a_stopped_worker_starts_again_and_sends(tmp_path: Path) -> None:
    srv = ServerProcess(tmp_path / "server").start()
    proxy = FaultProxy(srv.port, stall_s=STALL_S).start()
    try:
        home = provisioned_home(tmp_path / "station", srv, url=proxy.url)
        with open_store(home) as store:
            sent = seal_n(store, 1)
            proxy.forced_on = "PUT /api/v1/packets/"  # the upload stalls, nothing else
            proxy.forced = ["stall"]
            worker = StationSync(store, timeout=LONG_TIMEOUT).worker(interval_s=3600)
            worker.start()
            wait_for(lambda: proxy.counts["stall"] == 1, 30, "the upload to stall")
            assert worker.stop(timeout=5)
            worker.start()  # the same worker and engine: the abort does not outlive stop
            try:
                wait_for(lambda: server_packets(srv) == sent, 30, "the record at the server")
            finally:
                assert worker.stop(timeout=5)
    finally:
        proxy.stop()
        srv.stop()


def test_abortable_session_cuts_a_stalled_request_and_resumes(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "server") as srv, FaultProxy(srv.port, stall_s=STALL_S) as proxy:
        session = AbortableSession()
        url = proxy.url + "/api/v1/health"
        assert session.get(url, timeout=10).status_code == 200  # a kept-alive connection
        proxy.forced = ["stall"]
        failure: list[BaseException] = []

        def call() -> None:
            try:
                session.get(url, timeout=(5, STALL_S))
            except BaseException as exc:
                failure.append(exc)

        t = threading.Thread(target=call)
        t.start()
        wait_for(lambda: proxy.counts["stall"] == 1, 10, "the request to stall")
        t0 = time.monotonic()
        assert session.abort() >= 1
        t.join(5)
        assert not t.is_alive() and time.monotonic() - t0 < 2.0
        assert len(failure) == 1 and isinstance(failure[0], requests.ConnectionError)
        # Aborted: nothing new starts (no connection is even opened) ...
        seen = sum(proxy.counts.values())
        with pytest.raises(requests.ConnectionError):
            session.get(url, timeout=10)
        assert sum(proxy.counts.values()) == seen
        # ... until resume().
        session.resume()
        assert session.get(url, timeout=10).status_code == 200
        session.close()


def _abort_a_stalled_put(
    session: AbortableSession, url: str, cert_file: Path, got_request: threading.Event
) -> None:
    """PUT to ``url`` on another thread; once the server has the request (and stalls),
    abort() cuts it off: the PUT fails at once with a ConnectionError."""
    failure: list[BaseException] = []

    def call() -> None:
        try:
            # verify per request: REQUESTS_CA_BUNDLE in the environment beats session.verify
            session.put(url, data=b"x" * 1000, timeout=(5, STALL_S), verify=str(cert_file))
        except BaseException as exc:
            failure.append(exc)

    client = threading.Thread(target=call)
    client.start()
    assert got_request.wait(10), failure
    t0 = time.monotonic()
    assert session.abort() == 1
    client.join(5)
    assert not client.is_alive() and time.monotonic() - t0 < 2.0
    assert len(failure) == 1 and isinstance(failure[0], requests.ConnectionError)


def test_abort_cuts_a_stalled_https_request(tmp_path: Path) -> None:
    """The station's real server is https: the TLS socket is shut down the same way."""
    cert_file, key_file = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    got_request = threading.Event()
    done = threading.Event()

    def serve() -> None:  # answers nothing: a stalled upstream
        conn, _ = listener.accept()
        with context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(65536)
            got_request.set()
            done.wait(STALL_S)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    session = AbortableSession()
    try:
        _abort_a_stalled_put(session, f"https://127.0.0.1:{port}/x", cert_file, got_request)
    finally:
        done.set()
        server.join(5)
        listener.close()
        session.close()


def test_abort_cuts_a_stalled_https_request_through_an_https_proxy(tmp_path: Path) -> None:
    """Through an HTTPS proxy, urllib3 wraps the tunnelled TLS in an SSLTransport (not a
    socket): abort() reaches the socket underneath and cuts the request off all the same."""
    cert_file, key_file = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    target = socket.create_server(("127.0.0.1", 0))
    proxy = socket.create_server(("127.0.0.1", 0))
    got_request = threading.Event()
    done = threading.Event()

    def serve_target() -> None:  # a stalled upstream
        conn, _ = target.accept()
        with context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(65536)
            got_request.set()
            done.wait(STALL_S)

    def pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve_proxy() -> None:  # an HTTPS proxy: TLS to the client, CONNECT, then a tunnel
        conn, _ = proxy.accept()
        tls = context.wrap_socket(conn, server_side=True)
        head = b""
        while b"\r\n\r\n" not in head:
            head += tls.recv(4096)
        assert head.startswith(b"CONNECT ")
        upstream = socket.create_connection(target.getsockname()[:2])
        tls.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        threading.Thread(target=pipe, args=(upstream, tls), daemon=True).start()
        pipe(tls, upstream)

    threads = [threading.Thread(target=f, daemon=True) for f in (serve_target, serve_proxy)]
    for t in threads:
        t.start()
    session = AbortableSession()
    proxy_url = f"https://127.0.0.1:{proxy.getsockname()[1]}"
    session.proxies = {"https": proxy_url}
    session.trust_env = False  # no proxy settings from this machine's environment
    try:
        url = f"https://127.0.0.1:{target.getsockname()[1]}/x"
        _abort_a_stalled_put(session, url, cert_file, got_request)
    finally:
        done.set()
        for t in threads:
            t.join(5)
        target.close()
        proxy.close()
        session.close()
