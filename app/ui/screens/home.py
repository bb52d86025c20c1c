"""Beranda: today's count, records waiting, the sync light, station, disk and mirror."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui.i18n import tr
from app.ui.messages import error_detail, error_text, sync_error_text
from app.ui.services import StationInfo, StationStatus, SyncLightState

LIGHT_COLOURS = {
    "online": "#1e8e3e",
    "idle": "#1e8e3e",
    "sending": "#1a73e8",
    "offline": "#d93025",
    "error": "#d93025",
    "not-provisioned": "#9aa0a6",
    "no-server": "#f29900",
}


def sync_text(state: SyncLightState | None) -> str:
    if state is None:
        return tr("Sinkronisasi belum berjalan")
    if state.state in ("online", "idle"):
        if state.total == 0:
            return tr("Daring: semua rekaman terkirim")
        # Not "all is well": the worker says "sending" only once the first record is
        # answered, and a server that does not answer keeps it "online" until the timeout.
        return tr("Daring: %1 rekaman menunggu dikirim").replace("%1", str(state.total))
    if state.state == "sending":
        return (
            tr("Mengirim %1 dari %2").replace("%1", str(state.sent)).replace("%2", str(state.total))
        )
    if state.state == "offline":
        if state.since is not None:
            since = state.since.astimezone().strftime("%H:%M")
            return tr("Luring sejak %1").replace("%1", since)
        return tr("Luring")
    if state.state == "error":
        # The message (store locked, disk full, station revoked...) is the light's tooltip.
        if state.since is not None:
            since = state.since.astimezone().strftime("%H:%M")
            return tr("Sinkronisasi terhenti sejak %1").replace("%1", since)
        return tr("Sinkronisasi terhenti")
    if state.state == "no-server":
        return tr("Tanpa server: kirim antrian lewat ekspor")
    return tr("Stasiun belum didaftarkan")


def human_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return str(n)


class SyncLight(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sync_light")
        self.state: SyncLightState | None = None
        self.show_state(None)

    def show_state(self, state: SyncLightState | None) -> None:
        self.state = state
        key = state.state if state else "not-provisioned"
        colour = LIGHT_COLOURS.get(key, "#9aa0a6")
        self.setText(
            f'<span style="color:{colour}; font-size:18px">&#9679;</span> {sync_text(state)}'
        )
        # The worker's error is English, for the log: the sentence first, the detail after.
        error = state.error if state is not None else None
        self.setToolTip(sync_error_text(error) + "\n" + error_detail(error) if error else "")


class HomeScreen(QWidget):
    new_recording = Signal()
    send_now = Signal()
    open_queue = Signal()
    reprint = Signal()
    open_rerecord = Signal()  # the "Perlu rekam ulang" list (screens/rerecord.py)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("home")
        self.status: StationStatus | None = None
        self.station: StationInfo | None = None
        self._draft: str | None = None
        self.title = QLabel()
        self.title.setObjectName("title")
        self.today_value = QLabel("-")
        self.today_value.setObjectName("today")
        self.pending_value = QLabel("-")
        self.pending_value.setObjectName("pending")
        for w in (self.today_value, self.pending_value):
            w.setProperty("big", True)
        self.today_label = QLabel()
        self.pending_label = QLabel()
        self.light = SyncLight()
        self.station_label = QLabel()
        self.station_value = QLabel()
        self.station_value.setObjectName("station")
        self.disk_label = QLabel()
        self.disk_value = QLabel()
        self.disk_value.setObjectName("disk")
        self.mirror_label = QLabel()
        self.mirror_value = QLabel()
        self.mirror_value.setObjectName("mirror")
        self.warning = QLabel()
        self.warning.setObjectName("warning")
        self.warning.setWordWrap(True)
        self.warning.hide()
        # "Kirim sekarang": "Mengirim…", then what came of it (the main window writes it).
        self.send_note = QLabel()
        self.send_note.setObjectName("send_note")
        self.send_note.setWordWrap(True)
        self.draft_note = QLabel()
        self.draft_note.setObjectName("draft_note")
        self.draft_note.setWordWrap(True)
        self.draft_note.setTextFormat(Qt.TextFormat.PlainText)  # it names the resident
        self.new_button = QPushButton()
        self.new_button.setObjectName("new_recording")
        self.send_button = QPushButton()
        self.send_button.setObjectName("send_now")
        self.queue_button = QPushButton()
        self.reprint_button = QPushButton()
        self.reprint_button.setObjectName("reprint_receipt")
        self.reprint_button.setEnabled(False)  # until a receipt of this session exists
        # Records the centre sent back (issue 12): how many, and the way to their list.
        self.action_note = QLabel()
        self.action_note.setObjectName("needs_action")
        self.action_note.setWordWrap(True)
        self.action_note.hide()
        self.rerecord_button = QPushButton()
        self.rerecord_button.setObjectName("open_rerecord")
        # A card-check station (issue 19): no recording here, and why.
        self.role_note = QLabel()
        self.role_note.setObjectName("card_check_station")
        self.role_note.setWordWrap(True)
        self.role_note.hide()

        tiles = QHBoxLayout()
        for label, value in (
            (self.today_label, self.today_value),
            (self.pending_label, self.pending_value),
        ):
            tile = QFrame()
            tile.setObjectName("tile")
            tl = QVBoxLayout(tile)
            tl.addWidget(value)
            tl.addWidget(label)
            tiles.addWidget(tile)
        grid = QGridLayout()
        grid.addWidget(self.station_label, 0, 0)
        grid.addWidget(self.station_value, 0, 1)
        grid.addWidget(self.disk_label, 1, 0)
        grid.addWidget(self.disk_value, 1, 1)
        grid.addWidget(self.mirror_label, 2, 0)
        grid.addWidget(self.mirror_value, 2, 1)
        grid.setColumnStretch(1, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.queue_button)
        buttons.addWidget(self.reprint_button)
        buttons.addWidget(self.rerecord_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.warning)
        layout.addWidget(self.role_note)
        layout.addWidget(self.action_note)
        layout.addLayout(tiles)
        layout.addWidget(self.light)
        layout.addWidget(self.send_note)
        layout.addLayout(grid)
        layout.addWidget(self.draft_note)
        layout.addLayout(buttons)
        layout.addStretch(1)

        self.new_button.clicked.connect(self.new_recording)
        self.send_button.clicked.connect(self.send_now)
        self.queue_button.clicked.connect(self.open_queue)
        self.reprint_button.clicked.connect(self.reprint)
        self.rerecord_button.clicked.connect(self.open_rerecord)
        self.retranslate()

    def show_status(self, status: StationStatus) -> None:
        self.status = status
        self.today_value.setText(str(status.today))
        self.pending_value.setText(str(status.pending))
        self.disk_value.setText(tr("%1 bebas").replace("%1", human_bytes(status.disk_free_bytes)))
        if not status.mirror_dir:
            self.mirror_value.setText(tr("Tidak ada salinan cadangan (flashdisk)"))
        elif status.mirror_ok:
            self.mirror_value.setText(
                tr("Salinan cadangan siap: %1").replace("%1", status.mirror_dir)
            )
        else:
            self.mirror_value.setText(
                tr("Salinan cadangan TIDAK dapat ditulis: %1").replace("%1", status.mirror_dir)
            )
        if status.unconfirmed:  # an interrupted seal's packets in <mirror>/unconfirmed/
            self.mirror_value.setText(
                self.mirror_value.text()
                + "\n"
                + tr(
                    "%1 berkas di flashdisk dari penyimpanan yang terputus belum dipastikan: "
                    "teknisi harus memeriksanya."
                ).replace("%1", str(status.unconfirmed))
            )
        if status.behind == "refuse":
            self.warning.setText(
                tr(
                    "Terlalu banyak rekaman belum terkirim: perekaman baru ditolak sampai antrian "
                    "terkirim atau diekspor ke flashdisk."
                )
                + (f" ({status.behind_reason})" if status.behind_reason else "")
            )
            self.warning.show()
        elif status.behind == "warn":
            self.warning.setText(
                tr(
                    "Peringatan: rekaman yang belum terkirim makin banyak. Sambungkan ke jaringan "
                    "atau ekspor antrian ke flashdisk."
                )
                + (f" ({status.behind_reason})" if status.behind_reason else "")
            )
            self.warning.show()
        else:
            self.warning.hide()
        self.new_button.setEnabled(status.behind != "refuse")
        self._show_needs_action(status.needs_action)

    def _show_needs_action(self, n: int) -> None:
        self.action_note.setVisible(n > 0)
        self.action_note.setText(
            tr("%1 rekaman perlu tindakan: pusat meminta perekaman ulang atau menolaknya.").replace(
                "%1", str(n)
            )
        )

    def show_station(self, info: StationInfo) -> None:
        self.station = info
        if info.provisioned:
            kec = info.kecamatan_name or info.kecamatan_code or "-"
            self.station_value.setText(
                tr("%1 — Kecamatan %2")
                .replace("%1", info.name or info.station_id or "")
                .replace("%2", kec)
            )
        else:
            self.station_value.setText(tr("Belum didaftarkan ke server"))
        verifier = info.card_check_only
        self.role_note.setVisible(verifier)
        self.role_note.setText(error_text("card-check-station"))
        if verifier and self.new_button.hasFocus():
            self.queue_button.setFocus()  # the keyboard keeps a place on Beranda
        self.new_button.setVisible(not verifier)
        self.draft_note.setVisible(not verifier)

    def focus_first(self) -> None:
        """Beranda's first button: Perekaman baru, or on a card-check station Lihat antrian."""
        verifier = self.station is not None and self.station.card_check_only
        (self.queue_button if verifier else self.new_button).setFocus()

    def show_draft(self, name: str | None) -> None:
        """``name``: the resident of the open draft ("" unnamed yet), None: no draft."""
        self._draft = name
        if name is None:
            self.draft_note.setText(tr("Tekan F3 untuk mulai merekam."))
        elif name:
            self.draft_note.setText(
                tr("Rekaman %1 belum selesai. Tekan F3 untuk melanjutkan.").replace("%1", name)
            )
        else:
            self.draft_note.setText(
                tr("Ada rekaman yang belum selesai. Tekan F3 untuk melanjutkan.")
            )
        self.new_button.setText(tr("Perekaman &baru") if name is None else tr("Lanjutkan &rekaman"))

    def show_sync(self, state: SyncLightState) -> None:
        self.light.show_state(state)

    def retranslate(self) -> None:
        self.title.setText(tr("Beranda"))
        self.today_label.setText(tr("perekaman hari ini"))
        self.pending_label.setText(tr("menunggu dikirim"))
        self.station_label.setText(tr("Stasiun:"))
        self.disk_label.setText(tr("Disk:"))
        self.mirror_label.setText(tr("Salinan cadangan:"))
        self.send_button.setText(tr("&Kirim sekarang"))
        self.show_draft(self._draft)
        self.queue_button.setText(tr("Lihat &antrian"))
        self.reprint_button.setText(tr("&Cetak ulang bukti"))
        self.rerecord_button.setText(tr("Perlu rekam &ulang"))
        self.light.show_state(self.light.state)
        if self.status is not None:
            self.show_status(self.status)
        if self.station is not None:
            self.show_station(self.station)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)
