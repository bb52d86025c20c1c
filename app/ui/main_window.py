"""The main window: sign-in, then Beranda / Perekaman baru / Antrian / Teknisi.

Everything the window needs from the station comes in through ``services`` (constructor
injection); device and sync loops start here and stop in ``closeEvent``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from app.ui.activity import ActivityFilter
from app.ui.bridge import CardBridge, SyncBridge
from app.ui.chrome import STYLE, operator_text, station_text
from app.ui.i18n import Language, tr
from app.ui.messages import error_text
from app.ui.prefs import save_prefs
from app.ui.screens.card_check import install as install_card_check
from app.ui.screens.home import HomeScreen, SyncLight
from app.ui.screens.queue import QueueScreen
from app.ui.screens.recording import RecordingScreen
from app.ui.screens.reprint import ReprintDialog
from app.ui.screens.rerecord import RerecordScreen
from app.ui.screens.signin import SignInScreen
from app.ui.screens.technician import TechnicianScreen
from app.ui.send_feedback import SendFeedback
from app.ui.services import (
    CardEvent,
    Operator,
    Sealed,
    Services,
    StationInfo,
    StationStatus,
    Stoppable,
    SyncHandle,
    SyncLightState,
)
from app.ui.tasks import TaskManager
from app.ui.warm_up import freeze_heap, warm_up
from app.ui.widgets import confirm

log = logging.getLogger(__name__)

DEFAULT_IDLE_LOCK_MS = 5 * 60 * 1000
STATUS_REFRESH_MS = 5000
UI_SWITCH_INTERVAL_S = 0.0005


class MainWindow(QMainWindow):
    station_loaded = Signal(object)  # StationInfo
    status_loaded = Signal(object)  # StationStatus
    locked = Signal()
    warmed_up = Signal()  # the domain data is loaded and the heap frozen (or the warm-up failed)

    def __init__(
        self,
        services: Services,
        language: Language | None = None,
        idle_lock_ms: int | None = None,
        start_devices: bool = True,
    ) -> None:
        super().__init__()
        # Background threads (region index, sealing, sync) run Python too; a short GIL switch
        # interval keeps the UI thread from waiting up to 5 ms at each Qt call it makes.
        sys.setswitchinterval(UI_SWITCH_INTERVAL_S)
        self.setObjectName("main_window")
        self.services = services
        self.language = language or Language()
        self.tasks = TaskManager(self)
        self.operator: Operator | None = None
        self.station: StationInfo | None = None
        self.sync_state: SyncLightState | None = None
        self.sync: SyncHandle | None = None
        self.card_watcher: Stoppable | None = None
        self.reprint_dialog: ReprintDialog | None = None
        self._question: QMessageBox | None = None  # "drop the draft?" on sign-out or close
        self._close_confirmed = False
        self._closed = False
        self._rerecording = False  # the next show_recording comes from "Rekam ulang"
        self.setStyleSheet(STYLE)

        self.signin = SignInScreen(services, self.tasks)
        self.home = HomeScreen()
        self.recording = RecordingScreen(services, self.tasks)
        self.queue = QueueScreen(services, self.tasks)
        self.technician = TechnicianScreen(services, self.tasks)
        self.rerecord = RerecordScreen(services, self.tasks)
        self.stack = QStackedWidget()
        for screen in (
            self.signin,
            self.home,
            self.recording,
            self.queue,
            self.technician,
            self.rerecord,
        ):
            self.stack.addWidget(screen)

        self.station_label = QLabel()
        self.station_label.setObjectName("header_station")
        self.light = SyncLight()
        self.operator_label = QLabel()
        self.operator_label.setObjectName("header_operator")
        self.banner = QLabel()
        self.banner.setObjectName("warning")
        self.banner.setWordWrap(True)
        self.banner.hide()
        header = QHBoxLayout()
        header.addWidget(self.station_label, 1)
        header.addWidget(self.light)
        header.addSpacing(16)
        header.addWidget(self.operator_label)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addLayout(header)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.toolbar = QToolBar()
        self.toolbar.setObjectName("nav")
        self.toolbar.setMovable(False)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(self.toolbar)
        self.act_home = self._action("F2", self.show_home)
        self.act_new = self._action("F3", self.show_recording)
        self.act_queue = self._action("F4", self.show_queue)
        self.act_technician = self._action("F5", self.show_technician)
        self.toolbar.addSeparator()
        self.act_lock = self._action("Ctrl+L", self.lock)
        self.act_sign_out = self._action("Ctrl+Shift+L", self.sign_out)
        self.act_new.setShortcuts([QKeySequence("F3"), QKeySequence("Ctrl+N")])

        self.card_bridge = CardBridge(self)
        self.card_bridge.card.connect(self._on_card)
        self.sync_bridge = SyncBridge(self)
        self.sync_bridge.state.connect(self._on_sync_state)

        self.signin.signed_in.connect(self._signed_in)
        self.home.new_recording.connect(self.show_recording)
        self.home.send_now.connect(self.send_now)
        self.home.open_queue.connect(self.show_queue)
        self.home.open_rerecord.connect(self.show_rerecord)
        self.rerecord.start_recording.connect(self._start_rerecording)
        self.queue.send_now.connect(self.send_now)
        self.home.reprint.connect(self.reprint)
        self.queue.reprint.connect(self.reprint)
        self.recording.sealed.connect(self._on_sealed)
        self.recording.go_home.connect(self.show_home)
        self.technician.station_changed.connect(self._station_changed)
        self.technician.camera_chosen.connect(self._camera_chosen)
        self.technician.language_requested.connect(self.set_language)

        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        # None: the station's setting idle_lock_minutes (the central office may set it),
        # taken when the station info loads.
        self._idle_from_settings = idle_lock_ms is None
        self.idle_timer.setInterval(DEFAULT_IDLE_LOCK_MS if idle_lock_ms is None else idle_lock_ms)
        self.idle_timer.timeout.connect(self.lock_idle)
        self._activity = ActivityFilter(self.idle_timer)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._activity)
        self.status_timer = QTimer(self)
        self.status_timer.setInterval(STATUS_REFRESH_MS)
        self.status_timer.timeout.connect(self.refresh_status)
        self.send_feedback = SendFeedback(self._send_note, lambda: self.sync_state, self)

        self.resize(1100, 760)
        self.retranslate()
        self._show_signed_out()
        self.load_station()
        self.card_check = install_card_check(self)  # Cek KTP-el, F6 (issue 19)
        if start_devices:
            self.start_card_watcher()

    def _action(self, shortcut: str, slot: object) -> QAction:
        action = QAction(self)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(slot)
        self.toolbar.addAction(action)
        return action

    # --- station and status ----------------------------------------------------------------
    def load_station(self) -> None:
        self.tasks.run_db(self.services.station_info, self._station_changed, self._background_error)

    def _station_changed(self, info: StationInfo) -> None:
        first = self.station is None
        was_provisioned = self.station is not None and self.station.provisioned
        self.station = info
        self.home.show_station(info)
        self.signin.show_accounts(info.operators)
        self.recording.set_station(info, self.services.home)
        # A card-check station (issue 19) offers no recording: F3 and the button are gone.
        self.act_new.setVisible(not info.card_check_only)
        self.act_new.setEnabled(self.operator is not None and not info.card_check_only)
        if self._idle_from_settings and info.idle_lock_minutes:
            self.idle_timer.setInterval(info.idle_lock_minutes * 60 * 1000)
        self._show_header()
        if info.provisioned and (first or not was_provisioned) and self.sync is None:
            self.start_sync()
        elif not info.provisioned:
            self._on_sync_state(SyncLightState("not-provisioned"))
        if first:
            kabupaten = info.kabupaten_code
            self.tasks.run_net(
                lambda: warm_up(self.services, kabupaten), self._warmed, self._warm_up_failed
            )
        self.station_loaded.emit(info)
        self.refresh_status()

    def _warmed(self, _result: object = None) -> None:
        freeze_heap()
        self.warmed_up.emit()

    def _warm_up_failed(self, exc: BaseException) -> None:
        log.error("domain warm-up failed", exc_info=exc)
        self.warmed_up.emit()

    def refresh_status(self) -> None:
        if self._closed:
            return
        self.tasks.run_db(self.services.home_status, self._status_loaded, self._background_error)

    def _status_loaded(self, status: StationStatus) -> None:
        self.home.show_status(status)
        if self.station is not None and status.card_check_only != self.station.card_check_only:
            self.load_station()  # the centre's answer changed the role meanwhile (sync)
        if status.behind == "refuse":
            self.banner.setText(error_text("behind-refuse"))
            self.banner.show()
        else:
            self.banner.hide()
        self.status_loaded.emit(status)

    def _background_error(self, exc: BaseException) -> None:
        log.warning("background error: %s", exc)
        code = getattr(exc, "code", None)
        if code:
            self.banner.setText(error_text(code, getattr(exc, "detail", "")))
            self.banner.show()

    # --- devices and sync ------------------------------------------------------------------
    def start_card_watcher(self) -> None:
        self.tasks.run_net(
            lambda: self.services.start_card_watcher(self.card_bridge.on_event),
            self._card_watcher_started,
            lambda e: self._on_card(CardEvent("", False, error=getattr(e, "code", "no-reader"))),
        )

    def _card_watcher_started(self, watcher: Stoppable) -> None:
        if self._closed:
            watcher.stop()
            return
        self.card_watcher = watcher

    def _on_card(self, event: CardEvent) -> None:
        self.signin.on_card(event)
        self.recording.on_card(event)
        self.technician.on_card(event)

    def start_sync(self) -> None:
        def start() -> SyncHandle | None:
            return self.services.start_sync(self.sync_bridge.on_state)

        self.tasks.run_net(start, self._sync_started, self._background_error)

    def _sync_started(self, handle: SyncHandle | None) -> None:
        if self._closed:
            if handle is not None:
                handle.stop()
            return
        self.sync = handle

    def _on_sync_state(self, state: SyncLightState) -> None:
        previous = self.sync_state
        self.sync_state = state
        self.send_feedback.on_state(state)
        self.light.show_state(state)
        self.home.show_sync(state)
        if previous is None or previous.state != state.state or previous.sent != state.sent:
            self.refresh_status()
            if self.stack.currentWidget() is self.queue:
                self.queue.refresh()

    def send_now(self) -> None:
        """Kirim sekarang (Beranda, Antrian); the answer is shown on both."""
        self.send_feedback.send(self.sync)

    def _send_note(self, text: str) -> None:
        self.home.send_note.setText(text)
        self.queue.send_note.setText(text)

    def _on_sealed(self, sealed: Sealed) -> None:
        if self.sync is not None:
            self.sync.wake()
        self._show_reprint()
        self.refresh_status()

    def _show_reprint(self) -> None:
        can = self.recording.last_receipt is not None
        self.home.reprint_button.setEnabled(can)
        self.queue.reprint_button.setEnabled(can)

    def reprint(self) -> None:
        """The last receipt of this session again (kept in memory only)."""
        last = self.recording.last_receipt
        if self.operator is None or last is None:
            return
        self._close_reprint()
        self.reprint_dialog = ReprintDialog(self.tasks, *last, parent=self)
        self.reprint_dialog.open()

    def _close_reprint(self) -> None:
        if self.reprint_dialog is not None:
            self.reprint_dialog.receipt.forget()
            self.reprint_dialog.close()
            self.reprint_dialog.deleteLater()
            self.reprint_dialog = None

    def _camera_chosen(self, choice: str) -> None:
        self.recording.set_camera(choice)

    # --- sign-in and navigation ------------------------------------------------------------
    def _signed_in(self, operator: Operator) -> None:
        previous = self.operator
        self.operator = operator
        # An operator card left on the reader after sign-in is not the resident's.
        self.recording.begin_session(operator, self.signin.card_uid)
        if previous is not None and previous.username != operator.username:
            self.recording.start_new()  # another operator never sees the draft
            self.recording.forget_receipt()  # nor the last receipt
            self._show_reprint()
        self.act_technician.setEnabled(operator.is_technician)
        self._set_nav_enabled(True)
        self._show_header()
        self.idle_timer.start()
        self.status_timer.start()
        if self.recording.has_draft():
            self.show_recording()  # back to the draft after an idle lock
        elif self.recording.has_receipt():
            # Back to the receipt not yet printed (another operator's was cleared above).
            self._switch(self.recording)
            self.recording.show_receipt_page()
        else:
            self.show_home()

    def _set_nav_enabled(self, enabled: bool) -> None:
        self.toolbar.setVisible(enabled)
        for act in (self.act_home, self.act_new, self.act_queue, self.act_lock, self.act_sign_out):
            act.setEnabled(enabled)
        if self.station is not None and self.station.card_check_only:
            self.act_new.setEnabled(False)
        self.act_technician.setEnabled(
            enabled and self.operator is not None and self.operator.is_technician
        )

    def _forget_messages(self) -> None:
        """Lines about something that happened (an export, a registration, a refused step):
        gone at sign-out and on a language switch (they were in the old language)."""
        self.queue.forget_messages()
        self.technician.forget_messages()
        self.home.send_note.setText("")
        self.send_feedback.forget()
        self.recording.clear_message()

    def _show_signed_out(self) -> None:
        self._set_nav_enabled(False)
        self._switch(self.signin)
        self.signin.reset(None)

    def lock_idle(self) -> None:
        self.lock(idle=True)

    def lock(self, idle: bool = False) -> None:
        if self.operator is None or self.stack.currentWidget() is self.signin:
            return
        self.idle_timer.stop()
        self._set_nav_enabled(False)
        self._close_reprint()
        self.recording.stop_camera()
        self.technician.left()
        self._switch(self.signin)
        self.signin.reset(self.operator, idle=idle)
        self.locked.emit()

    def sign_out(self) -> None:
        """Keluar: a draft with data is dropped only once the operator said so."""
        if self.operator is None:
            return
        if self.recording.loses_draft():
            name = self.recording.resident_name()
            self._ask(
                tr("Keluar dan buang rekaman %1?").replace("%1", name)
                if name
                else tr("Keluar dan buang rekaman yang sedang dibuat?"),
                tr("&Buang dan keluar"),
                tr("&Jangan keluar"),
                self._sign_out_now,
            )
            return
        self._sign_out_now()

    def _ask(self, text: str, yes: str, no: str, on_yes: Callable[[], object]) -> None:
        if self._question is not None:
            return  # already asked

        def closed(_result: int) -> None:
            self._question = None

        self._question = confirm(self, text, yes, no, on_yes)
        self._question.finished.connect(closed)

    def _sign_out_now(self) -> None:
        self._close_reprint()
        self._forget_messages()  # the next operator starts with a clean screen
        self.recording.end_session()
        self._show_reprint()
        self.operator = None
        self.idle_timer.stop()
        self._show_header()
        self._show_signed_out()

    def _switch(self, screen: QWidget) -> None:
        current = self.stack.currentWidget()
        if current is self.technician and screen is not self.technician:
            self.technician.left()
        if current is self.recording and screen is not self.recording:
            self.recording.stop_camera()
        self.stack.setCurrentWidget(screen)

    def show_home(self) -> None:
        if self.operator is None:
            return
        self._switch(self.home)
        self.home.show_draft(self.recording.resident_name() if self.recording.has_draft() else None)
        self.home.focus_first()
        self.refresh_status()

    def _start_rerecording(self) -> None:
        """ "Rekam ulang" on the list: the recording that opens re-records the chosen record."""
        self._rerecording = True
        self.show_recording()

    def show_recording(self) -> None:
        if self.operator is None:
            return
        # A new recording started any other way (F3 from another screen, no draft open) is
        # an ordinary one: a re-recording chosen earlier and left unstarted is forgotten.
        if not self._rerecording and not self.recording.has_draft():
            if self.stack.currentWidget() is not self.recording:
                self.services.start_rerecording(None)
        self._rerecording = False
        if self.station is not None and self.station.card_check_only:
            self.banner.setText(error_text("card-check-station"))
            self.banner.show()
            if self.stack.currentWidget() is self.signin:
                self.show_home()  # after a sign-in with a draft left from before
            return
        status = self.home.status
        if status is not None and status.behind == "refuse" and not self.recording.has_draft():
            self.banner.setText(error_text("behind-refuse"))
            self.banner.show()
            return
        self._switch(self.recording)
        self.recording.open()

    def show_queue(self) -> None:
        if self.operator is None:
            return
        self._switch(self.queue)
        self.queue.operator = self.operator
        self.queue.table.setFocus()
        self.queue.refresh()

    def show_rerecord(self) -> None:
        """The "Perlu rekam ulang" list (records the centre sent back)."""
        if self.operator is None:
            return
        self._switch(self.rerecord)
        self.rerecord.table.setFocus()
        self.rerecord.entered(self.operator)

    def show_technician(self) -> None:
        if self.operator is None or not self.operator.is_technician:
            return
        self._switch(self.technician)
        self.technician.entered(self.operator, self.station, self.language.current)

    # --- language --------------------------------------------------------------------------
    def set_language(self, code: str, remember: bool = True) -> None:
        self._forget_messages()
        self.language.set(code)  # Qt sends LanguageChange to every widget
        if remember:
            home = self.services.home
            self.tasks.run_db(lambda: save_prefs(home, language=code))

    def _show_header(self) -> None:
        self.station_label.setText(station_text(self.station))
        self.operator_label.setText(operator_text(self.operator))

    def retranslate(self) -> None:
        self.setWindowTitle(tr("Perekaman KTP-el"))
        self.toolbar.setWindowTitle(tr("Navigasi"))
        self.act_home.setText(tr("Beranda (F2)"))
        self.act_new.setText(tr("Perekaman baru (F3)"))
        self.act_queue.setText(tr("Antrian (F4)"))
        self.act_technician.setText(tr("Teknisi (F5)"))
        self.act_lock.setText(tr("Kunci (Ctrl+L)"))
        self.act_sign_out.setText(tr("Keluar"))
        self.light.show_state(self.sync_state)
        self._show_header()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    # --- shutdown --------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._closed and not self._close_confirmed and self.recording.loses_draft():
            event.ignore()
            # The resident's name only to the signed-in operator, not on the lock screen.
            name = self.recording.resident_name() if self._signed_in_now() else ""
            self._ask(
                tr("Tutup aplikasi dan buang rekaman %1?").replace("%1", name)
                if name
                else tr("Tutup aplikasi dan buang rekaman yang belum selesai?"),
                tr("&Buang dan tutup"),
                tr("&Jangan tutup"),
                self._close_now,
            )
            return
        self.hide()  # gone at once for the operator; the loops and running work end after
        self.shutdown()
        super().closeEvent(event)

    def _signed_in_now(self) -> bool:
        return self.operator is not None and self.stack.currentWidget() is not self.signin

    def _close_now(self) -> None:
        self._close_confirmed = True
        self.close()

    def shutdown(self) -> None:
        """Stop every loop and wait for running work; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self.idle_timer.stop()
        self.status_timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._activity)
        self.recording.stop_camera()
        self.technician.left()
        for loop in (self.card_watcher, self.sync):
            if loop is not None:
                try:
                    loop.stop()
                except Exception:  # stopping must go on for the others
                    log.exception("stopping %r failed", loop)
        self.card_watcher = None
        self.sync = None
        self.tasks.shutdown()
        self.services.close()
