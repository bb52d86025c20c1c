"""Office accounts, sign-in, sessions and the audit of office actions.

One module for the CLI (``ektp-server admin ...``) and the web page alike: passwords are
argon2 hashes, a session is a random token whose SHA-256 is stored, failed sign-ins slow the
next attempt and lock the name after ``MAX_FAILURES``, and every action that changes
something is written to ``office_audit`` with who, what and when.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, delete, select
from sqlalchemy.engine import Connection

from server import db
from server.web.tables import accounts, audit, sessions, signin_failures

ROLES = ("viewer", "admin")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
SESSION_TTL_S = 12 * 3600  # a working day; then sign in again
SESSION_IDLE_S = 2 * 3600  # a browser left alone that long is signed out
MAX_FAILURES = 5  # failed sign-ins in a row that lock the name
LOCK_S = 15 * 60
FAILURE_DELAY_S = 0.25  # per failure so far: the n-th failure answers after n * this
FAILURE_MEMORY_S = 3600  # a failure this old no longer counts

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the name is unknown, so both cases cost one argon2 verification
    (made at the first sign-in, not at import: every `ektp-server` command imports this)."""
    return _hasher.hash("not a password anybody has")


class AccountError(ValueError):
    """Bad input for an account (the message names the field)."""


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    created_at: float
    disabled_at: float | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def as_json(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "role": self.role,
            "created_at": db_iso(self.created_at),
            "disabled": self.disabled_at is not None,
            "disabled_at": db_iso(self.disabled_at),
        }


@dataclass(frozen=True)
class Session:
    token: str  # only in the cookie; the table holds its hash
    account: Account
    csrf: str


@dataclass(frozen=True)
class SignIn:
    """The outcome of one sign-in attempt: a session, or why not and how long it took."""

    session: Session | None
    locked_until: float | None = None
    delay_s: float = 0.0


def db_iso(ts: float | None) -> str | None:
    from server.core import iso

    return iso(ts)


def check_username(value: str) -> str:
    name = (value or "").strip().lower()
    if not USERNAME_RE.match(name):
        raise AccountError(
            "--username: 2-64 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    return name


def check_role(value: str) -> str:
    if value not in ROLES:
        raise AccountError(f"--role: one of {', '.join(ROLES)}, got {value!r}")
    return value


def check_password(value: str) -> str:
    if len(value) < MIN_PASSWORD:
        raise AccountError(f"password: at least {MIN_PASSWORD} characters")
    if len(value) > 1024:
        raise AccountError("password: at most 1024 characters")
    return value


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _account(row: Any) -> Account:
    return Account(row["username"], row["role"], row["created_at"], row["disabled_at"])


def record(conn: Connection, actor: str, action: str, target: str | None, detail: str = "") -> None:
    """One audit event, in the caller's transaction (the action and its record together)."""
    conn.execute(
        audit.insert().values(
            at=time.time(),
            actor=actor[:64],
            action=action[:32],
            target=(target or None) and target[:200],
            detail=detail or None,
        )
    )


def audit_events(
    engine: Engine, target: str | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    a = audit.c
    stmt = select(audit).order_by(a.id.desc()).limit(limit)
    if target is not None:
        stmt = stmt.where(a.target == target)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


class Accounts:
    """The accounts of one server database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # --- administration (the CLI) ---------------------------------------------------------

    def add(self, username: str, role: str, password: str, by: str) -> Account:
        name = check_username(username)
        check_role(role)
        check_password(password)
        now = time.time()
        with self.engine.begin() as conn:
            if not db.insert_ignore(
                conn,
                accounts,
                {
                    "username": name,
                    "role": role,
                    "password_hash": _hasher.hash(password),
                    "created_at": now,
                    "disabled_at": None,
                },
            ):
                raise AccountError(f"--username: {name!r} exists already")
            record(conn, by, "account_add", name, f"role {role}")
        return Account(name, role, now, None)

    def list(self) -> list[Account]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(accounts).order_by(accounts.c.username)).mappings()
            return [_account(r) for r in rows]

    def get(self, username: str) -> Account | None:
        with self.engine.connect() as conn:
            row = (
                conn.execute(select(accounts).where(accounts.c.username == username))
                .mappings()
                .first()
            )
        return _account(row) if row is not None else None

    def disable(self, username: str, by: str) -> Account:
        """Disable an account and end its sessions at once."""
        name = (username or "").strip().lower()
        now = time.time()
        with self.engine.begin() as conn:
            row = (
                conn.execute(select(accounts).where(accounts.c.username == name)).mappings().first()
            )
            if row is None:
                raise AccountError(f"USERNAME: no office account {username!r}")
            if row["disabled_at"] is None:
                conn.execute(
                    accounts.update().where(accounts.c.username == name).values(disabled_at=now)
                )
            conn.execute(delete(sessions).where(sessions.c.username == name))
            record(conn, by, "account_disable", name)
        found = self.get(name)
        assert found is not None
        return found

    # --- signing in -------------------------------------------------------------------------

    def locked_until(self, username: str, now: float | None = None) -> float | None:
        now = time.time() if now is None else now
        with self.engine.connect() as conn:
            row = conn.execute(
                select(signin_failures.c.locked_until).where(
                    signin_failures.c.username == username.strip().lower()[:64]
                )
            ).first()
        if row is None or row[0] is None or row[0] <= now:
            return None
        return float(row[0])

    def sign_in(self, username: str, password: str) -> SignIn:
        """Check a password. A failure counts against the name typed (known or not); the
        caller waits ``delay_s`` before answering. A locked name is refused unchecked."""
        name = (username or "").strip().lower()[:64]
        now = time.time()
        locked = self.locked_until(name, now)
        if locked is not None:
            return SignIn(None, locked_until=locked)
        account = self.get(name) if USERNAME_RE.match(name) else None
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    select(accounts.c.password_hash).where(accounts.c.username == name)
                ).first()
                if account
                else None
            )
        ok = _verify(row[0] if row else _dummy_hash(), password[:1024])
        if ok and account is not None and account.disabled_at is None:
            with self.engine.begin() as conn:
                conn.execute(delete(signin_failures).where(signin_failures.c.username == name))
                session = self._new_session(conn, account, now)
                record(conn, name, "sign_in", name)
            return SignIn(session)
        return self._failed(name, now)

    def _failed(self, name: str, now: float) -> SignIn:
        f = signin_failures.c
        with self.engine.begin() as conn:
            row = conn.execute(select(f.failures, f.last_at).where(f.username == name)).first()
            failures = 1
            if row is not None and now - row[1] < FAILURE_MEMORY_S:
                failures = int(row[0]) + 1
            locked = now + LOCK_S if failures >= MAX_FAILURES else None
            values = {"failures": failures, "last_at": now, "locked_until": locked}
            if row is None:
                if not db.insert_ignore(conn, signin_failures, {"username": name, **values}):
                    conn.execute(
                        signin_failures.update().where(f.username == name).values(**values)
                    )
            else:
                conn.execute(signin_failures.update().where(f.username == name).values(**values))
            if locked is not None:
                record(conn, "-", "sign_in_locked", name, f"{failures} failed sign-ins")
        return SignIn(None, locked_until=locked, delay_s=FAILURE_DELAY_S * failures)

    def _new_session(self, conn: Connection, account: Account, now: float) -> Session:
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(24)
        conn.execute(delete(sessions).where(sessions.c.expires_at < now))
        conn.execute(
            sessions.insert().values(
                token_sha256=_token_hash(token),
                username=account.username,
                csrf=csrf,
                created_at=now,
                expires_at=now + SESSION_TTL_S,
                seen_at=now,
            )
        )
        return Session(token, account, csrf)

    def session(self, token: str | None) -> Session | None:
        """The live session of a cookie's token (its account enabled), else None."""
        if not token or len(token) > 128:
            return None
        now = time.time()
        s, a = sessions.c, accounts.c
        with self.engine.begin() as conn:
            row = (
                conn.execute(
                    select(s.csrf, s.expires_at, s.seen_at, accounts)
                    .join(accounts, a.username == s.username)
                    .where(s.token_sha256 == _token_hash(token))
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            if (
                row["expires_at"] < now
                or now - row["seen_at"] > SESSION_IDLE_S
                or row["disabled_at"] is not None
            ):
                conn.execute(delete(sessions).where(s.token_sha256 == _token_hash(token)))
                return None
            if now - row["seen_at"] > 60:  # one write a minute, not one per page
                conn.execute(
                    sessions.update()
                    .where(s.token_sha256 == _token_hash(token))
                    .values(seen_at=now)
                )
        return Session(token, _account(row), row["csrf"])

    def sign_out(self, session: Session) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(sessions).where(sessions.c.token_sha256 == _token_hash(session.token))
            )
            record(conn, session.account.username, "sign_out", session.account.username)


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
