"""Operator accounts: argon2id password hashes, optional card + PIN login, roles."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.store.audit import record_event
from app.store.db import Store
from app.store.errors import StoreError
from app.store.models import ROLES, Operator
from app.store.timeutil import utcnow

MIN_PASSWORD_LEN = 8
MAX_PASSWORD_LEN = 1024
# Failed sign-ins in a row (card PIN and password together) that lock an account: a PIN of
# four digits is 10,000 tries, and argon2 alone makes that about 80 minutes.
LOCK_AFTER = 5
# After a failure the next try of that account waits: 1 s, then doubling with each failure in
# a row, at most RETRY_DELAY_MAX. Kept in the database (operator.failed_at), so a restart does
# not reset it. Tries during the wait are refused without looking at the secret.
RETRY_DELAY_FIRST = 1.0
RETRY_DELAY_MAX = 60.0
ADMIN_ROLES = ("technician", "supervisor")
PIN_RE = re.compile(r"[0-9]{4,8}")
USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
CARD_UID_RE = re.compile(r"(?:[0-9A-F]{2}){4,32}")
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


class OperatorError(StoreError):
    """Bad operator input; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class UnknownOperator(StoreError):
    def __init__(self, username: str) -> None:
        super().__init__(f"operator: no active operator named {username!r}")
        self.username = username


class AuthenticationFailed(StoreError):
    """Wrong password/PIN or unknown/inactive account (deliberately not said which)."""


class AccountLocked(AuthenticationFailed):
    """Too many failed sign-ins in a row: refused even with the right secret until a
    supervisor or technician unlocks the account."""

    def __init__(self, username: str) -> None:
        super().__init__(
            f"account {username!r} is locked after {LOCK_AFTER} failed sign-ins: "
            "a supervisor or technician must unlock it"
        )
        self.username = username


class TooSoon(AuthenticationFailed):
    """A try before the delay after the last failure has passed: refused without looking at
    the secret, not counted; ``wait``: whole seconds left."""

    def __init__(self, username: str, failures: int, wait: int) -> None:
        super().__init__(
            f"account {username!r}: {failures} failed sign-in(s) in a row; "
            f"wait {wait} s before trying again"
        )
        self.username = username
        self.wait = wait


def retry_delay(failures: int) -> timedelta:
    """How long the next try waits after ``failures`` failed sign-ins in a row."""
    if failures <= 0:
        return timedelta(0)
    seconds = min(RETRY_DELAY_FIRST * 2 ** min(failures - 1, 30), RETRY_DELAY_MAX)
    return timedelta(seconds=seconds)


def _wait_left(op: Operator, now: datetime) -> float:
    """Seconds before ``op`` may try again (0 when it may now)."""
    if not op.failed_attempts or op.failed_at is None:
        return 0.0
    delay = retry_delay(op.failed_attempts)
    # A clock set back since the failure waits no longer than the delay itself.
    left = min(op.failed_at + delay - now, delay)
    return max(left.total_seconds(), 0.0)


@dataclass(frozen=True)
class OperatorInfo:
    username: str
    role: str
    active: bool
    has_card: bool
    locked: bool = False


def _info(op: Operator) -> OperatorInfo:
    return OperatorInfo(
        op.username, op.role, op.active, op.card_uid is not None, op.locked_at is not None
    )


def normalize_card_uid(text: str) -> str:
    """Upper-case hex without separators ("04:a2 3b..." -> "04A23B..."), or OperatorError."""
    uid = re.sub(r"[\s:-]", "", text or "").upper()
    if not CARD_UID_RE.fullmatch(uid):
        raise OperatorError("card_uid", "must be 4 to 32 bytes of hex")
    return uid


def check_password(password: str) -> None:
    if not password or not password.strip():
        raise OperatorError("password", "must not be empty")
    if len(password) < MIN_PASSWORD_LEN:
        raise OperatorError("password", f"must be at least {MIN_PASSWORD_LEN} characters")
    if len(password) > MAX_PASSWORD_LEN:
        raise OperatorError("password", f"must be at most {MAX_PASSWORD_LEN} characters")


def check_pin(pin: str) -> None:
    if not PIN_RE.fullmatch(pin or ""):
        raise OperatorError("pin", "must be 4 to 8 digits")


def add_operator(
    store: Store, username: str, role: str, password: str, *, actor: str = "cli"
) -> OperatorInfo:
    if not USERNAME_RE.fullmatch(username or ""):
        raise OperatorError(
            "username", "2-64 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    if role not in ROLES:
        raise OperatorError("role", f"must be one of {', '.join(ROLES)}")
    check_password(password)
    password_hash = _hasher.hash(password)
    with store.write() as session:
        if _find(session, username) is not None:
            raise OperatorError("username", f"{username!r} already exists")
        op = Operator(
            username=username,
            role=role,
            password_hash=password_hash,
            active=True,
            created_at=utcnow(),
        )
        session.add(op)
        record_event(session, actor, "operator.added", {"username": username, "role": role})
        session.flush()
        return _info(op)


def _find(session: Session, username: str) -> Operator | None:
    return session.execute(
        select(Operator).where(Operator.username == username)
    ).scalar_one_or_none()


def get_operator(store: Store, username: str) -> OperatorInfo | None:
    with store.read() as session:
        op = _find(session, username)
        return None if op is None else _info(op)


def require_active(session: Session, username: str) -> Operator:
    op = _find(session, username)
    if op is None or not op.active:
        raise UnknownOperator(username)
    return op


def list_operators(store: Store) -> list[OperatorInfo]:
    with store.read() as session:
        return [
            _info(o)
            for o in session.execute(select(Operator).order_by(Operator.username)).scalars()
        ]


def _verify(hash_: str | None, secret: str) -> bool:
    if not hash_:
        return False
    try:
        return _hasher.verify(hash_, secret)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _attempt(
    session: Session,
    op: Operator | None,
    secret_hash: str | None,
    secret: str,
    *,
    actor: str,
    method: str,
) -> OperatorInfo | TooSoon | None:
    """One sign-in try, audited: the operator on success; None on failure, counting it
    towards the lock and starting the delay before the next try. A locked account, or one
    tried again before that delay has passed (TooSoon, returned to be raised after the
    commit), is refused without looking at the secret."""
    if op is not None and op.locked_at is not None:
        record_event(session, actor, "operator.login_refused", {"method": method, "why": "locked"})
        return None
    now = utcnow()
    left = _wait_left(op, now) if op is not None else 0.0
    if op is not None and left > 0:
        wait = math.ceil(left)
        record_event(
            session,
            actor,
            "operator.login_refused",
            {"method": method, "why": "wait", "wait": wait},
        )
        return TooSoon(op.username, op.failed_attempts, wait)
    ok = op is not None and op.active and _verify(secret_hash, secret)
    record_event(
        session, actor, "operator.login" if ok else "operator.login_failed", {"method": method}
    )
    if op is None:
        return None
    if ok:
        op.failed_attempts = 0
        op.failed_at = None
        return _info(op)
    op.failed_attempts = (op.failed_attempts or 0) + 1
    op.failed_at = utcnow()  # after the hash was checked: the delay starts with the answer
    if op.failed_attempts >= LOCK_AFTER:
        op.locked_at = utcnow()
        record_event(
            session,
            actor,
            "operator.locked",
            {"username": op.username, "failed_attempts": op.failed_attempts},
        )
    return None


def verify_password(store: Store, username: str, password: str) -> OperatorInfo:
    """The operator on a correct password; AuthenticationFailed otherwise (audited), or
    AccountLocked once the account is locked."""
    with store.write() as session:
        op = _find(session, username)
        info = _attempt(
            session,
            op,
            op.password_hash if op else None,
            password,
            actor=username,
            method="password",
        )
        locked = op is not None and op.locked_at is not None
        if (
            isinstance(info, OperatorInfo)
            and op is not None
            and _hasher.check_needs_rehash(op.password_hash)
        ):
            op.password_hash = _hasher.hash(password)
    # Raised after the commit, so the failed attempt stays in the audit trail.
    if locked:
        raise AccountLocked(username)
    if isinstance(info, TooSoon):
        raise info
    if info is None:
        raise AuthenticationFailed("wrong username or password")
    return info


def confirm_password(store: Store, username: str, password: str) -> OperatorInfo:
    """Like :func:`verify_password`, for a person who confirms an action with their password
    (``enroll --operator U``) rather than signs in: a plain success writes nothing (the
    action's own audit event names them, and an action refused after it leaves the station
    as it was); a failure is recorded and counts towards the lock as a sign-in's does."""
    with store.read() as session:
        op = _find(session, username)
        plain = (
            op is not None
            and op.active
            and op.locked_at is None
            and not op.failed_attempts
            and _verify(op.password_hash, password)
            and not _hasher.check_needs_rehash(op.password_hash)
        )
        if plain and op is not None:
            return _info(op)
    return verify_password(store, username, password)


def has_admin(store: Store, roles: tuple[str, ...] = ADMIN_ROLES) -> bool:
    """Whether the station has an active technician or supervisor (or one of ``roles``):
    from then on changing accounts and settings needs one's password."""
    with store.read() as session:
        found = session.execute(
            select(Operator.id).where(Operator.active, Operator.role.in_(roles)).limit(1)
        ).first()
    return found is not None


def authorize(
    store: Store, username: str, password: str, *, roles: tuple[str, ...] = ADMIN_ROLES
) -> OperatorInfo:
    """The person who allows a change: right password (a failure counts towards the lock)
    and one of ``roles``; OperatorError("by") otherwise."""
    try:
        info = verify_password(store, username, password)
    except (AccountLocked, TooSoon) as exc:
        raise OperatorError("by", str(exc)) from exc
    except AuthenticationFailed as exc:
        raise OperatorError("by", f"wrong username or password for {username!r}") from exc
    if info.role not in roles:
        raise OperatorError("by", f"{username!r} is a {info.role}, not a {' or '.join(roles)}")
    return info


def unlock(store: Store, username: str, *, actor: str) -> None:
    """Lift a lock (and the count of failures), audited under who did it."""
    with store.write() as session:
        op = _find(session, username)
        if op is None:
            raise UnknownOperator(username)
        was = op.locked_at is not None
        op.locked_at = None
        op.failed_attempts = 0
        op.failed_at = None
        record_event(session, actor, "operator.unlocked", {"username": username, "was_locked": was})


def set_password(store: Store, username: str, password: str, *, actor: str) -> None:
    """A new password (reset by a supervisor); it also lifts a lock."""
    check_password(password)
    password_hash = _hasher.hash(password)
    with store.write() as session:
        op = _find(session, username)
        if op is None:
            raise UnknownOperator(username)
        op.password_hash = password_hash
        op.locked_at = None
        op.failed_attempts = 0
        op.failed_at = None
        record_event(session, actor, "operator.password_reset", {"username": username})


def bind_card(store: Store, username: str, card_uid: str, pin: str, *, actor: str) -> None:
    """Link an operator's staff card (by UID) and set the PIN that goes with it."""
    uid = normalize_card_uid(card_uid)
    check_pin(pin)
    pin_hash = _hasher.hash(pin)
    with store.write() as session:
        op = require_active(session, username)
        other = session.execute(
            select(Operator).where(Operator.card_uid == uid)
        ).scalar_one_or_none()
        if other is not None and other.id != op.id:
            raise OperatorError("card_uid", "this card is already bound to another operator")
        op.card_uid = uid
        op.pin_hash = pin_hash
        record_event(session, actor, "operator.card_bound", {"username": username})


def unbind_card(store: Store, username: str, *, actor: str) -> bool:
    """Forget an operator's card and PIN (a lost card); False when there was none."""
    with store.write() as session:
        op = _find(session, username)
        if op is None:
            raise UnknownOperator(username)
        had = op.card_uid is not None
        op.card_uid = None
        op.pin_hash = None
        record_event(session, actor, "operator.card_unbound", {"username": username, "had": had})
    return had


def verify_card(store: Store, card_uid: str, pin: str) -> OperatorInfo:
    """The operator whose card this is, on the right PIN; AuthenticationFailed otherwise,
    AccountLocked once the account is locked."""
    try:
        uid = normalize_card_uid(card_uid)
    except OperatorError as exc:
        raise AuthenticationFailed("unknown card") from exc
    with store.write() as session:
        op = session.execute(select(Operator).where(Operator.card_uid == uid)).scalar_one_or_none()
        info = _attempt(
            session,
            op,
            op.pin_hash if op else None,
            pin,
            actor=op.username if op is not None else "?",
            method="card",
        )
        locked = op.username if op is not None and op.locked_at is not None else None
    if locked is not None:
        raise AccountLocked(locked)
    if isinstance(info, TooSoon):
        raise info
    if info is None:
        raise AuthenticationFailed("unknown card or wrong PIN")
    return info


def set_active(store: Store, username: str, active: bool, *, actor: str) -> None:
    with store.write() as session:
        op = _find(session, username)
        if op is None:
            raise UnknownOperator(username)
        op.active = active
        record_event(
            session,
            actor,
            "operator.activated" if active else "operator.deactivated",
            {"username": username},
        )
