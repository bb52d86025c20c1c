"""The operator's app: how fast it opens, and whether the UI thread ever stalls.

- Cold start to an interactive sign-in window: a fresh ``python`` process that builds the real
  main window on a real (initialized) station home and reports when the window is shown with
  the username field focused and enabled (typing can start); and, as a second figure, when the
  station has been loaded from the store on its worker (name, kecamatan, sync light). Beside a
  bare QApplication + empty QWidget in a fresh process, same run. Target: under 2 s.
- Longest UI-thread stall during a full recording with sync running: a 5 ms QTimer on the
  event loop records the gap between ticks while a whole recording is driven from the
  keyboard (camera preview, validation, seal) and the sync worker uploads it to a real
  ``ektp-server`` on loopback; beside the same timer on the app's idle event loop (after the
  domain warm-up) for a fixed time. Target: under 50 ms. Reported with the flow phase of the
  longest stall and the UI thread's own CPU time in it; the p99 and its phase; on stderr the
  twelve longest stalls with the UI thread's Python stacks during each, a max/p99 per phase and
  the garbage collections. Also: the longest stall from show to the end of the warm-up, the
  same timer in a bare QApplication process (the machine's own noise) and the load average,
  since other jobs on the machine move every figure here.

Qt runs offscreen (``QT_QPA_PLATFORM=offscreen``) so the figures do not depend on an X server.
"""

from __future__ import annotations

import collections
import faulthandler
import fcntl
import gc
import os
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

from bench.figures import Figure, percentile

ROOT = Path(__file__).resolve().parents[1]
TICK_MS = 5
# The bench resident's own data as typed (NIK, name, place, address, RT, RW, desa query,
# choices): what no form could spare the operator.
RESIDENT_CHARS = len(
    "3603321208900007"
    "BUDI SANTOSO"
    "TANGERANG"
    "O"
    "JL. RAYA KRESEK NO. 17"
    "003"
    "005"
    "Gunung Kaler"
    "ISLAM"
    "KAWIN"
    "PETANI/PEKEBUN"
    "WNI"
)

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
from typing import Any
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


_THREAD = re.compile(r"^(?:Current thread|Thread) (0x[0-9a-f]+)", re.MULTILINE)
_FRAME = re.compile(r'^  File "(.*)", line (\d+) in (\S+)$', re.MULTILINE)


def _all_stacks(fd_read: int, fd_write: int) -> dict[int, list[tuple[str, str, int]]]:
    """Every thread's Python frames as (file stem, function, line), innermost first.

    faulthandler's dump reads the frames in C with the GIL held throughout; walking
    ``sys._current_frames()`` in Python instead lets the other threads run between two steps
    of the walk, and on CPython 3.11 that crashed the bench (segfault in ``f_back``).
    """
    faulthandler.dump_traceback(fd_write, all_threads=True)
    text = os.read(fd_read, 1 << 20).decode(errors="replace")
    stacks: dict[int, list[tuple[str, str, int]]] = {}
    heads = list(_THREAD.finditer(text))
    for i, head in enumerate(heads):
        body = text[head.end() : heads[i + 1].start() if i + 1 < len(heads) else len(text)]
        stacks[int(head.group(1), 16)] = [
            (
                Path(m.group(1)).stem
                if "/app/" in m.group(1) or "bench_ui" in m.group(1)
                else "~" + Path(m.group(1)).stem,
                m.group(3),
                int(m.group(2)),
            )
            for m in _FRAME.finditer(body)
        ]
    return stacks


def _stack(frames: list[tuple[str, str, int]], depth: int, app_only: bool = True) -> str:
    """The innermost ``depth`` frames (of the app and the bench only when ``app_only``;
    other files are marked with ``~``)."""
    shown = [f for f in frames if not (app_only and f[0].startswith("~"))][:depth]
    return " < ".join(f"{stem}:{name}:{line}" for stem, name, line in shown)


class _StallMeter:
    """A QTimer every TICK_MS on the UI thread; a stall is the gap beyond the interval.

    Each gap is kept with the phase of the flow it happened in (``phase``, set by the driver).
    A sampler thread looks at the UI thread every ms while a tick is late by more than
    SAMPLE_AFTER_MS and records the UI thread's Python stack, so each long stall comes with
    what the UI thread was running (a Python handler, or only ``pump`` = inside Qt itself),
    and the innermost frames of the other threads that were not waiting (the ones that may
    have held the GIL). Between stalls it sleeps, so it does not compete for the GIL itself.
    """

    SAMPLE_AFTER_MS = 15.0

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self.cpu: list[float] = []  # the UI thread's own CPU time in each gap
        self.gc_ms: list[float] = []  # garbage collections on any thread
        self.phases: list[str] = []
        self._phase = "idle"
        self._phases_seen = ["idle"]  # phases the flow passed through since the last tick
        self.last = time.perf_counter()
        self.last_cpu = time.thread_time()
        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self._ui_thread = threading.get_ident()
        self._samples: list[str] = []
        # (gap ms, UI thread CPU ms in it, phase, Counter of stacks seen during that gap)
        self.stalls: list[tuple[float, float, str, collections.Counter[str]]] = []
        self._run = threading.Event()
        self._sampler: threading.Thread | None = None
        # faulthandler writes the stacks here and the sampler reads them back; a dump that
        # filled the pipe would block with the GIL held, so the pipe gets 1 MiB (Linux).
        self._pipe = os.pipe()
        fcntl.fcntl(self._pipe[1], 1031, 1 << 20)  # F_SETPIPE_SZ

    @property
    def phase(self) -> str:
        return self._phase

    @phase.setter
    def phase(self, name: str) -> None:
        self._phase = name
        self._phases_seen.append(name)

    def _tick(self) -> None:
        now = time.perf_counter()
        cpu_now = time.thread_time()
        gap = max(0.0, (now - self.last) * 1000 - TICK_MS)
        cpu = (cpu_now - self.last_cpu) * 1000
        self.last_cpu = cpu_now
        # A gap that spans a phase change (a key handled synchronously) is named by all of
        # them: "photo>to-signature>signature".
        seen = list(dict.fromkeys(self._phases_seen))
        phase = ">".join(seen[-3:])
        self._phases_seen = [self._phase]
        self.gaps.append(gap)
        self.cpu.append(cpu)
        self.phases.append(phase)
        if self._samples:
            samples, self._samples = self._samples, []
            if gap >= self.SAMPLE_AFTER_MS:
                self.stalls.append((gap, cpu, phase, collections.Counter(samples)))
        self.last = now

    # Innermost Python frames of a thread that waits (idle pool worker, condition, socket).
    _WAITING = frozenset({"wait", "_worker", "get", "select", "poll", "_recv_into", "accept"})

    def _sample(self) -> None:
        while self._run.is_set():
            # Sleep until a tick would be SAMPLE_AFTER_MS late; then look every ms.
            late = (time.perf_counter() - self.last) * 1000 - TICK_MS
            if late < self.SAMPLE_AFTER_MS:
                time.sleep(max(0.001, (self.SAMPLE_AFTER_MS - late) / 1000))
                continue
            time.sleep(0.001)
            names = {t.ident: t.name for t in threading.enumerate()}
            stacks = _all_stacks(*self._pipe)
            frames = stacks.get(self._ui_thread)
            if frames is None:
                continue
            self._samples.append(_stack(frames, 3) or "(Qt, no Python frame of the app)")
            # What the other threads were doing: the ones not waiting may hold the GIL.
            for ident, other in stacks.items():
                if ident in (self._ui_thread, threading.get_ident()) or not other:
                    continue
                if other[0][1] in self._WAITING:
                    continue
                where = _stack(other, 2, app_only=False)
                self._samples.append(f"  other {names.get(ident, hex(ident))}: {where}")

    def start(self) -> None:
        self.gaps = []
        self.cpu = []
        self.phases = []
        self.stalls = []
        self.gc_ms = []
        self._samples = []
        self._phases_seen = [self._phase]
        self.last = time.perf_counter()
        self.last_cpu = time.thread_time()
        self.timer.start()
        gc.callbacks.append(self._gc)
        self._run.set()
        self._sampler = threading.Thread(target=self._sample, name="stall-sampler", daemon=True)
        self._sampler.start()

    _gc_started = 0.0

    def _gc(self, stage: str, _info: dict[str, int]) -> None:
        if stage == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_ms.append((time.perf_counter() - self._gc_started) * 1000)

    def stop(self) -> list[float]:
        self.timer.stop()
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)
        self._run.clear()
        if self._sampler is not None:
            self._sampler.join(1)
        return self.gaps

    def worst_phase(self) -> str:
        return self.phases[self.gaps.index(max(self.gaps))] if self.gaps else "-"

    def report(self, top: int = 12) -> str:
        """The longest stalls with their phase and the UI thread's stacks (innermost first)."""
        lines = []
        for gap, cpu, phase, stacks in sorted(self.stalls, key=lambda s: -s[0])[:top]:
            # cpu: what the UI thread itself computed in the gap; the rest it waited (for
            # the GIL, or for a core on a loaded machine).
            lines.append(f"  {gap:6.1f} ms (UI thread CPU {cpu:5.1f} ms)  [{phase}]")
            ui = [(k, n) for k, n in stacks.most_common() if not k.startswith("  other")]
            others = [(k, n) for k, n in stacks.most_common() if k.startswith("  other")]
            for stack, n in ui[:3] + others[:4]:
                lines.append(f"           {n:3d}x {stack}")
        by_phase: dict[str, list[float]] = collections.defaultdict(list)
        for gap, phase in zip(self.gaps, self.phases, strict=True):
            by_phase[phase].append(gap)
        if self.gc_ms:
            lines.append(
                f"  garbage collections: {len(self.gc_ms)}, longest {max(self.gc_ms):.1f} ms,"
                f" total {sum(self.gc_ms):.0f} ms"
            )
        lines.append("  per phase: max / p99 / ticks")
        for phase, gaps in by_phase.items():
            lines.append(
                f"    {phase:32s} {max(gaps):6.1f} / {percentile(gaps, 99):6.1f} / {len(gaps)}"
            )
        return "\n".join(lines)


def _one_recording(rec: Any, meter: _StallMeter, key: Any, keys: Any, wait: Any) -> None:
    """One recording from the keyboard, F3 to its receipt, each part its own meter phase."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    meter.phase = "to-biodata"
    key(Qt.Key.Key_F3)
    wait(lambda: rec.step() == rec.BIODATA)
    meter.phase = "biodata"
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
    meter.phase = "to-photo"
    key(Qt.Key.Key_Return)
    meter.phase = "photo"
    wait(
        lambda: rec.photo.preview.quality is not None and rec.photo.preview.quality.good,
        app_wait=False,  # the resident posing, not the app
    )
    key(Qt.Key.Key_Return)
    wait(lambda: rec.photo.photo is not None)
    meter.phase = "to-signature"
    key(Qt.Key.Key_Return)
    meter.phase = "signature"
    pad = rec.signature.pad
    QTest.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(30, 60))
    for x in range(40, 300, 10):
        QTest.mouseMove(pad, QPoint(x, 60 + x % 30))
    QTest.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(300, 60))
    meter.phase = "to-card"
    key(Qt.Key.Key_Return)
    meter.phase = "to-review"
    key(Qt.Key.Key_Return)
    meter.phase = "seal"
    key(Qt.Key.Key_Return)
    wait(lambda: rec.step() == rec.RECEIPT)
    meter.phase = "receipt"


def _recording_stalls(quick: bool) -> list[Figure]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import QEventLoop, Qt, QTimer
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
            warmed: list[bool] = []
            window.warmed_up.connect(lambda: warmed.append(True))
            meter = _StallMeter()
            meter.phase = "start-up"
            meter.start()
            window.show()

            def pump(ms: int) -> None:
                # The event loop for ms, as the app's own app.exec() runs it. Not QTest.qWait:
                # PySide6's qWait keeps the GIL while it sleeps in Qt, so every worker thread
                # (region search, seal, sync, camera) would be stopped while the UI thread
                # waits and squeezed into the moments it runs Python — a loop no operator has.
                loop = QEventLoop()
                QTimer.singleShot(ms, loop.quit)
                loop.exec()

            # What one recording costs the operator: keys pressed, and the seconds spent
            # waiting for the app (region results, photo check, seal) — not for the camera to
            # see a good face, which is the resident's part (issue 14).
            flow = {"keys": 0, "waited": 0.0, "typing": 0.0, "counting": False}

            def wait(cond, timeout: float = 30.0, app_wait: bool = True) -> None:  # type: ignore[no-untyped-def]
                t0 = time.monotonic()
                deadline = t0 + timeout
                while not cond():
                    if time.monotonic() > deadline:
                        raise TimeoutError("bench flow stuck")
                    pump(2)
                if flow["counting"] and app_wait:
                    flow["waited"] += time.monotonic() - t0

            def keys(text: str) -> None:
                # One key at a time with a short pause, as a fast typist: the event loop runs
                # between keys, so a slow handler shows up as a stall of its own.
                for ch in text:
                    QTest.keyClicks(QApplication.focusWidget(), ch)
                    pump(15)
                if flow["counting"]:
                    flow["keys"] += len(text)
                    flow["typing"] += len(text) * 0.015

            def key(k, mod=Qt.KeyboardModifier.NoModifier) -> None:  # type: ignore[no-untyped-def]
                QTest.keyClick(QApplication.focusWidget(), k, mod)
                pump(15)  # as keys(): no operator presses two keys in the same ms
                if flow["counting"]:
                    flow["keys"] += 1
                    flow["typing"] += 0.015

            window.activateWindow()
            # Start-up: first show, the station loaded from the store, the domain warm-up on
            # its worker (region data, ~100,000 objects) and the heap frozen after it.
            wait(lambda: window.station is not None and window.signin.username.hasFocus())
            wait(lambda: bool(warmed))
            startup = meter.stop()
            startup_phase = meter.worst_phase()
            print("UI stalls from show to warm-up done:", file=sys.stderr)
            print(meter.report(top=4), file=sys.stderr)
            # Baseline: the same meter on the idle event loop (sync worker polling, nothing to
            # send), for a fixed time.
            meter.phase = "idle"
            idle_s = 3.0 if quick else 8.0
            meter.start()
            pump(int(idle_s * 1000))
            idle = meter.stop()

            meter.start()
            meter.phase = "sign-in"
            keys("siti")
            key(Qt.Key.Key_Return)
            keys("rahasia-siti-1")
            key(Qt.Key.Key_Return)
            wait(lambda: window.stack.currentWidget() is window.home)
            rec = window.recording
            flow["counting"] = True
            for _ in range(recordings):
                _one_recording(rec, meter, key, keys, wait)
            flow["counting"] = False
            meter.phase = "sync-wait"
            key(Qt.Key.Key_F4)

            def all_sent() -> bool:
                rows = window.queue.model.rows
                if len(rows) == recordings and all(r.status == "uploaded" for r in rows):
                    return True
                window.queue.refresh()
                pump(50)
                return False

            wait(all_sent, timeout=60)
            busy = meter.stop()
            flow_keys, flow_waited = float(flow["keys"]), float(flow["waited"])
            flow_typing = float(flow["typing"])
            worst_phase = meter.worst_phase()
            load = os.getloadavg()[0]
            print(f"UI stalls (load {load:.1f}):", file=sys.stderr)
            print(meter.report(), file=sys.stderr)
            window.close()
        finally:
            server.stop()
    bare = _bare_loop_gaps(idle_s)
    worst = max(busy)
    worst_cpu = meter.cpu[busy.index(worst)]
    p99 = percentile(busy, 99)
    above: collections.Counter[str] = collections.Counter(
        ph for g, ph in zip(busy, meter.phases, strict=True) if g >= p99
    )
    p99_phase = above.most_common(1)[0][0] if above else "-"
    return [
        Figure(
            "ui",
            f"longest UI-thread stall, {recordings} recording(s) + sync (in: {worst_phase})",
            "ms",
            worst,
            max(idle),
            "idle event loop (same timer)",
            "< 50 ms",
            worst < 50,
        ),
        Figure(
            "ui",
            f"UI-thread stall p99 during recording + sync (most above it in: {p99_phase})",
            "ms",
            p99,
            percentile(idle, 99),
            "idle event loop p99",
        ),
        # How much of the longest stall the UI thread computed itself; the rest it waited
        # for the GIL or for a core (on a loaded machine, mostly the core).
        Figure("ui", "UI-thread CPU time within the longest stall", "ms", worst_cpu),
        Figure(
            "ui",
            f"longest UI-thread stall from show to warm-up done (in: {startup_phase})",
            "ms",
            max(startup),
            max(bare),
            "bare QApplication process (same timer)",
        ),
        # The machine's own noise: the same timer in a fresh process with nothing but a
        # QApplication; on a loaded machine even this misses ticks by tens of ms.
        Figure(
            "ui",
            "longest gap of the same timer in a bare QApplication process",
            "ms",
            max(bare),
            percentile(bare, 99),
            "its p99",
        ),
        Figure("ui", "load average (1 min) at the end of the stall run", "", load),
        # One recording as the operator does it (issue 14): keys pressed (plus one signature)
        # beside the characters of the resident's data itself; the seconds the app made the
        # operator wait beside the seconds of typing (15 ms a key, a fast typist).
        Figure(
            "ui",
            "keys pressed for one recording (F3 to the receipt, plus one signature)",
            "keys",
            flow_keys / recordings,
            float(RESIDENT_CHARS),
            "characters of the resident's data",
        ),
        Figure(
            "ui",
            "seconds the app makes the operator wait in one recording",
            "s",
            flow_waited / recordings,
            flow_typing / recordings,
            "seconds of typing (15 ms a key)",
        ),
    ]


_BARE_LOOP = """
import sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QWidget
app = QApplication([])
w = QWidget(); w.show()
gaps, last = [], [0.0]
def tick():
    now = time.perf_counter()
    if last[0]:
        gaps.append(max(0.0, (now - last[0]) * 1000 - TICK_MS))
    last[0] = now
t = QTimer(); t.setInterval(TICK_MS); t.timeout.connect(tick); t.start()
QTimer.singleShot(int(float(sys.argv[1]) * 1000), app.quit)
app.exec()
print(" ".join(f"{g:.3f}" for g in gaps), flush=True)
"""


def _bare_loop_gaps(seconds: float) -> list[float]:
    """The stall meter's timer in a fresh process with only a QApplication and a widget."""
    code = textwrap.dedent(_BARE_LOOP).replace("TICK_MS", str(TICK_MS))
    out = subprocess.run(
        [sys.executable, "-c", code, str(seconds)],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=ROOT,
        timeout=seconds + 30,
        check=True,
    ).stdout
    return [float(g) for g in out.split()] or [0.0]


def run(quick: bool) -> list[Figure]:
    return _cold_start(quick) + _recording_stalls(quick)
