"""A 4xx that the e-KTP server did not send (a proxy's body limit, a captive portal) says
nothing about the packet: the record is retried with backoff, never rejected."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from app import packet as pkt
from app import protocol
from app.store.db import open_store
from app.store.outbox import Outbox
from app.store.station import get_identity
from app.sync.station import StationSync
from tests.support.server import ServerProcess
from tests.sync.helpers import provisioned_home, seal_n


@contextmanager
def foreign_server(status: int, body: bytes, content_type: str) -> Iterator[str]:
    """A tiny HTTP server on loopback that answers every request with one canned reply."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_POST = _answer

        def log_message(self, *_args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(10)


CASES = [
    # nginx's client_max_body_size page
    (
        413,
        b"<html><head><title>413 Request Entity Too Large</title></head><body>"
        b"<center><h1>413 Request Entity Too Large</h1></center><hr><center>nginx</center>"
        b"</body></html>",
        "text/html",
    ),
    # a captive portal's refusal, JSON but not the server's error shape
    (400, b'{"message": "please log in to the hotel Wi-Fi"}', "application/json"),
    (403, b"<html>Login required</html>", "text/html"),
]


def test_foreign_4xx_is_retried_not_rejected_then_delivered(tmp_path: Path) -> None:
    with ServerProcess(tmp_path / "server") as srv:
        home = provisioned_home(tmp_path / "station", srv)
        with open_store(home) as store:
            sent = seal_n(store, 2)
            for status, body, ctype in CASES:
                with foreign_server(status, body, ctype) as url:
                    sync = StationSync(store, server_url=url, base_s=0.01, cap_s=0.05)
                    result = sync.drain(force=True)
                assert result.rejected == 0 and result.uploaded == 0
                assert result.error is not None and result.error.kind == "server"
                assert f"HTTP {status} from something in the path" in result.error.message
                counts = Outbox(store).counts()
                assert counts.get("rejected", 0) == 0 and counts["sealed"] == 2, counts
                # the record that met the foreign answer carries it as its last error, with a
                # next attempt (backoff), not a verdict
                errors = [e.last_error for e in Outbox(store).recent() if e.last_error]
                assert any("not the e-KTP server" in e for e in errors), errors
                assert Outbox(store).next_attempt_at() is not None
            # the path is clear again: the same records go through, exactly once
            result = StationSync(store, base_s=0.01, cap_s=0.05).drain(force=True)
            assert result.error is None and result.uploaded == 2
            assert {r["uuid"] for r in result.receipts} == set(sent)


def test_server_own_4xx_still_rejects(tmp_path: Path) -> None:
    """The server's own 409 (same uuid, other bytes), signed by it, stays a rejection with
    its reason."""
    with ServerProcess(tmp_path / "server") as srv:
        home = provisioned_home(tmp_path / "station", srv)
        with open_store(home) as store:
            (uuid,) = seal_n(store, 1)
            ident = get_identity(store)
            assert ident is not None
            other = pkt.seal(
                {"uuid": uuid, "biodata": {}},
                [pkt.Attachment("face.jpg", "image/jpeg", b"other bytes")],
                uuid=uuid,
                station_id=ident.station_id,
                kecamatan=ident.kecamatan,
                server_public_key=ident.server_public_key,
                station_key=ident.signing_key,
            )
            sync = StationSync(store)
            path = protocol.packet_path(uuid)
            put = sync.engine.request("PUT", path, other.data, protocol.PACKET_CONTENT_TYPE)
            assert put.status_code == 201, put.text
            result = sync.drain(force=True)
            assert result.rejected == 1 and result.error is None
            assert Outbox(store).counts()["rejected"] == 1


def test_an_unsigned_refusal_in_the_server_shape_rejects_nothing(tmp_path: Path) -> None:
    """A 409 in the server's own shape but not signed by it (anyone can write that JSON) is
    not a rejection: nothing is marked, the record is sent again later."""
    body = b'{"error": "conflict", "detail": "packet already exists with different bytes"}'
    with ServerProcess(tmp_path / "server") as srv:
        home = provisioned_home(tmp_path / "station", srv)
        with open_store(home) as store:
            seal_n(store, 1)
            with foreign_server(409, body, "application/json") as url:
                result = StationSync(store, server_url=url).drain(force=True)
            assert result.rejected == 0 and result.error is not None
            assert "not signed by the server" in result.error.message
            assert Outbox(store).counts()["sealed"] == 1


def test_wrong_path_on_the_real_server_is_a_configuration_error(tmp_path: Path) -> None:
    """The server's own 404 (a URL with a wrong path prefix) is in its error shape: the drain
    stops with a configuration error, nothing marked, and is not taken for a proxy fault."""
    with ServerProcess(tmp_path / "server") as srv:
        home = provisioned_home(tmp_path / "station", srv)
        with open_store(home) as store:
            seal_n(store, 1)
            result = StationSync(store, server_url=srv.url + "/salah").drain(force=True)
            assert result.uploaded == 0 and result.rejected == 0
            assert result.error is not None and result.error.kind == "config", result.error
            assert "not the e-KTP server" not in result.error.message
            assert Outbox(store).counts()["sealed"] == 1
