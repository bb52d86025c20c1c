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
    OPERATOR_DISABLED = "operator-disabled"
    NOT_ALLOWED = "not-allowed"
    SUPERVISOR_REQUIRED = "supervisor-required"
    APPROVER_IS_MOVER = "approver-is-mover"
    BAD_CODE = "bad-code"
    KEY_IN_USE = "key-in-use"
    CARD_IN_USE = "card-in-use"
    BEHIND_REFUSE = "behind-refuse"
    PDF_ON_STATION = "pdf-on-station"
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
    # a bug: never raised as such; what the funnel answers for what it does not know
    UNEXPECTED = "unexpected"


# The one table from error to exit code. A code not listed takes its branch's exit code.
EXIT_CODES: dict[Code, int] = {
    Code.BEHIND_REFUSE: EXIT_FAULT,  # a machine state: send or export the backlog
    Code.IDENTITY_CHANGED: EXIT_FAULT,
    Code.UNEXPECTED: EXIT_BUG,
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
        return EXIT_CODES.get(self.code, self.branch_exit)

    @property
    def detail(self) -> str:
        """The English detail beside the operator's sentence (tooltip, log)."""
        return str(self)

    def line(self) -> str:
        """The CLI's one line (after ``ektp-station: error:``)."""
        return str(self)


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
