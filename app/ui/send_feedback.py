"""What "Kirim sekarang" says, on Beranda and Antrian: "Mengirim…" at once, "Mengirim n dari
m…" while the backlog drains, then the result (all sent, n not sent, the server not
answering) or, if the worker says nothing for ``SEND_GIVE_UP_MS``, "Server belum menjawab"."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

from app.ui.i18n import tr
from app.ui.messages import error_text, sync_error_text
from app.ui.services import SyncHandle, SyncLightState

SEND_SETTLE_MS = 3000
SEND_GIVE_UP_MS = 45_000  # beyond the sync engine's read timeout


class SendFeedback(QObject):
    """``show(text)`` puts a line on the screens; ``state()`` is the worker's last state."""

    def __init__(
        self,
        show: Callable[[str], None],
        state: Callable[[], SyncLightState | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._show = show
        self._state = state
        self.asked = False
        self._seen_sending = False
        # Nothing waiting: the worker may say nothing new; one that never answers is given up.
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SEND_SETTLE_MS)
        self._settle.timeout.connect(lambda: self.on_state(self._state()))
        self._give_up = QTimer(self)
        self._give_up.setSingleShot(True)
        self._give_up.setInterval(SEND_GIVE_UP_MS)
        self._give_up.timeout.connect(lambda: self.on_state(self._state(), waited=True))

    def send(self, sync: SyncHandle | None) -> None:
        """Kirim sekarang: ask the worker (if one runs) and say so."""
        if sync is None:
            current = self._state()
            state = current.state if current is not None else ""
            self._show(
                tr("Stasiun ini tanpa server: kirim antrian lewat ekspor ke flashdisk.")
                if state == "no-server"
                else error_text("not-provisioned")
                if state == "not-provisioned"
                else tr("Pengiriman belum berjalan. Coba lagi sebentar lagi.")
            )
            return
        self.asked = True
        self._show(tr("Mengirim…"))
        self._seen_sending = False
        sync.sync_now()
        self._settle.start()
        self._give_up.start()

    def forget(self) -> None:
        """Sign-out, a language switch: no answer is awaited any more."""
        self.asked = False
        self._settle.stop()
        self._give_up.stop()

    def on_state(self, state: SyncLightState | None, waited: bool = False) -> None:
        """What came of "Kirim sekarang". "online" with records waiting is no answer yet: the
        pass reports it before its first upload, and says "sending" only after one was
        answered (a server that does not answer keeps it there until the read timeout)."""
        if not self.asked or state is None:
            return
        if state.state == "sending":
            self._seen_sending = True
            self._show(
                tr("Mengirim %1 dari %2…")
                .replace("%1", str(state.sent))
                .replace("%2", str(state.total))
            )
            return
        if state.state in ("online", "idle"):
            if state.total == 0:
                text = tr("Semua rekaman sudah terkirim.")
            elif self._seen_sending:
                text = tr(
                    "%1 rekaman belum terkirim: lihat kolom Kesalahan terakhir di Antrian."
                ).replace("%1", str(state.total))
            elif waited:
                text = tr(
                    "Server belum menjawab. Rekaman tetap di antrian dan dikirim lagi otomatis."
                )
            else:
                return  # under way: "Mengirim…" stays
        else:
            text = sync_error_text(state.error) or tr(
                "Server tidak menjawab. Rekaman dikirim lagi otomatis."
            )
        self._show(text)
        self.asked = False
        self._seen_sending = False
        self._give_up.stop()
