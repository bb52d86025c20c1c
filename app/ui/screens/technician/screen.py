"""Teknisi (role-gated): provisioning, mirror directory, language, moving the kit to another
kecamatan (another supervisor's approval, audited); the devices (``devices.py``: camera and
reader with a live test) and staff cards (``staff_cards.py``) are sections of their own."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.sync.provision import InvalidServerUrl, check_server_url
from app.ui.i18n import LANGUAGES, tr
from app.ui.messages import error_detail, error_text
from app.ui.screens.technician.devices import DevicesSection
from app.ui.screens.technician.staff_cards import StaffCardsSection
from app.ui.services import CardEvent, Operator, Services, StationInfo
from app.ui.tasks import TaskManager
from app.ui.widgets import confirm


class TechnicianScreen(QWidget):
    station_changed = Signal(object)  # StationInfo
    camera_chosen = Signal(str)
    language_requested = Signal(str)

    def __init__(self, services: Services, tasks: TaskManager, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("technician")
        self.services = services
        self.tasks = tasks
        self.operator: Operator | None = None
        self.devices = DevicesSection(services, tasks)
        self.devices.camera_chosen.connect(self.camera_chosen)
        self.cards = StaffCardsSection(services, tasks)

        self.title = QLabel()
        self.title.setObjectName("title")
        # provisioning
        self.provision_box = QGroupBox()
        self.url = QLineEdit()
        self.url.setObjectName("server_url")
        self.url.setPlaceholderText("https://ektp.example.go.id")
        self.code = QLineEdit()
        self.code.setObjectName("provision_code")
        self.provision_button = QPushButton()
        self.provision_button.setObjectName("provision")
        self.station: StationInfo | None = None
        self.confirm_box: QMessageBox | None = None
        self.registration = QLabel()
        self.registration.setObjectName("registration")
        self.registration.setWordWrap(True)
        self.provision_status = QLabel()
        self.provision_status.setObjectName("provision_status")
        self.provision_status.setWordWrap(True)
        self.url_label, self.code_label = QLabel(), QLabel()
        self.url_label.setBuddy(self.url)
        self.code_label.setBuddy(self.code)
        f = QFormLayout(self.provision_box)
        f.addRow(self.registration)
        f.addRow(self.url_label, self.url)
        f.addRow(self.code_label, self.code)
        f.addRow("", self.provision_button)
        f.addRow(self.provision_status)
        # camera
        # mirror
        self.mirror_box = QGroupBox()
        self.mirror = QLineEdit()
        self.mirror.setObjectName("mirror_dir")
        self.mirror_label = QLabel()
        self.mirror_label.setBuddy(self.mirror)
        self.mirror_browse = QPushButton()
        self.mirror_apply = QPushButton()
        self.mirror_apply.setObjectName("mirror_apply")
        self.mirror_status = QLabel()
        self.mirror_status.setObjectName("mirror_status")
        row2 = QHBoxLayout()
        row2.addWidget(self.mirror, 1)
        row2.addWidget(self.mirror_browse)
        row2.addWidget(self.mirror_apply)
        f = QFormLayout(self.mirror_box)
        f.addRow(self.mirror_label, row2)
        f.addRow(self.mirror_status)
        # language
        self.language_box = QGroupBox()
        self.language = QComboBox()
        self.language.setObjectName("language")
        for code, name in LANGUAGES.items():
            self.language.addItem(name, code)
        self.language_label = QLabel()
        self.language_label.setBuddy(self.language)
        f = QFormLayout(self.language_box)
        f.addRow(self.language_label, self.language)
        # move kit
        self.move_box = QGroupBox()
        self.kecamatan = QLineEdit()
        self.kecamatan.setObjectName("move_kecamatan")
        self.kecamatan.setPlaceholderText(tr("nama atau kode, misalnya Kronjo"))
        self.supervisor = QLineEdit()
        self.supervisor.setObjectName("supervisor")
        self.supervisor_password = QLineEdit()
        self.supervisor_password.setObjectName("supervisor_password")
        self.supervisor_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.move_button = QPushButton()
        self.move_button.setObjectName("move")
        self.move_status = QLabel()
        self.move_status.setObjectName("move_status")
        self.move_status.setWordWrap(True)
        self.kecamatan_label, self.supervisor_label, self.supervisor_password_label = (
            QLabel(),
            QLabel(),
            QLabel(),
        )
        self.kecamatan_label.setBuddy(self.kecamatan)
        self.supervisor_label.setBuddy(self.supervisor)
        self.supervisor_password_label.setBuddy(self.supervisor_password)
        f = QFormLayout(self.move_box)
        f.addRow(self.kecamatan_label, self.kecamatan)
        f.addRow(self.supervisor_label, self.supervisor)
        f.addRow(self.supervisor_password_label, self.supervisor_password)
        f.addRow("", self.move_button)
        f.addRow(self.move_status)

        for b in (
            self.provision_button,
            self.mirror_browse,
            self.mirror_apply,
            self.move_button,
        ):
            b.setAutoDefault(True)
        inner = QWidget()
        columns = QHBoxLayout(inner)
        left = QVBoxLayout()
        right = QVBoxLayout()
        for box in (self.provision_box, self.move_box, self.mirror_box, self.language_box):
            left.addWidget(box)
        left.addStretch(1)
        right.addWidget(self.devices)
        right.addWidget(self.cards)
        right.addStretch(1)
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(scroll, 1)

        self.provision_button.clicked.connect(self.provision)
        self.code.returnPressed.connect(self.provision)
        self.mirror_browse.clicked.connect(self._browse_mirror)
        self.mirror_apply.clicked.connect(self.apply_mirror)
        self.language.activated.connect(
            lambda i: self.language_requested.emit(self.language.itemData(i))
        )
        self.move_button.clicked.connect(self.move_kit)
        self.supervisor_password.returnPressed.connect(self.move_kit)
        self.retranslate()

    # --- lifecycle -------------------------------------------------------------------------
    def entered(self, operator: Operator, info: StationInfo | None, language: str) -> None:
        self.operator = operator
        self.station = info
        self._show_registration()
        if info is not None:
            if info.server_url and not self.url.text():
                self.url.setText(info.server_url)
            if info.mirror_dir and not self.mirror.text():
                self.mirror.setText(info.mirror_dir)
        self.language.setCurrentIndex(max(0, self.language.findData(language)))
        self.devices.refresh()
        self.cards.operator = operator
        self.cards.refresh_accounts()
        self.url.setFocus()

    def _show_registration(self) -> None:
        info = self.station
        # The station's name; its id (a UUID) only in the tooltip, for the central office.
        name = (info.name or info.station_id or "") if info is not None else ""
        self.registration.setToolTip(
            tr("ID stasiun: %1").replace("%1", info.station_id)
            if info is not None and info.station_id
            else ""
        )
        if info is None or not info.provisioned:
            self.registration.setText(tr("Stasiun ini belum terdaftar di server."))
        elif info.server_url:
            self.registration.setText(
                tr("Terdaftar sebagai %1 di %2").replace("%1", name).replace("%2", info.server_url)
            )
        else:
            self.registration.setText(
                tr("Disiapkan luring sebagai %1 (tanpa alamat server)").replace("%1", name)
            )

    def forget_messages(self) -> None:
        """The lines of the last session (registration, camera test, mirror, move)."""
        for label in (self.provision_status, self.mirror_status, self.move_status):
            label.setText("")
            label.setToolTip("")
        self.devices.forget_messages()
        self.cards.forget_messages()

    def left(self) -> None:
        """Leaving the screen (another screen, lock, sign-out): the camera test stops and a
        supervisor's password typed but not used is forgotten, never approving a later move."""
        self.devices.stop_camera_test()
        self.supervisor_password.clear()
        self.cards.forget_pins()

    def on_card(self, event: CardEvent) -> None:
        self.devices.on_card(event)
        self.cards.on_card(event)

    # --- actions ---------------------------------------------------------------------------
    def provision(self) -> None:
        operator = self.operator
        url, code = self.url.text().strip(), self.code.text().strip()
        if operator is None:
            return
        if not code:
            self.provision_status.setText(error_text("code-empty"))
            self.code.setFocus()
            return
        try:
            url = check_server_url(url)
        except InvalidServerUrl:
            self.provision_status.setText(error_text("bad-url"))
            self.url.setFocus()
            return
        info = self.station
        if info is not None and info.provisioned and info.server_url:
            self._confirm_reregister(info, url, code)
            return
        self._start_provision(url, code)

    def _confirm_reregister(self, info: StationInfo, url: str, code: str) -> None:
        """An already registered station: ask before the code is used (window-modal, not a
        nested event loop, so the rest of the UI keeps running)."""
        box = QMessageBox(self)
        box.setObjectName("confirm_reregister")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(tr("Daftarkan ulang stasiun?"))
        box.setText(
            tr(
                "Stasiun ini sudah terdaftar sebagai %1 di %2. Daftarkan lagi ke %3 dengan "
                "kode ini? ID dan kunci stasiun tetap sama."
            )
            .replace("%1", info.name or info.station_id or "")
            .replace("%2", info.server_url or "")
            .replace("%3", url)
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(button: QAbstractButton) -> None:
            if box.standardButton(button) == QMessageBox.StandardButton.Yes:
                self._start_provision(url, code)
            else:
                self.provision_status.setText(tr("Pendaftaran ulang dibatalkan."))

        box.buttonClicked.connect(answered)
        self.confirm_box = box
        box.open()

    def _start_provision(self, url: str, code: str) -> None:
        operator = self.operator
        if operator is None:
            return
        self.provision_button.setEnabled(False)
        self.provision_status.setText(tr("Menghubungi server…"))
        self.tasks.run_net(
            lambda: self.services.provision(operator, url, code),
            self._provisioned,
            self._provision_failed,
        )

    def _provisioned(self, info: StationInfo) -> None:
        self.provision_button.setEnabled(True)
        self.station = info
        self._show_registration()
        self.code.clear()
        self.provision_status.setText(
            tr("Stasiun terdaftar: %1, kecamatan %2")
            .replace("%1", info.name or info.station_id or "")
            .replace("%2", info.kecamatan_name or info.kecamatan_code or "")
        )
        self.station_changed.emit(info)

    def _provision_failed(self, exc: BaseException) -> None:
        self.provision_button.setEnabled(True)
        code = getattr(exc, "code", "server-unreachable")
        detail = getattr(exc, "detail", "")
        self.provision_status.setText(error_text(code, detail))
        self.provision_status.setToolTip(error_detail(detail))
        if code == "identity-changed":
            # Another program set the station up meanwhile: show (and start syncing) that.
            self.tasks.run_db(self.services.station_info, self._station_reloaded)

    def _station_reloaded(self, info: StationInfo) -> None:
        self.station = info
        self._show_registration()
        self.station_changed.emit(info)

    def _browse_mirror(self) -> None:
        directory = QFileDialog.getExistingDirectory(
            self, tr("Pilih folder salinan cadangan (flashdisk)")
        )
        if directory:
            self.mirror.setText(directory)

    def apply_mirror(self) -> None:
        operator = self.operator
        text = self.mirror.text().strip()
        if operator is None:
            return
        target = Path(text) if text else None
        self.tasks.run_db(
            lambda: self.services.set_mirror(operator, target),
            lambda _r: self.mirror_status.setText(
                tr("Salinan cadangan diatur: %1").replace("%1", text)
                if text
                else tr("Salinan cadangan dimatikan")
            ),
            lambda e: self.mirror_status.setText(
                error_text(getattr(e, "code", "mirror-failed"), getattr(e, "detail", ""))
            ),
        )

    def move_kit(self) -> None:
        """Find the kecamatan typed (a name or a code; off the UI thread), then ask, naming
        both kecamatan, before the move."""
        operator = self.operator
        typed = self.kecamatan.text().strip()
        if operator is None or not typed:
            self.move_status.setText(error_text("bad-kecamatan"))
            return
        self.move_button.setEnabled(False)
        kabupaten = self.station.kabupaten_code if self.station is not None else None
        self.tasks.run_net(
            lambda: find_kecamatan(self.services, typed, kabupaten),
            self._kecamatan_found,
            self._move_failed,
        )

    def _kecamatan_found(self, found: list[tuple[str, str]]) -> None:
        self.move_button.setEnabled(True)
        if not found:
            self.move_status.setText(error_text("bad-kecamatan"))
            self.kecamatan.setFocus()
            return
        if len(found) > 1:
            self.move_status.setText(
                tr("Lebih dari satu kecamatan cocok; ketik kodenya: %1").replace(
                    "%1", "; ".join(f"{name} ({code})" for code, name in found)
                )
            )
            self.kecamatan.setFocus()
            return
        code, name = found[0]
        info = self.station
        here = (
            f"{info.kecamatan_name or '-'} ({info.kecamatan_code})"
            if info is not None and info.kecamatan_code
            else "-"
        )
        self.move_box_question = confirm(
            self,
            tr("Pindahkan kit dari Kecamatan %1 ke Kecamatan %2?")
            .replace("%1", here)
            .replace("%2", f"{name} ({code})"),
            tr("&Pindahkan"),
            tr("&Batal"),
            lambda: self._move_to(code),
        )

    def _move_to(self, code: str) -> None:
        operator = self.operator
        sup, pw = self.supervisor.text().strip(), self.supervisor_password.text()
        if operator is None:
            return
        self.move_button.setEnabled(False)
        self.tasks.run_db(
            lambda: self.services.move_kit(operator, code, sup, pw),
            self._moved,
            self._move_failed,
        )

    def _moved(self, info: StationInfo) -> None:
        self.move_button.setEnabled(True)
        self.supervisor_password.clear()
        self.move_status.setText(
            tr("Kit dipindah ke kecamatan %1").replace(
                "%1", f"{info.kecamatan_name} ({info.kecamatan_code})"
            )
        )
        self.station_changed.emit(info)

    def _move_failed(self, exc: BaseException) -> None:
        self.move_button.setEnabled(True)
        self.supervisor_password.clear()
        self.move_status.setText(
            error_text(getattr(exc, "code", "unexpected"), getattr(exc, "detail", ""))
        )

    def retranslate(self) -> None:
        self.title.setText(tr("Teknisi"))
        self.provision_box.setTitle(tr("Pendaftaran stasiun"))
        self.url_label.setText(tr("Alamat &server"))
        self.code_label.setText(tr("&Kode pendaftaran"))
        self.provision_button.setText(tr("&Daftarkan stasiun"))
        self.mirror_box.setTitle(tr("Salinan cadangan (flashdisk)"))
        self.mirror_label.setText(tr("&Folder"))
        self.mirror_browse.setText(tr("Pilih…"))
        self.mirror_apply.setText(tr("&Terapkan"))
        self.language_box.setTitle(tr("Bahasa"))
        self.language_label.setText(tr("&Bahasa antarmuka"))
        self.move_box.setTitle(tr("Pindah kecamatan"))
        self.kecamatan_label.setText(tr("K&ecamatan baru"))
        self.supervisor_label.setText(tr("&Supervisor"))
        self.supervisor_password_label.setText(tr("Kata sandi supe&rvisor"))
        self.move_button.setText(tr("Pi&ndahkan kit"))
        self._show_registration()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


def find_kecamatan(services: Services, typed: str, kabupaten: str | None) -> list[tuple[str, str]]:
    """(code, "Kecamatan, Kabupaten, Provinsi") of the kecamatan a technician typed: a code
    (36.03.07 or 360307), or a name (the station's kabupaten first, then anywhere)."""
    from app.domain import regions

    dotted = regions.normalize_code(typed)
    if dotted is not None and dotted.count(".") == 2:
        name = services.region_name(dotted)
        return [(dotted, name)] if name else []
    wanted = typed.casefold()
    exact: dict[str, str] = {}
    starting: dict[str, str] = {}
    for region in services.search_regions(typed, kabupaten):
        parts = region.path.split(", ")
        if len(parts) < 2:
            continue
        kecamatan = parts[1].casefold()
        into = exact if kecamatan == wanted else starting if kecamatan.startswith(wanted) else None
        if into is not None:
            into.setdefault(region.code[:8], ", ".join(parts[1:]))
    return list((exact or starting).items())
