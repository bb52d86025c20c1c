"""``run_gui(argv, home, demo=False)``: the station's GUI entry point (called by app/cli.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

NO_DISPLAY_MESSAGE = (
    "ektp-station: no display found (DISPLAY and WAYLAND_DISPLAY are not set).\n"
    "Run it under a virtual X server, e.g.:  xvfb-run -a ektp-station demo\n"
    "or set QT_QPA_PLATFORM=offscreen for a window nobody can see."
)


def display_available(env: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """On Linux Qt needs an X or Wayland display unless a platform plugin is forced."""
    env = dict(os.environ) if env is None else env
    platform = sys.platform if platform is None else platform
    if not platform.startswith("linux"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM"))


def run_gui(argv: list[str], home: Path, demo: bool = False) -> int:
    if not display_available():
        print(NO_DISPLAY_MESSAGE, file=sys.stderr)
        return 2
    from PySide6.QtWidgets import QApplication

    from app.single_instance import acquire
    from app.ui.i18n import Language
    from app.ui.main_window import MainWindow

    # The installer checks this mutex to refuse upgrading a running station.
    lock = acquire()
    if lock.already_running:
        lock.release()
        print("ektp-station: the station is already running on this computer", file=sys.stderr)
        return 1
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication([sys.argv[0], *argv])
    app.setApplicationName("ektp-station")
    app.setApplicationDisplayName("Perekaman KTP-el")
    # Ctrl+C in the terminal or a SIGTERM closes the window properly (loops stopped, the demo
    # server stopped), also when it comes during start-up: installed before the demo server
    # starts, so a signal between its "sign in as" line and the event loop no longer kills the
    # process outright (the demo server outlived it). Python runs signal handlers only when
    # it gets control: a timer gives it that once the event loop runs.
    import signal

    from PySide6.QtCore import QTimer

    stop_asked: list[int] = []

    def on_signal(*_: object) -> None:
        stop_asked.append(1)
        # exit(), not quit(): quit() closes the windows first, and the window asks before
        # dropping a draft; a signal cannot be asked (``finally`` shuts the window down).
        QTimer.singleShot(0, lambda: app.exit(0))  # in the event loop, or as soon as it starts

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)
    demo_run = None
    if demo:
        from app.ui.demo import DemoRun

        demo_run = DemoRun.start(home)
        services = demo_run.services
    else:
        from app.ui.station import StationServices

        services = StationServices(home)
    from app.ui.prefs import load_prefs

    language = Language()
    # EKTP_LANG wins; else the language a technician chose last time (Teknisi > Bahasa).
    lang = os.environ.get("EKTP_LANG") or str(load_prefs(services.home).get("language", ""))
    window = MainWindow(services, language)
    if lang in ("en", "id"):
        language.set(lang)
    window.showMaximized()  # every screen is laid out for 1024×768 and up
    wakeup = QTimer()
    wakeup.timeout.connect(lambda: None)
    wakeup.start(200)
    try:
        if stop_asked:  # asked during start-up: no need to start the event loop at all
            return 0
        return int(app.exec())
    finally:
        window.shutdown()
        if demo_run is not None:
            demo_run.stop()
        lock.release()
