"""The operator's app: how fast it opens, and whether the UI thread ever stalls.

- Cold start to an interactive sign-in window: a fresh ``python`` process that builds the real
  main window on a real (initialized) station home and reports when the window is shown with
  the username field focused and enabled (typing can start); and, as a second figure, when the
  station has been loaded from the store on its worker (name, kecamatan, sync light). Beside a
  bare QApplication + empty QWidget in a fresh process, same run. Target: under 2 s.
- Longest UI-thread stall during a full recording with sync running: a 5 ms QTimer on the
  event loop records the gap between ticks while a whole recording is driven from the
  keyboard (camera preview, validation, seal) and the sync worker uploads it to a real
  ``ektp-server`` on loopback; beside the same timer on an idle event loop for as long.
  Target: under 50 ms.

Qt runs offscreen (``QT_QPA_PLATFORM=offscreen``) so the figures do not depend on an X server.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from bench.figures import Figure, percentile

ROOT = Path(__file__).resolve().parents[1]
TICK_MS = 5

_BARE = """
import time; t0 = time.perf_counter()
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
w = QWidget(); w.show(); app.processEvents()
print("READY", time.perf_counter() - t0, flush=True)
"""

_APP = """
import time; t0 = time.perf_counter()
import sys
from pathlib import Path
from PySide6.QtWidgets import QApplication
from app.ui.main_window import MainWindow
from app.ui.station import StationServices
app = QApplication([])
w = MainWindow(StationServices(Path(sys.argv[1])))
w.show()
def ready():
    return w.isVisible() and w.signin.username.hasFocus() and w.signin.username.isEnabled()
while not ready():
    app.processEvents()
    time.sleep(0.001)
print("READY", time.perf_counter() - t0, flush=True)
while w.station is None:  # the store opened on its worker: station name and sync light shown
    app.processEvents()
    time.sleep(0.001)
print("LOADED", time.perf_counter() - t0, flush=True)
w.close()
"""


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _cold(code: str, *args: str, until: str = "READY") -> float:
    """Wall time from spawning python to the child's ``until`` line (interpreter start included)."""
    t = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_env(),
        cwd=ROOT,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(until):
            elapsed = time.perf_counter() - t
            break
    else:
        raise RuntimeError("the child never became ready")
    proc.wait(30)
    return elapsed


def _cold_start(quick: bool) -> list[Figure]:
    from tests.support.station import make_station

    n = 2 if quick else 7
    with tempfile.TemporaryDirectory() as tmp:
        home = make_station(Path(tmp)).home
        _cold(_BARE)  # warm the OS file cache for both
        _cold(_APP, str(home))
        bare = [_cold(_BARE) for _ in range(n)]
        app = [_cold(_APP, str(home)) for _ in range(n)]
        loaded = [_cold(_APP, str(home), until="LOADED") for _ in range(n)]
    value = statistics.median(app)
    return [
        Figure(
            "ui",
            "cold start to interactive sign-in (median)",
            "s",
            value,
            statistics.median(bare),
            "bare QApplication + empty QWidget",
            "< 2 s",
            value < 2.0,
        ),
        Figure(
            "ui",
            "cold start to station loaded from the store (median)",
            "s",
            statistics.median(loaded),
            statistics.median(bare),
            "bare QApplication + empty QWidget",
        ),
    ]


class _StallMeter:
    """A QTimer every TICK_MS on the UI thread; a stall is the gap beyond the interval."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self.last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(max(0.0, (now - self.last) * 1000 - TICK_MS))
        self.last = now

    def start(self) -> None:
        self.gaps = []
        self.last = time.perf_counter()
        self.timer.start()

    def stop(self) -> list[float]:
        self.timer.stop()
        return self.gaps


def _recording_stalls(quick: bool) -> list[Figure]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from app.store.operators import add_operator
    from app.ui.main_window import MainWindow
    from app.ui.services import Operator
    from app.ui.station import DEMO_VIDEO, StationServices
    from tests.support.server import ServerProcess
    from tests.support.server_fixtures import add_station

    app = QApplication.instance() or QApplication([])
    assert app is not None
    recordings = 1 if quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess(Path(tmp) / "server").start()
        try:
            code = add_station(server, name="Bench")
            services = StationServices(
                Path(tmp) / "station",
                camera_sources=[(f"file:{DEMO_VIDEO}", "demo")],
                sync_interval_s=1,
            )
            add_operator(services.store, "siti", "operator", "rahasia-siti-1", actor="bench")
            add_operator(services.store, "tek", "technician", "rahasia-tek-12", actor="bench")
            services.provision(Operator("tek", "technician"), server.url, code)
            window = MainWindow(services)
            window.show()

            def wait(cond, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
                deadline = time.monotonic() + timeout
                while not cond():
                    if time.monotonic() > deadline:
                        raise TimeoutError("bench flow stuck")
                    QTest.qWait(2)

            def keys(text: str) -> None:
                # One key at a time with a short pause, as a fast typist: the event loop runs
                # between keys, so a slow handler shows up as a stall of its own.
                for ch in text:
                    QTest.keyClicks(QApplication.focusWidget(), ch)
                    QTest.qWait(15)

            def key(k, mod=Qt.KeyboardModifier.NoModifier) -> None:  # type: ignore[no-untyped-def]
                QTest.keyClick(QApplication.focusWidget(), k, mod)

            window.activateWindow()
            wait(lambda: window.station is not None and window.signin.username.hasFocus())
            # Baseline: the same meter on the idle event loop, for a fixed time.
            meter = _StallMeter()
            idle_s = 3.0 if quick else 8.0
            meter.start()
            QTest.qWait(int(idle_s * 1000))
            idle = meter.stop()

            meter.start()
            keys("siti")
            key(Qt.Key.Key_Return)
            keys("rahasia-siti-1")
            key(Qt.Key.Key_Return)
            wait(lambda: window.stack.currentWidget() is window.home)
            rec = window.recording
            for _ in range(recordings):
                key(Qt.Key.Key_F3)
                wait(lambda: rec.step() == rec.BIODATA)
                for name, text in (
                    ("nik", "3603321208900007"),
                    ("nama", "BUDI SANTOSO"),
                    ("tempat_lahir", "TANGERANG"),
                    ("tanggal_lahir", None),
                    ("jenis_kelamin", None),
                    ("golongan_darah", "O"),
                    ("alamat", "JL. RAYA KRESEK NO. 17"),
                    ("rt", "003"),
                    ("rw", "005"),
                    ("wilayah", "Gunung Kaler"),
                    ("agama", "ISLAM"),
                    ("status_perkawinan", "KAWIN"),
                    ("pekerjaan", "PETANI/PEKEBUN"),
                    ("kewarganegaraan", "WNI"),
                ):
                    if text:
                        keys(text)
                    if name == "wilayah":
                        wait(lambda: rec.biodata.region.results.count() > 0)
                        key(Qt.Key.Key_Return)
                    key(Qt.Key.Key_Tab)
                key(Qt.Key.Key_Return)
                wait(
                    lambda: rec.photo.preview.quality is not None and rec.photo.preview.quality.good
                )
                key(Qt.Key.Key_Return)
                wait(lambda: rec.photo.photo is not None)
                key(Qt.Key.Key_Return)
                pad = rec.signature.pad
                QTest.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(30, 60))
                for x in range(40, 300, 10):
                    QTest.mouseMove(pad, QPoint(x, 60 + x % 30))
                QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(300, 60))
                key(Qt.Key.Key_Return)
                key(Qt.Key.Key_Return)
                key(Qt.Key.Key_Return)
                wait(lambda: rec.step() == rec.RECEIPT)
            key(Qt.Key.Key_F4)

            def all_sent() -> bool:
                rows = window.queue.model.rows
                if len(rows) == recordings and all(r.status == "uploaded" for r in rows):
                    return True
                window.queue.refresh()
                QTest.qWait(50)
                return False

            wait(all_sent, timeout=60)
            busy = meter.stop()
            window.close()
        finally:
            server.stop()
    worst = max(busy)
    return [
        Figure(
            "ui",
            f"longest UI-thread stall, {recordings} recording(s) + sync",
            "ms",
            worst,
            max(idle),
            "idle event loop (same timer)",
            "< 50 ms",
            worst < 50,
        ),
        Figure(
            "ui",
            "UI-thread stall p99 during recording",
            "ms",
            percentile(busy, 99),
            percentile(idle, 99),
            "idle event loop p99",
        ),
    ]


def run(quick: bool) -> list[Figure]:
    return _cold_start(quick) + _recording_stalls(quick)
