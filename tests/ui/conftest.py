"""Shared helpers for the UI tests (pytest-qt, offscreen unless a test starts X)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QMessageBox, QWidget

from app.ui.services import Operator
from app.ui.station import DEMO_VIDEO, StationServices
from tests.support.server_fixtures import add_station


@pytest.fixture(autouse=True)
def _source_language() -> Iterator[None]:
    """Each test starts and ends in Bahasa Indonesia, whatever it switched to."""
    yield
    from app.ui.i18n import reset_language

    reset_language()


@pytest.fixture(autouse=True)
def _windows_live_until_closed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every MainWindow a test makes stays alive until pytest-qt has closed it.

    pytest-qt closes the widgets given to ``qtbot.addWidget`` through weak references after the
    test; a window the garbage collector took first was never closed, so its ``shutdown()`` never
    ran and its worker threads outlived the test (and failed a later test's thread check).
    """
    from app.ui.main_window import MainWindow

    windows: list[MainWindow] = []
    original = MainWindow.__init__

    def init(self: MainWindow, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        windows.append(self)

    monkeypatch.setattr(MainWindow, "__init__", init)
    yield
    for window in windows:
        # A test may end with a draft open: the window would ask before closing.
        try:
            window._close_confirmed = True
            window.close()
        except RuntimeError:  # already deleted by pytest-qt (deleteLater ran)
            pass
    windows.clear()


def question(window: QWidget) -> QMessageBox | None:
    """The confirmation the window shows, if any (window-modal, not blocking the test)."""
    boxes = [b for b in window.findChildren(QMessageBox) if b.isVisible()]
    return boxes[0] if boxes else None


def answer(qtbot, window: QWidget, yes: bool) -> str:
    qtbot.waitUntil(lambda: question(window) is not None, timeout=10000)
    box = question(window)
    assert box is not None
    text = box.text()
    role = QMessageBox.ButtonRole.YesRole if yes else QMessageBox.ButtonRole.NoRole
    button = next(b for b in box.buttons() if box.buttonRole(b) == role)
    button.click()
    qtbot.waitUntil(lambda: question(window) is None, timeout=10000)
    if window.isVisible():  # offscreen, the window does not get the focus back by itself
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=10000)
    return text


def show_active(qtbot, widget: QWidget) -> None:
    """Show a top-level widget and make it the active window, so focus and Tab work."""
    # Widgets of the previous test are deleted later; their deletion would deactivate ours.
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    widget.show()
    qtbot.waitExposed(widget)
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow, timeout=20000)


# --- a real station home, a real server ------------------------------------------------

OPERATOR = ("siti", "rahasia-siti-123")
TECHNICIAN = ("teknisi", "rahasia-teknisi-123")
SUPERVISOR = ("supervisor", "rahasia-supervisor-123")
DEMO_CAMERA = [(f"file:{DEMO_VIDEO}", "Demo video")]


@dataclass
class Kit:
    services: StationServices
    home: Path
    server: object | None = None  # tests.support.server.ServerProcess
    server_key: object | None = None  # the back office's private key (offline kits)


def add_operators(services: StationServices) -> None:
    from app.store.operators import add_operator

    for (name, password), role in (
        (OPERATOR, "operator"),
        (TECHNICIAN, "technician"),
        (SUPERVISOR, "supervisor"),
    ):
        add_operator(services.store, name, role, password, actor="test")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[object]:
    """A real ``ektp-server`` process on loopback (SQLite), stopped by PID after the test."""
    from tests.support.server import ServerProcess

    proc = ServerProcess(tmp_path / "server").start()
    yield proc
    proc.stop()


def server_packets(server: object) -> list[dict]:
    from tests.support.cli import run_server

    res = run_server("--home", str(server.home), "packets", "--json")  # type: ignore[attr-defined]
    assert res.returncode == 0, res.stderr
    return list(json.loads(res.stdout)["packets"])


@pytest.fixture
def online_kit(tmp_path: Path, server: object) -> Iterator[Kit]:
    """A station provisioned against the real server, with operator, technician, supervisor."""
    services = StationServices(tmp_path / "station", camera_sources=DEMO_CAMERA, sync_interval_s=2)
    add_operators(services)
    services.provision(Operator(TECHNICIAN[0], "technician"), server.url, add_station(server))  # type: ignore[arg-type]
    yield Kit(services, services.home, server)
    services.close()


@pytest.fixture
def offline_kit(tmp_path: Path) -> Iterator[Kit]:
    """A station set up offline (``init`` with the server's public key file), no server."""
    from tests.support.station import make_station

    st = make_station(tmp_path, operator=OPERATOR[0], password=OPERATOR[1])
    services = StationServices(st.home, camera_sources=DEMO_CAMERA)
    from app.store.operators import add_operator

    add_operator(services.store, TECHNICIAN[0], "technician", TECHNICIAN[1], actor="test")
    add_operator(services.store, SUPERVISOR[0], "supervisor", SUPERVISOR[1], actor="test")
    yield Kit(services, st.home, server_key=st.server_key)
    services.close()


@pytest.fixture
def unprovisioned_kit(tmp_path: Path) -> Iterator[Kit]:
    services = StationServices(tmp_path / "station", camera_sources=DEMO_CAMERA)
    add_operators(services)
    yield Kit(services, services.home)
    services.close()


@pytest.fixture
def stick(tmp_path: Path) -> Iterator[Path]:
    """Removable media as the station sees it: a filesystem of its own (a small tmpfs),
    not the disk that holds the station's data."""
    from tests.support.fs import small_tmpfs

    with small_tmpfs(tmp_path / "stick", "16m") as path:
        yield path


# --- reading a PDF as a reader would ------------------------------------------------------


@dataclass(frozen=True)
class PdfWord:
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float
    page_width: float
    page_height: float

    @property
    def height(self) -> float:
        return self.y_max - self.y_min

    @property
    def on_page(self) -> bool:
        return (
            0 <= self.x_min < self.x_max <= self.page_width
            and 0 <= self.y_min < self.y_max <= self.page_height
        )


def pdf_words(path: Path) -> list[PdfWord]:
    """Every word of a PDF with its box in points, from poppler's ``pdftotext -bbox``."""
    import subprocess
    import xml.etree.ElementTree as ET

    from tests.support.components import require_binary

    pdftotext = require_binary("pdftotext", "poppler-utils")
    out = subprocess.run(
        [pdftotext, "-bbox", str(path), "-"], capture_output=True, check=True, timeout=30
    ).stdout
    root = ET.fromstring(out)
    words = []
    for page in root.iter("{http://www.w3.org/1999/xhtml}page"):
        width, height = float(page.get("width", 0)), float(page.get("height", 0))
        for word in page.iter("{http://www.w3.org/1999/xhtml}word"):
            words.append(
                PdfWord(
                    word.text or "",
                    float(word.get("xMin", 0)),
                    float(word.get("yMin", 0)),
                    float(word.get("xMax", 0)),
                    float(word.get("yMax", 0)),
                    width,
                    height,
                )
            )
    return words
