"""A real PC/SC stack for tests: pcscd with vsmartcard's virtual reader, and scripted cards.

How to use (from any test package)::

    from tests.support.pcsc import PcscDaemon, VirtualCard
    # the fixtures `pcscd` and `pcscd_session` are available to every test: tests/conftest.py
    # loads this module with `pytest_plugins = ["tests.support.pcsc"]`

    @pytest.mark.pcsc
    def test_something(pcscd: PcscDaemon) -> None:
        card = pcscd.card(uid=bytes.fromhex("04a1b2c3"))      # slot 0, not yet inserted
        card.insert()
        pcscd.wait_card(present=True)
        ...                                                   # cards are removed afterwards

Isolation. Each test process gets its own pcscd, so parallel test runs (and a system pcscd)
do not collide:
- the client socket: ``PCSCLITE_CSOCK_NAME`` points to a per-process path, set when this
  module is imported (libpcsclite reads it once, at the first PC/SC call: import this module
  from ``tests/conftest.py`` before anything talks to PC/SC). Child processes of a test inherit
  it and talk to the test's pcscd; pytest-xdist workers inherit it too, from the controller,
  and each takes a path of its own (``SOCKET_OWNER_ENV`` says which worker a path is for). pcscd 1.9 ignores that
  variable, so the fixture binds the socket itself and hands it over with systemd socket
  activation (``LISTEN_FDS``/``LISTEN_PID``);
- the virtual reader's TCP ports: a private reader.conf.d (``pcscd -c DIR``) with a free port
  pair (vpcd serves slot 0 on PORT and slot 1 on PORT+1, all interfaces).
The daemon is killed by PID at the end of the session; a test that stops it (to see the service
go away) gets it restarted by the ``pcscd`` fixture for the next test.

Under CI=true a missing pcscd or vpcd fails the test (tests.support.components).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.components import missing, require_binary

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
SOCKET_ENV = "PCSCLITE_CSOCK_NAME"
SOCKET_OWNER_ENV = "EKTP_TEST_PCSC_WORKER"  # the xdist worker the socket path belongs to

# A contactless card as a PC/SC reader presents it (PC/SC part 3 ATR, valid TCK).
DEFAULT_ATR = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
DEFAULT_UID = bytes.fromhex("04A23C5A2B1F80")
GET_UID = bytes.fromhex("FFCA000000")
SW_OK = b"\x90\x00"
SW_INS_NOT_SUPPORTED = b"\x6d\x00"


def _isolate_socket() -> Path:
    """Point libpcsclite at this process's own pcscd socket (see the module docstring)."""
    existing = os.environ.get(SOCKET_ENV)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if existing and os.environ.get(SOCKET_OWNER_ENV, "") == worker:
        return Path(existing)  # a test's child process: the test's own pcscd
    base = Path(tempfile.gettempdir()) / f"ektp-pcsc-{os.getpid()}"  # made by PcscDaemon.start
    path = base / "pcscd.comm"
    os.environ[SOCKET_ENV] = str(path)
    os.environ[SOCKET_OWNER_ENV] = worker
    atexit.register(_remove_dir, base)
    return path


def _remove_dir(base: Path) -> None:
    with contextlib.suppress(OSError):
        for leftover in base.iterdir():
            leftover.unlink()
        base.rmdir()


SOCKET_PATH = _isolate_socket()


def _free_port_pair() -> int:
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            if port >= 65535:
                continue
            with socket.socket() as b:
                try:
                    b.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
            return int(port)
    raise RuntimeError("no free TCP port pair for vpcd")


class VirtualCard:
    """A contactless card scripted by the test, speaking vpcd's protocol as its TCP client.

    Connecting inserts the card, closing removes it. Frames are a 2-byte big-endian length
    and a payload: 1 byte = control (0 off, 1 on, 2 reset, 4 = send the ATR), longer = an
    APDU, answered with data + SW1 SW2.

    Script it with ``atr``, ``uid``, ``uid_sw`` (the status word for GET UID, e.g.
    ``b"\\x6a\\x81"`` for a reader/card that refuses it), ``responses`` (APDU -> full
    answer including the SW), or ``handler`` (a function APDU -> answer). ``mute = True``
    makes it stop answering APDUs while staying in the field.
    """

    def __init__(
        self,
        port: int,
        *,
        atr: bytes = DEFAULT_ATR,
        uid: bytes = DEFAULT_UID,
        uid_sw: bytes = SW_OK,
        responses: dict[bytes, bytes] | None = None,
        handler: Callable[[bytes], bytes | None] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.port = port
        self.host = host
        self.atr = atr
        self.uid = uid
        self.uid_sw = uid_sw
        self.responses = dict(responses or {})
        self.handler = handler
        self.mute = False
        self.apdus: list[bytes] = []  # every APDU received, in order
        self.powered = threading.Event()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- the test's controls ---------------------------------------------------------
    @property
    def inserted(self) -> bool:
        return self._sock is not None

    def insert(self, timeout: float = 20.0) -> VirtualCard:
        """Put the card on the reader (connect to vpcd)."""
        if self._sock is not None:
            raise RuntimeError("card already inserted")
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(None)
        self.powered.clear()
        self._sock = sock
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name=f"virtual-card-{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def remove(self) -> None:
        """Take the card away (close the connection)."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(5)

    # -- protocol --------------------------------------------------------------------
    def answer(self, apdu: bytes) -> bytes | None:
        """The card's answer to one APDU (None = say nothing)."""
        if self.handler is not None:
            got = self.handler(apdu)
            if got is not None:
                return got
        if apdu in self.responses:
            return self.responses[apdu]
        if apdu[:4] == GET_UID[:4]:
            if self.uid_sw != SW_OK:
                return self.uid_sw
            le = apdu[4] if len(apdu) > 4 else 0
            data = self.uid if le == 0 else self.uid[:le]
            return data + SW_OK
        return SW_INS_NOT_SUPPORTED

    @staticmethod
    def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
        buf = b""
        while len(buf) < n:
            try:
                chunk = sock.recv(n - len(buf))
            except OSError:
                return None
            if not chunk:
                return None
            buf += chunk
            # Without quick ACKs each APDU waits ~40 ms for a delayed ACK.
            with contextlib.suppress(OSError, AttributeError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        return buf

    def _send(self, sock: socket.socket, payload: bytes) -> None:
        with contextlib.suppress(OSError):
            sock.sendall(struct.pack(">H", len(payload)) + payload)

    def _serve(self, sock: socket.socket) -> None:
        while True:
            head = self._recv_exact(sock, 2)
            if head is None:
                return
            (length,) = struct.unpack(">H", head)
            payload = self._recv_exact(sock, length)
            if payload is None:
                return
            if length == 1:
                code = payload[0]
                if code == 4:
                    self._send(sock, self.atr)
                elif code in (1, 2):
                    self.powered.set()
                elif code == 0:
                    self.powered.clear()
                continue
            with self._lock:
                self.apdus.append(payload)
            if self.mute:
                continue
            reply = self.answer(payload)
            if reply is not None:
                self._send(sock, reply)


class PcscDaemon:
    """pcscd in the foreground with a private vpcd configuration, owned by the test."""

    def __init__(
        self, workdir: Path, socket_path: Path = SOCKET_PATH, *, with_vpcd: bool = True
    ) -> None:
        self.workdir = workdir
        self.with_vpcd = with_vpcd
        self.socket_path = socket_path
        self.port = _free_port_pair()
        self.conf_dir = workdir / "reader.conf.d"
        self.log_path = workdir / "pcscd-0.log"
        self._starts = 0
        self.proc: subprocess.Popen[bytes] | None = None
        self.cards: list[VirtualCard] = []
        self.reader_names = ["Virtual PCD 00 00", "Virtual PCD 00 01"]

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 30.0) -> None:
        binary = require_binary("pcscd", "pcscd")
        if not VPCD_DRIVER.exists():
            missing("vsmartcard-vpcd", "apt-get install vsmartcard-vpcd")
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        conf = self.conf_dir / "vpcd"
        if not self.with_vpcd:  # a PC/SC service with no reader at all
            conf.unlink(missing_ok=True)
            self.reader_names = []
        else:
            conf.write_text(
                'FRIENDLYNAME "Virtual PCD"\n'
                f"DEVICENAME   /dev/null:0x{self.port:04X}\n"
                f"LIBPATH      {VPCD_DRIVER}\n"
                f"CHANNELID    0x{self.port:04X}\n"
            )
        self.socket_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(self.socket_path))
        os.chmod(self.socket_path, 0o777)
        listener.listen(64)
        fd = listener.fileno()
        # Socket activation: pcscd takes fd 3 when LISTEN_FDS=1 and LISTEN_PID is its own
        # pid. A tiny Python launcher moves the socket to fd 3 and execs pcscd (same pid).
        launcher = (
            "import os, sys; os.dup2(int(sys.argv[1]), 3); "
            "os.environ['LISTEN_PID'] = str(os.getpid()); os.environ['LISTEN_FDS'] = '1'; "
            "os.execv(sys.argv[2], sys.argv[2:])"
        )
        cmd = [sys.executable, "-c", launcher, str(fd), binary]
        cmd += ["--foreground", "--debug", "--apdu", "-c", str(self.conf_dir)]
        self._starts += 1
        self.log_path = self.workdir / f"pcscd-{self._starts}.log"
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                cmd, pass_fds=(fd,), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        listener.close()  # pcscd has its own copy
        deadline = time.monotonic() + timeout
        while not self._ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"pcscd exited ({self.proc.returncode}): {self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"pcscd not ready after {timeout} s: {self.log_tail()}")
            time.sleep(0.02)

    def _ready(self) -> bool:
        # vpcd listens before pcscd logs "daemon ready"; probing the port would insert a card.
        return "daemon ready" in self.log_tail(4000)

    def stop(self) -> None:
        """Remove every card, then kill pcscd by PID and wait for it."""
        for card in self.cards:
            card.remove()
        self.cards.clear()
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    def card(self, slot: int = 0, **script: object) -> VirtualCard:
        """A scripted card for reader slot 0 or 1 (not inserted yet; removed at teardown)."""
        card = VirtualCard(self.port + slot, **script)  # type: ignore[arg-type]
        self.cards.append(card)
        return card

    def remove_cards(self) -> None:
        """Remove every card and wait until pcscd has seen them go (so the next test starts
        from empty readers, not from a removal still in flight)."""
        slots = {card.port - self.port for card in self.cards if card.inserted}
        for card in self.cards:
            card.remove()
        self.cards.clear()
        if self.running:
            for slot in sorted(slots):
                self.wait_card(present=False, reader=slot)

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def wait_card(self, present: bool, reader: int = 0, timeout: float = 20.0) -> None:
        """Block until pcscd reports the card in ``reader`` as present / absent."""
        from smartcard import scard

        name = self.reader_names[reader]
        hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        assert hr == scard.SCARD_S_SUCCESS, scard.SCardGetErrorMessage(hr)
        try:
            deadline = time.monotonic() + timeout
            state = scard.SCARD_STATE_UNAWARE
            while time.monotonic() < deadline:
                hr, states = scard.SCardGetStatusChange(ctx, 100, [(name, state)])
                if hr == scard.SCARD_S_SUCCESS:
                    state = states[0][1] & ~scard.SCARD_STATE_CHANGED
                if bool(state & scard.SCARD_STATE_PRESENT) == present:
                    return
            raise AssertionError(f"card {'not inserted' if present else 'not removed'} in {name}")
        finally:
            scard.SCardReleaseContext(ctx)


@pytest.fixture(scope="session")
def pcscd_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PcscDaemon]:
    """One pcscd + vpcd for the session (started on first use, killed by PID at the end)."""
    daemon = PcscDaemon(tmp_path_factory.mktemp("pcscd"))
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.stop()


@pytest.fixture
def pcscd(pcscd_session: PcscDaemon) -> Iterator[PcscDaemon]:
    """The session's pcscd, running (restarted if a previous test stopped it); every card
    made with ``pcscd.card()`` is removed after the test."""
    if not pcscd_session.running:
        pcscd_session.start()
    try:
        yield pcscd_session
    finally:
        pcscd_session.remove_cards()
