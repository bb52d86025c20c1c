"""What the UI needs from the rest of the station, in one object passed to the main window.

The UI talks only to a :class:`Services` (constructor injection, as qutebrowser does): the
real one, :class:`app.ui.station.StationServices`, wires the store, domain, capture and sync
packages; tests pass it a real store in a temp home and a real server on loopback. Every
method that touches disk or network is called by the UI through its TaskManager, never on the
UI thread; ``validate``, ``suggest_from_nik`` and ``search_regions`` are pure and fast.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from app.service.status import StationStatus


@dataclass(frozen=True)
class StationInfo:
    station_id: str | None
    name: str
    kecamatan_code: str | None
    kecamatan_name: str
    kabupaten_code: str | None
    server_url: str | None
    mirror_dir: str | None = None
    operators: int = 1  # accounts in the store; 0 = nobody can sign in yet
    # A supervisor allowed receipt PDFs on the station's own disk (setting
    # receipt_pdf_on_station); otherwise they go to removable media only.
    pdf_on_station: bool = False
    # Minutes without input before the lock (setting idle_lock_minutes; None: the default).
    idle_lock_minutes: int | None = None
    # The centre set this station up for card checks only (issue 19): it offers no recording.
    card_check_only: bool = False

    @property
    def provisioned(self) -> bool:
        return self.station_id is not None


@dataclass(frozen=True)
class Operator:
    username: str
    role: str  # operator | supervisor | technician

    @property
    def is_technician(self) -> bool:
        return self.role in ("technician", "supervisor")


@dataclass(frozen=True)
class QueueRow:
    uuid: str
    sealed_at: datetime
    status: str
    attempts: int
    last_error: str | None
    fate: str | None = None  # the centre's fate (app/store/fates.py), None until received
    fate_reason: str | None = None


@dataclass(frozen=True)
class Issue:
    field: str
    code: str
    message: str


@dataclass
class Checked:
    """The result of validating the biodata form (a UI view of the domain's Validation)."""

    ok: bool
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    biodata: Any = None


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    level: str
    path: str  # "DESA, KECAMATAN, KABUPATEN" for display


@dataclass(frozen=True)
class PhotoResult:
    ok: bool
    jpeg: bytes | None
    width: int = 0
    height: int = 0
    reasons: tuple[tuple[str, str], ...] = ()  # (code, message) when refused
    report: Any = None


@dataclass(frozen=True)
class CardEvent:
    reader: str
    present: bool
    uid: str | None = None
    atr: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Sealed:
    uuid: str
    number: str
    sealed_at: datetime
    nama: str
    kecamatan_code: str
    kecamatan_name: str
    # Only masked (receipt.mask_nik): the last receipt stays in memory until sign-out.
    nik_masked: str = ""


@dataclass(frozen=True)
class SyncLightState:
    """What the sync light shows: the worker's state (app.sync.worker.SyncState) with its
    progress, in one value."""

    state: str  # "online" | "sending" | "offline" | "error" | "idle" | "not-provisioned"
    since: datetime | None = None
    sent: int = 0
    # sending: sent + still to send (rejected records left out: the worker does not send
    # them); otherwise: records not at the server, rejected included (so not "all sent").
    total: int = 0
    error: str | None = None


class Stoppable(Protocol):
    def stop(self) -> None: ...


class SyncHandle(Stoppable, Protocol):
    def wake(self) -> None: ...  # send what is due (after a seal)

    def sync_now(self) -> None: ...  # the "send now" button: backed-off records too


@dataclass(frozen=True)
class FrameQuality:
    """What the live preview shows for one frame: the face box and what is still wrong."""

    face_box: tuple[int, int, int, int] | None  # x, y, w, h in frame pixels
    reasons: tuple[tuple[str, str], ...] = ()  # (code, English message from capture)

    @property
    def good(self) -> bool:
        return self.face_box is not None and not self.reasons


FrameCallback = Callable[[Any, "FrameQuality | None"], None]  # numpy BGR frame, quality


class Services(Protocol):
    home: Path
    demo_hint: tuple[str, str] | None  # (username, password) shown on the sign-in screen

    # station + operators (store; call off the UI thread)
    def station_info(self) -> StationInfo: ...
    def sign_in_password(self, username: str, password: str) -> Operator: ...
    def sign_in_card(self, card_uid: str, pin: str) -> Operator: ...
    def home_status(self) -> StationStatus: ...
    def queue_rows(self, limit: int = 200) -> list[QueueRow]: ...
    def enroll(
        self,
        operator: Operator,
        biodata: Any,
        photo: PhotoResult,
        signature_png: bytes,
        card_uid: str | None,
        card_atr: str | None,
    ) -> Sealed: ...
    def export(
        self,
        operator: Operator,
        directory: Path,
        progress: Callable[[int, int], None],
        should_stop: Callable[[], bool] | None = None,
    ) -> int: ...
    def requeue(self, operator: Operator, uuids: list[str] | None) -> int: ...
    # fates back from the centre (issue 12; screens/rerecord.py)
    def rerecord_rows(self) -> list[Any]: ...
    def mark_contacted(self, operator: Operator, uuid: str) -> None: ...
    def start_rerecording(self, uuid: str | None) -> None: ...
    # card check at the kelurahan desk (issue 19; screens/card_check.py); the answer is
    # app.service.card_check.CardCheck, in memory only
    def check_card(self, operator: Operator, uid: str) -> Any: ...
    def set_mirror(self, operator: Operator, directory: Path | None) -> None: ...
    def provision(self, operator: Operator, server_url: str, code: str) -> StationInfo: ...
    def move_kit(
        self, operator: Operator, kecamatan: str, supervisor: str, supervisor_password: str
    ) -> StationInfo: ...
    def operator_names(self, operator: Operator) -> list[tuple[str, str, bool, bool]]: ...
    def unlock_operator(self, operator: Operator, username: str) -> None: ...
    def bind_operator_card(
        self, operator: Operator, username: str, card_uid: str, pin: str
    ) -> None: ...
    def unbind_operator_card(self, operator: Operator, username: str) -> bool: ...

    # domain (pure, fast: fine on the UI thread)
    def validate(self, fields: dict[str, str]) -> Checked: ...
    def suggest_from_nik(self, nik: str) -> dict[str, str]: ...
    def search_regions(self, query: str, within: str | None, limit: int = 20) -> list[Region]: ...
    def region_name(self, code: str) -> str: ...
    def choices(self) -> dict[str, list[str]]: ...
    def warm_up(self, kabupaten: str | None) -> None: ...

    # devices (loops run on their own threads; callbacks come from those threads)
    def camera_choices(self) -> list[tuple[str, str]]: ...
    def start_camera(
        self, choice: str, on_frame: FrameCallback, on_error: Callable[[str], None]
    ) -> Stoppable: ...
    def accept_frame(self, frame: Any) -> PhotoResult: ...
    def reader_choices(self) -> list[str]: ...
    def start_card_watcher(self, on_event: Callable[[CardEvent], None]) -> Stoppable: ...

    # sync
    def start_sync(self, on_state: Callable[[SyncLightState], None]) -> SyncHandle | None: ...

    def close(self) -> None: ...
