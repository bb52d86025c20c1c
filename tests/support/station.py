"""A real station home for tests: server key pair, initialized store, an operator, photos.

Reusable by every area::

    from tests.support.station import make_station, face_jpeg
    st = make_station(tmp_path)             # in-process (fast)
    st = make_station(tmp_path, via_cli=True)  # through `python -m app init` / `operator add`
    with st.open() as store: ...

Pytest fixtures ``server_keys`` and ``station`` are defined here too: import them into a
conftest.py (``from tests.support.station import station  # noqa: F401``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from app import packet
from app.store.db import Store, open_store
from app.store.models import Operator
from app.store.operators import RETRY_DELAY_MAX, add_operator
from app.store.station import StationIdentity, get_identity, init_station
from tests.support.cli import run_station

GUNUNG_KALER = "36.03.32"
KRONJO = "36.03.07"
OPERATOR = "siti"
PASSWORD = "rahasia-siti-123"


@dataclass
class StationHome:
    home: Path
    server_key: X25519PrivateKey
    server_key_file: Path
    operator: str
    password: str

    def open(self) -> Store:
        return open_store(self.home)

    def identity(self) -> StationIdentity:
        with self.open() as store:
            identity = get_identity(store)
        assert identity is not None
        return identity

    def cli(self, *args: str, input: str | None = None, timeout: float = 60):  # type: ignore[no-untyped-def]
        return run_station("--home", str(self.home), *args, input=input, timeout=timeout)


def make_server_key(directory: Path) -> tuple[X25519PrivateKey, Path]:
    """A fresh server sealing key pair; the public half as a PEM file (as `keys public`)."""
    directory.mkdir(parents=True, exist_ok=True)
    key = X25519PrivateKey.generate()
    path = directory / "server-key.pem"
    path.write_bytes(packet.sealing_public_key_pem(key.public_key()))
    return key, path


def make_station(
    tmp: Path,
    *,
    kecamatan: str = GUNUNG_KALER,
    operator: str = OPERATOR,
    role: str = "operator",
    password: str = PASSWORD,
    via_cli: bool = False,
) -> StationHome:
    """An initialized station home under ``tmp/home`` with one active operator."""
    server_key, key_file = make_server_key(tmp / "server")
    home = tmp / "home"
    st = StationHome(home, server_key, key_file, operator, password)
    if via_cli:
        r = st.cli(
            "init", "--server-key", str(key_file), "--kecamatan", kecamatan, "--name", "Kit 1"
        )
        assert r.returncode == 0, r.stderr
        r = st.cli("operator", "add", "--username", operator, "--role", role, input=password + "\n")
        assert r.returncode == 0, r.stderr
        return st
    with open_store(home) as store:
        init_station(
            store,
            server_key_pem=key_file.read_bytes(),
            kecamatan=kecamatan,
            name="Kit 1",
        )
        add_operator(store, operator, role, password, actor="test")
    return st


@functools.cache
def face_jpeg() -> bytes:
    """A real frontal face photo (scikit-image's astronaut) as a JPEG file's bytes."""
    import cv2
    import skimage.data

    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(skimage.data.astronaut(), cv2.COLOR_RGB2BGR))
    assert ok
    return bytes(buf)


@functools.cache
def no_face_jpeg() -> bytes:
    """A photo with no face in it (a cup of coffee)."""
    import cv2
    import skimage.data

    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(skimage.data.coffee(), cv2.COLOR_RGB2BGR))
    assert ok
    return bytes(buf)


@functools.cache
def signature_png() -> bytes:
    """A hand-drawn-looking signature PNG of roughly 10 KB."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(7)
    img = np.full((160, 480), 255, np.uint8)
    pts = np.cumsum(rng.normal(0, 6, size=(120, 2)), axis=0) + (60, 80)
    pts[:, 0] = np.linspace(20, 460, len(pts))
    cv2.polylines(img, [pts.astype(np.int32)], False, 0, 2, cv2.LINE_AA)
    img[rng.random(img.shape) < 0.05] = 200  # paper grain, so the PNG is ~10 KB
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return bytes(buf)


@pytest.fixture()
def server_keys(tmp_path: Path) -> tuple[X25519PrivateKey, Path]:
    return make_server_key(tmp_path / "server")


@pytest.fixture()
def station(tmp_path: Path) -> Iterator[StationHome]:
    yield make_station(tmp_path)


def let_retry(store: Store, username: str) -> None:
    """As if the delay after ``username``'s last failed sign-in had passed: the failure's
    stored time moves back past the longest delay (the next try reads it). No sleep."""
    failed_ago(store, username, RETRY_DELAY_MAX + 1)


def failed_ago(store: Store, username: str, seconds: float) -> None:
    """Set ``username``'s last failed sign-in to ``seconds`` ago (negative: later than now,
    as after a clock set back) in the station database."""
    from sqlalchemy import select

    from app.store.timeutil import utcnow

    with store.write() as session:
        op = session.execute(select(Operator).where(Operator.username == username)).scalar_one()
        op.failed_at = utcnow() - timedelta(seconds=seconds)
