"""The real :class:`~app.ui.services.Services`: store, domain, capture and sync wired together.

Plain Python apart from nothing: the UI calls the store-touching methods through its
TaskManager (never on the UI thread). Core errors are mapped here to the message codes of
:mod:`app.ui.messages`, so every failure reaches the operator as a plain sentence.
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.domain import codes, regions
from app.domain.biodata import suggest_from_nik, validate_biodata
from app.ui.services import (
    CardEvent,
    Checked,
    FrameCallback,
    HomeStatus,
    Issue,
    Operator,
    PhotoResult,
    QueueRow,
    Region,
    Sealed,
    ServiceError,
    StationInfo,
    Stoppable,
    SyncHandle,
    SyncState,
)

log = logging.getLogger(__name__)

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
DEMO_VIDEO = RESOURCES / "demo" / "face.avi"
REGION_LIMIT = 12


def _record_number(uuid: str) -> str:
    from app.ui.receipt import record_number

    return record_number(uuid)


@contextmanager
def mapped_errors() -> Iterator[None]:
    """Turn the core's typed errors into ServiceError codes the UI can show."""
    try:
        yield
    except ServiceError:
        raise
    except Exception as exc:
        raise _map(exc) from exc


def _map(exc: Exception) -> ServiceError:
    name = type(exc).__name__
    kind = getattr(exc, "kind", None)
    if name == "StorageError":
        return ServiceError("disk-full" if kind == "disk_full" else "store-failed", str(exc))
    table = {
        "AccountLocked": "account-locked",
        "AuthenticationFailed": "bad-credentials",
        "UnknownOperator": "bad-credentials",
        "NotInitialized": "not-provisioned",
        "InvalidBiodata": "invalid-biodata",
        "FallingBehind": "behind-refuse",
        "MirrorError": "mirror-failed",
        "PhotoRejected": "photo-rejected",
        "PhotoUnreadable": "photo-rejected",
        "ProvisionError": "server-unreachable",
        "IdentityChanged": "identity-changed",
        "ExportConflict": "export-conflict",
        "ClockImplausible": "clock-implausible",
        "ExportStopped": "export-stopped",
        "ExportMediaError": "export-failed",
        "InvalidInput": "unexpected",
        "OperatorError": "unexpected",
    }
    code = table.get(name, "unexpected")
    # The message says it all for these (and the core's English detail would only confuse).
    detail = (
        str(exc) if code not in ("bad-credentials", "account-locked", "identity-changed") else ""
    )
    if code == "unexpected":
        log.exception("unexpected error", exc_info=exc)
    return ServiceError(code, detail)


class _Loops:
    """Every loop these services started, so close() stops what the UI could not."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loops: list[Any] = []

    def add(self, loop: Any) -> Any:
        with self._lock:
            self._loops.append(loop)
        return loop

    def discard(self, loop: Any) -> None:
        with self._lock:
            if loop in self._loops:
                self._loops.remove(loop)

    def stop_all(self) -> None:
        with self._lock:
            loops, self._loops = self._loops, []
        for loop in loops:
            try:
                loop.stop()
            except Exception:
                log.exception("stopping %r failed", loop)


class _Stopper:
    """Wraps a loop so stopping it also forgets it."""

    def __init__(self, loop: Any, loops: _Loops) -> None:
        self.loop = loop
        self.loops = loops

    def stop(self) -> None:
        self.loops.discard(self)
        self.loop.stop()

    def wake(self) -> None:
        self.loop.wake()


# Closing the window: how long the UI thread waits for the sync worker to end. Stopping cuts
# off the upload in flight (the worker's request_stop aborts its connections), so the worker
# normally ends in milliseconds; one that does not (a connect or DNS lookup in progress, the
# store busy) is joined on a daemon thread, which closes the store after it: the process
# never waits for it, and the store is never closed under a thread still using it.
SYNC_STOP_UI_WAIT_S = 0.3
SYNC_STOP_BACKGROUND_S = 90.0


class _SyncStopper(_Stopper):
    """Stopping the sync worker never holds the caller (the UI thread) for long."""

    def __init__(self, loop: Any, loops: _Loops, services: StationServices) -> None:
        super().__init__(loop, loops)
        self.services = services

    def stop(self) -> None:
        self.loops.discard(self)
        self.loop.request_stop()  # nothing new starts; the upload in flight is cut off
        if not self.loop.stop(timeout=SYNC_STOP_UI_WAIT_S):
            self.services._finish_stopping(self.loop)

    def sync_now(self) -> None:
        self.loop.sync_now()


class StationServices:
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
        self._loops = _Loops()
        self._closed = False
        self._stopping: list[threading.Thread] = []  # sync workers ending in the background

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
        from app.store.operators import list_operators
        from app.store.settings import load_settings

        with mapped_errors():
            ident = self._identity()
            settings = load_settings(self.store)
            mirror = settings.mirror_dir
            pdf_here = settings.receipt_pdf_on_station == "yes"
            operators = sum(1 for op in list_operators(self.store) if op.active)
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
        except ServiceError as exc:
            if exc.code == "bad-credentials":
                raise ServiceError("bad-pin") from exc
            raise
        return Operator(info.username, info.role)

    def home_status(self) -> HomeStatus:
        from sqlalchemy import func, select

        from app.store.backlog import check_backlog_policy
        from app.store.mirror import check_mirror
        from app.store.models import Record
        from app.store.outbox import Outbox
        from app.store.settings import load_settings

        with mapped_errors():
            outbox = Outbox(self.store)
            counts = outbox.counts()
            pending = outbox.pending()
            midnight = (
                datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
            )
            with self.store.read() as s:
                today = s.execute(
                    select(func.count()).where(Record.sealed_at >= midnight.astimezone(UTC))
                ).scalar_one()
            settings = load_settings(self.store)
            mirror = check_mirror(settings.mirror_path) if settings.mirror_dir else None
            backlog = check_backlog_policy(self.store)
            from app.store.fates import needs_action

            asked = len(needs_action(self.store, open_only=True))
        oldest = pending.oldest_sealed_at
        try:
            free = shutil.disk_usage(self.home).free
        except OSError:
            free = None
        return HomeStatus(
            today=int(today),
            pending=pending.count,
            counts=counts,
            oldest_pending_age_s=(datetime.now(UTC) - oldest).total_seconds() if oldest else None,
            disk_free_bytes=free,
            mirror_dir=settings.mirror_dir,
            mirror_ok=mirror.ok if mirror else None,
            behind=None if backlog.level == "ok" else backlog.level,
            behind_reason="; ".join(backlog.messages),
            needs_action=asked,
        )

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
            raise ServiceError("photo-rejected")
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
        """Copy every packet that still has its payload to ``directory`` (the CLI's export:
        ``<uuid>.ektp`` + ``manifest.json``), reporting (done, total) as it goes. Runs on
        the caller's thread (the UI's export worker, not the one that seals). Audited under
        the signed-in person's name: the copies leave the station with them."""
        from app.store.export import export_packets

        with mapped_errors():
            return export_packets(
                self.store,
                directory,
                actor=operator.username,
                progress=progress,
                should_stop=should_stop,
            ).packets

    def requeue(self, operator: Operator, uuids: list[str] | None) -> int:
        """Technician: send rejected records again (these, or all with ``None``); audited
        under the technician's name. Returns how many were requeued."""
        from app.store.outbox import Outbox

        if not operator.is_technician:
            raise ServiceError("not-allowed")
        with mapped_errors():
            return len(Outbox(self.store).requeue_many(uuids, actor=operator.username))

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
            raise ServiceError("not-allowed")
        with mapped_errors():
            mark_contacted(self.store, uuid, operator.username)

    def start_rerecording(self, uuid: str | None) -> None:
        """The next record sealed re-records ``uuid`` (``rerecord_of`` in its manifest)."""
        self.rerecord_of = uuid

    def set_mirror(self, operator: Operator, directory: Path | None) -> None:
        from app.store.settings import set_setting

        if not operator.is_technician:
            raise ServiceError("not-allowed")
        if directory is not None and not directory.is_dir():
            raise ServiceError("mirror-failed", str(directory))
        with mapped_errors():
            set_setting(
                self.store, "mirror_dir", str(directory) if directory else None, operator.username
            )

    def provision(self, operator: Operator, server_url: str, code: str) -> StationInfo:
        """Redeem a one-time code (the CLI's ``provision``): a station that already has an
        identity registers its own key and id again (so the server never holds a key the
        station lacks); what the server accepted is stored before this returns."""
        from app.sync import provision as provisioning

        if not operator.is_technician:
            raise ServiceError("not-allowed")
        try:
            url = provisioning.check_server_url(server_url)
        except provisioning.InvalidServerUrl as exc:
            raise ServiceError("bad-url", str(exc)) from exc
        with mapped_errors():
            existing = self._identity()
            # Stored before the code is redeemed: a second try registers the same key.
            key = provisioning.station_key(self.store, existing)
        try:
            reg = provisioning.register(url, code.strip(), existing, key)
        except provisioning.WrongAddress as exc:  # answered, but no enrollment there
            raise ServiceError("bad-url", str(exc)) from exc
        except provisioning.CodeRefused as exc:
            if exc.reason == "key_in_use":
                if existing is None:
                    with mapped_errors():
                        now = self._identity()
                    if now is not None:
                        # Set up meanwhile by another process with this home's pending key.
                        raise ServiceError("identity-changed") from exc
                # The detail names the station that holds the key and what to do.
                raise ServiceError("key-in-use", exc.detail) from exc
            raise ServiceError("bad-code", str(exc)) from exc
        except provisioning.ProvisionError as exc:  # no usable answer: the key is kept
            raise ServiceError("server-unreachable", str(exc)) from exc
        try:
            with mapped_errors():
                provisioning.save(self.store, url, reg, operator.username)
        except ServiceError as exc:
            if exc.code in ("disk-full", "store-failed"):
                # The code is used now: say that the same code works again once fixed.
                raise ServiceError(
                    exc.code, f"{exc.detail}; {provisioning.NOT_SAVED_HINT}"
                ) from exc
            raise
        return self.station_info()

    def move_kit(
        self, operator: Operator, kecamatan: str, supervisor: str, supervisor_password: str
    ) -> StationInfo:
        from app.store import station as store_station
        from app.store.operators import OperatorError

        if not operator.is_technician:
            raise ServiceError("not-allowed")
        code = regions.normalize_code(kecamatan)
        region = regions.get(code) if code else None
        if region is None or region.level != 3:
            raise ServiceError("bad-kecamatan", kecamatan)
        if supervisor.strip() == operator.username:
            raise ServiceError("approver-is-mover")
        try:
            with mapped_errors():
                # The store checks the approver (another supervisor, right password).
                store_station.move_kit(
                    self.store,
                    region.code,
                    moved_by=operator.username,
                    approver=supervisor.strip(),
                    approver_password=supervisor_password,
                    reason=f"moved by {operator.username}, approved by supervisor "
                    f"{supervisor.strip()}",
                )
        except ServiceError as exc:
            if isinstance(exc.__cause__, OperatorError):
                raise ServiceError("supervisor-required") from exc
            raise
        return self.station_info()

    def operator_names(self, operator: Operator) -> list[tuple[str, str, bool, bool]]:
        """Technician: (username, role, has a card, locked) of the active accounts."""
        from app.store.operators import list_operators

        if not operator.is_technician:
            raise ServiceError("not-allowed")
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
            raise ServiceError("not-allowed")
        with mapped_errors():
            unlock(self.store, username, actor=operator.username)

    def bind_operator_card(
        self, operator: Operator, username: str, card_uid: str, pin: str
    ) -> None:
        """Technician: the card on the reader becomes ``username``'s, with this PIN (audited
        under the technician's name)."""
        from app.store.operators import OperatorError, bind_card

        if not operator.is_technician:
            raise ServiceError("not-allowed")
        try:
            bind_card(self.store, username, card_uid, pin, actor=operator.username)
        except OperatorError as exc:
            raise ServiceError(
                "card-in-use" if exc.field == "card_uid" else "bad-pin-format", exc.message
            ) from exc
        except Exception as exc:
            raise _map(exc) from exc

    def unbind_operator_card(self, operator: Operator, username: str) -> bool:
        from app.store.operators import unbind_card

        if not operator.is_technician:
            raise ServiceError("not-allowed")
        with mapped_errors():
            return unbind_card(self.store, username, actor=operator.username)

    # --- domain ----------------------------------------------------------------------------
    def validate(self, fields: dict[str, str]) -> Checked:
        v = validate_biodata(fields)
        return Checked(
            ok=v.ok,
            errors=[Issue(i.field, i.code, i.message) for i in v.errors],
            warnings=[Issue(i.field, i.code, i.message) for i in v.warnings],
            biodata=v.biodata,
        )

    def suggest_from_nik(self, nik: str) -> dict[str, str]:
        return suggest_from_nik(nik)

    def search_regions(
        self, query: str, within: str | None, limit: int = REGION_LIMIT
    ) -> list[Region]:
        """Desa/kelurahan for the kode_wilayah field: a typed code; then, within the
        station's kabupaten, desa whose name matches and the desa of matching kecamatan;
        then matching desa anywhere."""
        found: list[Any] = []
        seen: set[str] = set()

        def add(items: list[Any]) -> None:
            for r in items:
                if r.level == 4 and r.code not in seen and len(found) < limit:
                    found.append(r)
                    seen.add(r.code)

        code = regions.normalize_code(query)
        exact = regions.get(code) if code else None
        if exact is not None:
            add([exact] if exact.level == 4 else regions.children(exact.code))
        if within:
            add(regions.search(query, within=within, level=4, limit=limit))
            for kec in regions.search(query, within=within, level=3, limit=3):
                add(regions.children(kec.code))
        if len(found) < limit:
            add(regions.search(query, level=4, limit=limit))
        return [Region(r.code, r.name, r.type, r.path) for r in found]

    def warm_up(self, kabupaten: str | None) -> None:
        """Load the region data and indexes (~0.5 s, once) before the operator types."""
        suggest_from_nik("3603321208900007")
        codes.pekerjaan()
        if kabupaten:
            regions.search("xx", within=kabupaten)
        regions.search("xx", level=4, limit=1)
        # The camera code (OpenCV, numpy, app.capture: ~0.2 s of mostly-Python imports) is
        # loaded here rather than on the first photo step, where the imports held the GIL the
        # UI thread needed while the step came up.
        import app.capture.camera
        import app.capture.frameloop
        import app.capture.photo
        import app.ui.devices  # noqa: F401

    def region_name(self, code: str) -> str:
        r = regions.get(code)
        return r.path if r else ""

    def choices(self) -> dict[str, list[str]]:
        return {
            "jenis_kelamin": list(codes.JENIS_KELAMIN),
            "golongan_darah": list(codes.GOLONGAN_DARAH),
            "agama": list(codes.AGAMA),
            "status_perkawinan": list(codes.STATUS_PERKAWINAN),
            "pekerjaan": list(codes.pekerjaan()),
            "kewarganegaraan": list(codes.KEWARGANEGARAAN),
        }

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
                raise ServiceError("no-camera")
            choice = choices[0][0]
        loop = devices.start_camera(choice, on_frame, on_error)
        return self._loops.add(_Stopper(loop, self._loops))

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
        return self._loops.add(_Stopper(watcher, self._loops))

    # --- sync ------------------------------------------------------------------------------
    def start_sync(self, on_state: Callable[[SyncState], None]) -> SyncHandle | None:
        from app.sync.station import StationSync

        with mapped_errors():
            ident = self._identity()
        if ident is None:
            on_state(SyncState("not-provisioned"))
            return None
        if not ident.server_url:  # set up offline (`init`): packets leave by export only
            on_state(SyncState("no-server"))
            return None
        # StationSync, not a bare engine: the worker also pulls the assignment, purges
        # uploaded payloads after the retention period, checks the falling-behind policy and
        # keeps the sync figures that `status` reports.
        with mapped_errors():
            station_sync = StationSync(self.store)
        # The worker reports states (online/sending/offline/error) and, separately, progress
        # (records left, uploaded in this drain); the light needs both in one value.
        current: dict[str, Any] = {"state": None, "since": None, "error": None, "sent": 0}

        def emit(left: int, rejected: int) -> None:
            state = current["state"]
            if state is None:
                return  # no contact yet: nothing true to say
            if state == "sending":
                # "Mengirim N dari M": M is what the worker sends, not the rejected records
                # waiting for a technician (the queue screen shows those as "Ditolak").
                sent = current["sent"]
                to_send = max(0, left - rejected)
                on_state(SyncState("sending", current["since"], sent, sent + to_send))
            else:
                # Rejected records included: "all sent" must not show while they wait.
                on_state(SyncState(state, current["since"], 0, left, current["error"]))

        def state_cb(s: Any) -> None:
            if s.state == "stopped":
                return
            # "error" stays an error (store locked or full, station revoked, server refusing):
            # neither "online" nor "offline" would tell the truth.
            current["state"] = s.state
            current["since"] = datetime.fromtimestamp(s.since, UTC) if s.since else None
            current["error"] = s.error
            if s.state != "sending":
                current["sent"] = 0
            emit(s.records_left or 0, s.rejected_left)

        def progress_cb(p: Any) -> None:
            current["sent"] = p.uploaded
            emit(p.records_left, p.rejected_left)

        worker = station_sync.worker(
            interval_s=self.sync_interval_s,
            on_state=state_cb,
            on_progress=progress_cb,
        )
        worker.start()
        return self._loops.add(_SyncStopper(worker, self._loops, self))

    def _finish_stopping(self, worker: Any) -> None:
        """Join a sync worker that has not ended yet, off the caller's thread.

        A daemon, like the worker itself: a process that is exiting must not wait for it
        (that kept a closed station running for the rest of a stalled upload, up to its
        read timeout). Nothing is lost if the process ends first: a record is marked only
        in one store transaction after its receipt, SQLite rolls back a transaction cut off
        by the process's end, and an unmarked record goes again on the next start."""

        def join() -> None:
            if not worker.stop(timeout=SYNC_STOP_BACKGROUND_S):
                log.warning("the sync worker did not end within %s s", SYNC_STOP_BACKGROUND_S)

        thread = threading.Thread(target=join, name="ektp-sync-stop", daemon=True)
        thread.start()
        with self._store_lock:
            self._stopping.append(thread)

    def close(self) -> None:
        """Stop every loop and close the store; never waits long on the caller's thread (a
        sync worker that has not ended yet is joined in the background, and the store closes
        after it: never under a thread that may be inside a transaction)."""
        if self._closed:
            return
        self._closed = True
        self._loops.stop_all()
        with self._store_lock:
            stopping = [t for t in self._stopping if t.is_alive()]
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
