"""The real :class:`~app.ui.services.Services`: store, domain, capture and sync wired together.

Plain Python apart from nothing: the UI calls the store-touching methods through its
TaskManager (never on the UI thread). Core errors are mapped here to the message codes of
:mod:`app.ui.messages`, so every failure reaches the operator as a plain sentence.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.domain import regions
from app.errors import BadInput, Bug, Code, MachineFault, Refusal, StationError, funnel
from app.ui.domain_services import DomainServices
from app.ui.loops import Loops, Stopper, SyncReporter, SyncStopper
from app.ui.services import (
    CardEvent,
    FrameCallback,
    Operator,
    PhotoResult,
    QueueRow,
    Sealed,
    StationInfo,
    StationStatus,
    Stoppable,
    SyncHandle,
    SyncLightState,
)

log = logging.getLogger(__name__)

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
DEMO_VIDEO = RESOURCES / "demo" / "face.avi"


def _record_number(uuid: str) -> str:
    from app.ui.receipt import record_number

    return record_number(uuid)


@contextmanager
def mapped_errors() -> Iterator[None]:
    """Whatever the core raised, as the station's error (app/errors.py's funnel, by type): the
    screens show ``error_text(exc.code)``. An error the funnel does not know is a bug:
    logged with its traceback, shown as "unexpected"."""
    try:
        yield
    except StationError:
        raise
    except Exception as exc:
        err = funnel(exc)
        if isinstance(err, Bug):
            log.exception("unexpected error", exc_info=exc)
        raise err from exc


def not_allowed() -> Refusal:
    return Refusal(Code.NOT_ALLOWED, "not_allowed", "a technician or supervisor only", field="role")


class StationServices(DomainServices):
    def __init__(
        self,
        home: Path,
        demo_hint: tuple[str, str] | None = None,
        camera_sources: list[tuple[str, str]] | None = None,
        sync_interval_s: float = 30.0,
    ) -> None:
        self.home = Path(home)
        self.demo_hint = demo_hint
        self.sync_interval_s = sync_interval_s
        self._extra_cameras = camera_sources or []
        self._store: Any = None
        self._store_lock = threading.Lock()
        self._loops = Loops()
        self._closed = False

    # --- store -----------------------------------------------------------------------------
    @property
    def store(self) -> Any:
        with self._store_lock:
            if self._store is None:
                from app.store import open_store

                with mapped_errors():
                    self.home.mkdir(parents=True, exist_ok=True)
                    self._store = open_store(self.home)
                # Opening for sealing: orphan mirror packets of a killed seal go to
                # <mirror>/unconfirmed/ (app/store/reconcile.py); status shows the count.
                from app.store.reconcile import reconcile_quietly

                reconcile_quietly(self._store, "station")
            return self._store

    def _identity(self) -> Any:
        from app.store.station import get_identity

        return get_identity(self.store)

    def station_info(self) -> StationInfo:
        from app.store.central import is_card_check_station
        from app.store.operators import list_operators
        from app.store.settings import load_settings

        with mapped_errors():
            ident = self._identity()
            settings = load_settings(self.store)
            mirror = settings.mirror_dir
            pdf_here = settings.receipt_pdf_on_station == "yes"
            operators = sum(1 for op in list_operators(self.store) if op.active)
            card_check_only = is_card_check_station(self.store)
        if ident is None:
            return StationInfo(None, "", None, "", None, None, mirror, operators, pdf_here)
        kec = regions.get(ident.kecamatan)
        return StationInfo(
            station_id=ident.station_id,
            name=ident.name,
            kecamatan_code=ident.kecamatan,
            kecamatan_name=kec.name if kec else "",
            kabupaten_code=ident.kecamatan[:5] if ident.kecamatan else None,
            server_url=ident.server_url,
            mirror_dir=mirror,
            operators=operators,
            pdf_on_station=pdf_here,
            idle_lock_minutes=settings.idle_lock_minutes,
            card_check_only=card_check_only,
        )

    def sign_in_password(self, username: str, password: str) -> Operator:
        from app.store.operators import verify_password

        with mapped_errors():
            info = verify_password(self.store, username, password)
        return Operator(info.username, info.role)

    def sign_in_card(self, card_uid: str, pin: str) -> Operator:
        from app.store.operators import verify_card

        try:
            with mapped_errors():
                info = verify_card(self.store, card_uid, pin)
        except Refusal as exc:
            if exc.code == Code.BAD_CREDENTIALS:  # the card and the PIN, not a password
                raise Refusal(Code.BAD_PIN, exc.reason, exc.message, field="pin") from exc
            raise
        return Operator(info.username, info.role)

    def home_status(self) -> StationStatus:
        """What Beranda shows: the same status object as ``ektp-station status``."""
        from app.service.status import station_status

        with mapped_errors():
            return station_status(self.store)

    def queue_rows(self, limit: int = 200) -> list[QueueRow]:
        from app.store.outbox import Outbox

        with mapped_errors():
            entries = Outbox(self.store).recent(limit)
        return [
            QueueRow(e.uuid, e.sealed_at, e.status, e.attempts, e.last_error, e.fate, e.fate_reason)
            for e in entries
        ]

    def enroll(
        self,
        operator: Operator,
        biodata: Any,
        photo: PhotoResult,
        signature_png: bytes,
        card_uid: str | None,
        card_atr: str | None,
    ) -> Sealed:
        from app.enrollment import EnrollmentRequest, enroll
        from app.store.outbox import Outbox
        from app.ui.receipt import mask_nik

        data = biodata.to_dict() if hasattr(biodata, "to_dict") else dict(biodata)
        accepted: Any = photo.report if photo.report is not None else photo.jpeg
        if accepted is None:
            raise BadInput("photo", "no accepted photo", Code.PHOTO_REJECTED)
        with mapped_errors():
            result = enroll(
                self.store,
                EnrollmentRequest(
                    operator=operator.username,
                    biodata=data,
                    photo=accepted,
                    signature_png=signature_png,
                    card_uid=card_uid,
                    card_atr=card_atr,
                    rerecord_of=self.rerecord_of,
                ),
            )
            self.rerecord_of = None  # one re-recording per start from the list
            ident = self._identity()
            # The record's own seal time for the receipt (the newest row: writes are serial).
            sealed_at = next(
                (e.sealed_at for e in Outbox(self.store).recent(5) if e.uuid == result.uuid),
                datetime.now(UTC),
            )
        kec_code = ident.kecamatan if ident else ""
        kec = regions.get(kec_code) if kec_code else None
        return Sealed(
            uuid=result.uuid,
            number=_record_number(result.uuid),
            sealed_at=sealed_at,
            nik_masked=mask_nik(str(data.get("nik", ""))),
            nama=data.get("nama", ""),
            kecamatan_code=kec_code,
            kecamatan_name=kec.name if kec else "",
        )

    def export(
        self,
        operator: Operator,
        directory: Path,
        progress: Callable[[int, int], None],
        should_stop: Callable[[], bool] | None = None,
    ) -> int:
        """The CLI's export (``app.service.records.export``), reporting (done, total) as it
        goes. Runs on the caller's thread (the UI's export worker, not the one that seals).
        Audited under the signed-in person's name: the copies leave the station with them."""
        from app.service import records

        with mapped_errors():
            return records.export(
                self.store,
                directory,
                actor=operator.username,
                progress=progress,
                should_stop=should_stop,
            ).packets

    def requeue(self, operator: Operator, uuids: list[str] | None) -> int:
        """Technician: send rejected records again (these, or all with ``None``); audited
        under the technician's name. Returns how many were requeued."""
        from app.service import records

        if not operator.is_technician:
            raise not_allowed()
        with mapped_errors():
            return len(records.requeue(self.store, uuids, actor=operator.username))

    # --- fates back from the centre (issue 12) ------------------------------------------------

    rerecord_of: str | None = None  # the next seal re-records this record (start_rerecording)

    def rerecord_rows(self) -> list[Any]:
        """The records the centre asks to record again (or rejected), oldest first."""
        from app.store.fates import needs_action

        with mapped_errors():
            return list(needs_action(self.store))

    def mark_contacted(self, operator: Operator, uuid: str) -> None:
        """Supervisor: "warga sudah dihubungi" (audited under their name)."""
        from app.store.fates import mark_contacted

        if operator.role not in ("supervisor", "technician"):
            raise not_allowed()
        with mapped_errors():
            mark_contacted(self.store, uuid, operator.username)

    def check_card(self, operator: Operator, uid: str) -> Any:
        """Cek KTP-el: ask the centre whose record this card is (the signed-in operator)."""
        from app.service.card_check import ask_centre

        with mapped_errors():
            return ask_centre(self.store, uid, operator.username)

    def start_rerecording(self, uuid: str | None) -> None:
        """The next record sealed re-records ``uuid`` (``rerecord_of`` in its manifest)."""
        self.rerecord_of = uuid

    def set_mirror(self, operator: Operator, directory: Path | None) -> None:
        from app.store.settings import set_setting

        if not operator.is_technician:
            raise not_allowed()
        if directory is not None and not directory.is_dir():
            raise MachineFault(
                Code.MIRROR_FAILED, f"{directory} is not a directory", subject="mirror"
            )
        with mapped_errors():
            set_setting(
                self.store, "mirror_dir", str(directory) if directory else None, operator.username
            )

    def provision(self, operator: Operator, server_url: str, code: str) -> StationInfo:
        """Redeem a one-time code: the CLI's ``provision`` (``app.service.provision``)."""
        from app.service.provision import provision

        if not operator.is_technician:
            raise not_allowed()
        with mapped_errors():
            provision(self.store, server_url, code, actor=operator.username)
        return self.station_info()

    def move_kit(
        self, operator: Operator, kecamatan: str, supervisor: str, supervisor_password: str
    ) -> StationInfo:
        """The CLI's ``assign`` (``app.service.kit``) for the technician signed in."""
        from app.service.kit import move_kit

        if not operator.is_technician:
            raise not_allowed()
        with mapped_errors():
            move_kit(
                self.store,
                kecamatan,
                mover=operator.username,
                approver=supervisor,
                approver_password=supervisor_password,
                reason=f"moved by {operator.username}, approved by supervisor {supervisor.strip()}",
            )
        return self.station_info()

    def operator_names(self, operator: Operator) -> list[tuple[str, str, bool, bool]]:
        """Technician: (username, role, has a card, locked) of the active accounts."""
        from app.store.operators import list_operators

        if not operator.is_technician:
            raise not_allowed()
        with mapped_errors():
            return [
                (o.username, o.role, o.has_card, o.locked)
                for o in list_operators(self.store)
                if o.active
            ]

    def unlock_operator(self, operator: Operator, username: str) -> None:
        """Technician or supervisor: lift a lock after failed sign-ins (audited)."""
        from app.store.operators import unlock

        if not operator.is_technician:
            raise not_allowed()
        with mapped_errors():
            unlock(self.store, username, actor=operator.username)

    def bind_operator_card(
        self, operator: Operator, username: str, card_uid: str, pin: str
    ) -> None:
        """Technician: the card on the reader becomes ``username``'s, with this PIN (audited
        under the technician's name)."""
        from app.store.operators import bind_card

        if not operator.is_technician:
            raise not_allowed()
        try:
            with mapped_errors():
                bind_card(self.store, username, card_uid, pin, actor=operator.username)
        except BadInput as exc:
            if exc.field == "card_uid":
                raise Refusal(Code.CARD_IN_USE, "card_in_use", exc.message, field="card") from exc
            raise BadInput(exc.field, exc.message, Code.BAD_PIN_FORMAT) from exc

    def unbind_operator_card(self, operator: Operator, username: str) -> bool:
        from app.store.operators import unbind_card

        if not operator.is_technician:
            raise not_allowed()
        with mapped_errors():
            return unbind_card(self.store, username, actor=operator.username)

    # --- camera ----------------------------------------------------------------------------
    def camera_choices(self) -> list[tuple[str, str]]:
        from app.ui import devices

        return devices.camera_choices(self._extra_cameras)

    def start_camera(
        self, choice: str, on_frame: FrameCallback, on_error: Callable[[str], None]
    ) -> Stoppable:
        from app.ui import devices

        if not choice:
            choices = self.camera_choices()
            if not choices:
                raise MachineFault(Code.NO_CAMERA, "no camera found", subject="camera")
            choice = choices[0][0]
        loop = devices.start_camera(choice, on_frame, on_error)
        return self._loops.add(Stopper(loop, self._loops))

    def accept_frame(self, frame: Any) -> PhotoResult:
        from app.capture.photo import PhotoRejected, PhotoUnreadable, accept_image

        try:
            accepted = accept_image(frame)
        except PhotoRejected as exc:
            return PhotoResult(False, None, reasons=tuple((r.code, r.message) for r in exc.reasons))
        except PhotoUnreadable as exc:
            return PhotoResult(False, None, reasons=(("unreadable", exc.message),))
        return PhotoResult(True, accepted.jpeg, accepted.width, accepted.height, report=accepted)

    # --- card reader -----------------------------------------------------------------------
    def reader_choices(self) -> list[str]:
        from app.ui import devices

        return devices.reader_names()

    def start_card_watcher(self, on_event: Callable[[CardEvent], None]) -> Stoppable:
        from app.ui import devices

        watcher = devices.start_card_watcher(on_event)
        return self._loops.add(Stopper(watcher, self._loops))

    # --- sync ------------------------------------------------------------------------------
    def start_sync(self, on_state: Callable[[SyncLightState], None]) -> SyncHandle | None:
        from app.sync.station import StationSync

        with mapped_errors():
            ident = self._identity()
        if ident is None:
            on_state(SyncLightState("not-provisioned"))
            return None
        if not ident.server_url:  # set up offline (`init`): packets leave by export only
            on_state(SyncLightState("no-server"))
            return None
        # StationSync, not a bare engine: the worker also pulls the assignment, purges
        # uploaded payloads after the retention period, checks the falling-behind policy and
        # keeps the sync figures that `status` reports.
        with mapped_errors():
            station_sync = StationSync(self.store)
        reporter = SyncReporter(on_state)
        worker = station_sync.worker(
            interval_s=self.sync_interval_s,
            on_state=reporter.on_worker_state,
            on_progress=reporter.on_worker_progress,
        )
        worker.start()
        return self._loops.add(SyncStopper(worker, self._loops))

    def close(self) -> None:
        """Stop every loop and close the store; never waits long on the caller's thread (a
        sync worker that has not ended yet is joined in the background, and the store closes
        after it: never under a thread that may be inside a transaction)."""
        if self._closed:
            return
        self._closed = True
        self._loops.stop_all()
        stopping = self._loops.still_stopping()
        if not stopping:
            self._close_store()
            return

        def close_after() -> None:
            for t in stopping:
                t.join()
            self._close_store()

        # A daemon too: at the process's end the OS closes the database files.
        threading.Thread(target=close_after, name="ektp-store-close", daemon=True).start()

    def _close_store(self) -> None:
        with self._store_lock:
            if self._store is not None:
                self._store.close()
                self._store = None
