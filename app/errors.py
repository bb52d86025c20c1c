"""One error vocabulary for the station, read by the command line and the GUI alike.

Every error the station knows is a :class:`StationError` on one of three branches:

- :class:`MachineFault` — the environment's fault (disk full, database locked, no answer from
  the server, the mirror stick gone): nothing the person typed was wrong; try again once the
  cause is fixed. Exit 1.
- :class:`BadInput` — what was given is wrong; ``field`` names it, nothing was written. Exit 2.
- :class:`Refusal` — a rule or another party said no (``reason``: the server refused the code,
  the station is falling behind, the approval is not valid). Exit code from the table.

Each carries a :class:`Code`: the key of the operator's sentence (``app/ui/messages.py``
holds them, translated) and of :data:`EXIT_CODES`, the one table from error to exit code.
:func:`known` is the one funnel that turns whatever a core package raised into a
``StationError``, or None for a bug (exit 70, "unexpected" on screen). It decides by type,
never by a class name.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

EXIT_FAULT = 1
EXIT_USAGE = 2
EXIT_BUG = 70


class Code(StrEnum):
    """What went wrong, for the operator's sentence and the exit code."""

    # bad input
    BAD_INPUT = "bad-input"  # the CLI's one line names the field
    USERNAME_EMPTY = "username-empty"
    PASSWORD_EMPTY = "password-empty"
    PIN_EMPTY = "pin-empty"
    CODE_EMPTY = "code-empty"
    BAD_URL = "bad-url"
    BAD_KECAMATAN = "bad-kecamatan"
    ALREADY_THERE = "already-there"  # the kit is already in that kecamatan
    BAD_PIN_FORMAT = "bad-pin-format"
    PIN_MISMATCH = "pin-mismatch"
    INVALID_BIODATA = "invalid-biodata"
    PHOTO_REJECTED = "photo-rejected"
    EXPORT_CONFLICT = "export-conflict"
    NOT_PROVISIONED = "not-provisioned"
    # refusals
    BAD_CREDENTIALS = "bad-credentials"
    BAD_PIN = "bad-pin"
    ACCOUNT_LOCKED = "account-locked"
    SIGN_IN_WAIT = "sign-in-wait"  # tried again before the delay after a failure passed
    OPERATOR_DISABLED = "operator-disabled"
    NOT_ALLOWED = "not-allowed"
    SUPERVISOR_REQUIRED = "supervisor-required"
    APPROVER_IS_MOVER = "approver-is-mover"
    BAD_CODE = "bad-code"
    KEY_IN_USE = "key-in-use"
    CARD_IN_USE = "card-in-use"
    BEHIND_REFUSE = "behind-refuse"
    PDF_ON_STATION = "pdf-on-station"
    CARD_CHECK_STATION = "card-check-station"  # a card-check station records nothing
    NOT_A_VERIFIER = "not-a-verifier"  # card check: the centre answers card-check stations only
    STATION_REVOKED = "station-revoked"
    CHECK_RATE_LIMITED = "check-rate-limited"
    # machine faults
    DISK_FULL = "disk-full"
    STORE_FAILED = "store-failed"
    SERVER_UNREACHABLE = "server-unreachable"
    IDENTITY_CHANGED = "identity-changed"
    MIRROR_FAILED = "mirror-failed"
    EXPORT_FAILED = "export-failed"
    EXPORT_STOPPED = "export-stopped"
    CLOCK_IMPLAUSIBLE = "clock-implausible"
    KEY_MISSING = "key-missing"
    NO_CAMERA = "no-camera"
    CAMERA_FAILED = "camera-failed"
    NO_READER = "no-reader"
    READER_FAILED = "reader-failed"
    PDF_FAILED = "pdf-failed"
    NO_CARD_ON_READER = "no-card-on-reader"
    SIGN_IN_FAILED = "sign-in-failed"
    CENTRE_OFFLINE = "centre-offline"  # card check: no signed answer from the centre
    NO_KTP_ON_READER = "no-ktp-on-reader"  # card check: no resident's card came
    # a bug: never raised as such; what the funnel answers for what it does not know
    UNEXPECTED = "unexpected"


class Detail(StrEnum):
    """What the operator's screen does with an error's English detail."""

    TECHNICAL = "technical"  # logged and in the tooltip for the technician (the default)
    SHOWN = "shown"  # meant for the operator: after the sentence (it names a station)
    NONE = "none"  # the sentence says it all; the detail would only confuse


@dataclass(frozen=True)
class Treatment:
    exit_code: int | None = None  # None: the branch's (1 machine fault, 2 bad input/refusal)
    detail: Detail = Detail.TECHNICAL


# The one table from error to exit code and to how the operator's sentence (app/ui/messages.py,
# keyed by the same Code) is shown. A code not listed takes the defaults.
TABLE: dict[Code, Treatment] = {
    Code.BEHIND_REFUSE: Treatment(EXIT_FAULT),  # a machine state: send or export the backlog
    Code.IDENTITY_CHANGED: Treatment(EXIT_FAULT, Detail.NONE),
    Code.KEY_IN_USE: Treatment(detail=Detail.SHOWN),
    Code.BAD_CREDENTIALS: Treatment(detail=Detail.NONE),
    Code.ACCOUNT_LOCKED: Treatment(detail=Detail.NONE),
    Code.SIGN_IN_WAIT: Treatment(detail=Detail.SHOWN),  # how long: "4 s"
    Code.CHECK_RATE_LIMITED: Treatment(EXIT_FAULT),  # wait a minute and check again
    Code.UNEXPECTED: Treatment(EXIT_BUG),
}


class StationError(Exception):
    """Root of every error the station knows. ``code``: the operator's sentence;
    ``subject``: what the CLI's one line starts with (a field, "server", "storage (…)");
    ``message``: the rest of that line (English, for the technician and the log)."""

    branch_exit = EXIT_FAULT

    def __init__(self, code: Code, message: str = "", *, subject: str = "") -> None:
        super().__init__(f"{subject}: {message}" if subject else message or code.value)
        self.code = code
        self.message = message
        self.subject = subject

    @property
    def exit_code(self) -> int:
        treatment = TABLE.get(self.code)
        if treatment is None or treatment.exit_code is None:
            return self.branch_exit
        return treatment.exit_code

    @property
    def detail(self) -> str:
        """The detail beside the operator's sentence: the English line for the technician's
        tooltip, the refusing party's own words when meant for the operator, or nothing."""
        treatment = TABLE.get(self.code, Treatment())
        if treatment.detail is Detail.NONE:
            return ""
        said = getattr(self, "said", "")
        return said if treatment.detail is Detail.SHOWN and said else str(self)

    def line(self) -> str:
        """The CLI's one line (after ``ektp-station: error:``)."""
        return str(self)


class Bug(StationError):
    """What the funnel answers for an error it does not know (the GUI's "unexpected"): the
    original is its ``__cause__``."""

    branch_exit = EXIT_BUG

    def __init__(self, exc: BaseException) -> None:
        super().__init__(Code.UNEXPECTED, bug_line(exc))


class MachineFault(StationError):
    branch_exit = EXIT_FAULT


class BadInput(StationError):
    branch_exit = EXIT_USAGE

    def __init__(self, field: str, message: str, code: Code = Code.BAD_INPUT) -> None:
        super().__init__(code, message, subject=field)
        self.field = field


class Refusal(StationError):
    """``reason``: the refusal's own word (the server's ``key_in_use``, ``falling_behind``);
    ``field``: the input refused, if any (the CLI names it); ``said``: the refusing party's
    own explanation, when it is meant for the operator (the server naming the station that
    holds a key)."""

    branch_exit = EXIT_USAGE

    def __init__(
        self, code: Code, reason: str, message: str = "", *, field: str = "", said: str = ""
    ) -> None:
        super().__init__(code, message, subject=field)
        self.reason = reason
        self.field = field
        self.said = said


def known(exc: BaseException) -> StationError | None:
    """The one funnel: what a core package raised, as the station's error; None for a bug.

    By type, never by a class name. The CLI's line for each is what it always printed."""
    if isinstance(exc, StationError):
        return exc
    return _bad_input(exc) or _refusal(exc) or _machine_fault(exc)


def _bad_input(exc: BaseException) -> BadInput | None:
    # Imported here: the core's modules are heavy, and some of them may raise these errors.
    from app.enrollment import InvalidBiodata, InvalidInput
    from app.store.errors import AlreadyInitialized, NotInitialized
    from app.store.export import ExportConflict
    from app.store.operators import OperatorError, UnknownOperator

    if isinstance(exc, InvalidInput | OperatorError):
        return BadInput(exc.field, exc.message)
    if isinstance(exc, InvalidBiodata):
        parts = [issue_line(e) for e in exc.errors] or [str(exc)]
        return BadInput("", "; ".join(parts), Code.INVALID_BIODATA)
    if isinstance(exc, UnknownOperator):
        return BadInput(
            "operator", f"no active operator named {exc.username!r}", Code.BAD_CREDENTIALS
        )
    if isinstance(exc, NotInitialized):
        return BadInput("station", str(exc), Code.NOT_PROVISIONED)
    if isinstance(exc, AlreadyInitialized):
        return BadInput("station", str(exc))
    photo = _photo_error(exc)
    if photo is not None:
        return BadInput("photo", photo, Code.PHOTO_REJECTED)
    if isinstance(exc, ExportConflict):
        return BadInput("to", str(exc), Code.EXPORT_CONFLICT)
    return None


def _refusal(exc: BaseException) -> Refusal | None:
    from app.enrollment import CardCheckStation, FallingBehind
    from app.store.operators import AccountLocked, AuthenticationFailed, TooSoon

    if isinstance(exc, AccountLocked):
        return Refusal(Code.ACCOUNT_LOCKED, "account_locked", str(exc), field="operator")
    if isinstance(exc, TooSoon):
        return Refusal(
            Code.SIGN_IN_WAIT, "sign_in_wait", str(exc), field="operator", said=f"{exc.wait} s"
        )
    if isinstance(exc, AuthenticationFailed):
        return Refusal(Code.BAD_CREDENTIALS, "authentication_failed", str(exc), field="password")
    if isinstance(exc, CardCheckStation):
        return Refusal(Code.CARD_CHECK_STATION, "card_check_station", str(exc), field="station")
    if isinstance(exc, FallingBehind):
        return Refusal(Code.BEHIND_REFUSE, "falling_behind", exc.message, field="falling behind")
    return None


def _machine_fault(exc: BaseException) -> MachineFault | None:
    from app.store.clock import ClockImplausible
    from app.store.errors import StorageError, classify
    from app.store.export import ExportMediaError, ExportStopped
    from app.store.keystore import KeyMaterialMissing
    from app.store.mirror import MirrorError
    from app.sync.provision import IdentityChanged, ProvisionError

    if isinstance(exc, MirrorError):
        return MachineFault(Code.MIRROR_FAILED, exc.message, subject="mirror")
    if isinstance(exc, ClockImplausible):
        return MachineFault(Code.CLOCK_IMPLAUSIBLE, exc.message, subject="clock")
    if isinstance(exc, KeyMaterialMissing):
        return MachineFault(Code.KEY_MISSING, str(exc), subject="station key")
    if isinstance(exc, ExportMediaError):
        # The target drive, not the station's store: "storage (disk_full)" would send the
        # technician to free space on the wrong disk.
        return MachineFault(Code.EXPORT_FAILED, exc.message, subject="export")
    if isinstance(exc, ExportStopped):
        return MachineFault(Code.EXPORT_STOPPED, str(exc), subject="export")
    if isinstance(exc, IdentityChanged):
        return MachineFault(Code.IDENTITY_CHANGED, str(exc), subject="station")
    if isinstance(exc, ProvisionError):
        return MachineFault(Code.SERVER_UNREACHABLE, str(exc), subject="server")
    storage = exc if isinstance(exc, StorageError) else classify(exc)
    if storage is not None:
        return MachineFault(
            Code.DISK_FULL if storage.kind == "disk_full" else Code.STORE_FAILED,
            storage.message,
            subject=f"storage ({storage.kind})",
        )
    return None


def _photo_error(exc: BaseException) -> str | None:
    try:  # the capture package needs OpenCV, which a broken install may lack
        from app.capture.photo import PhotoRejected, PhotoUnreadable
    except ImportError:
        return None
    if isinstance(exc, PhotoUnreadable):
        return exc.message
    if isinstance(exc, PhotoRejected):
        return "; ".join(r.message for r in exc.reasons)
    return None


def bug_line(exc: BaseException) -> str:
    """The CLI's line for an error the funnel does not know."""
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"internal error, please report it: {type(exc).__name__}: {first}"


def issue_line(issue: object) -> str:
    """``field: message`` for a domain FieldIssue; the domain's messages already start with
    the field name, so it is not repeated."""
    field = str(getattr(issue, "field", ""))
    message = str(getattr(issue, "message", issue))
    return message if message.startswith(field) else f"{field}: {message}"


def funnel(exc: BaseException) -> StationError:
    """``known(exc)``, or a :class:`Bug` wrapping it."""
    return known(exc) or Bug(exc)
