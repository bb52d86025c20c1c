"""The office web page's tables: accounts, sessions, sign-in failures and the audit of every
office action. Created by revision 0006 (server/migrations/versions)."""

from __future__ import annotations

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from server.db import metadata

# People who use the office page. Only the argon2 hash of a password is kept.
accounts = Table(
    "office_accounts",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("role", String(16), nullable=False),  # viewer | admin
    Column("password_hash", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("disabled_at", Float, nullable=True),
)

# A signed-in browser: the cookie holds a random token, the table only its SHA-256, so a
# copy of the database signs nobody in. ``csrf`` is the form token of this session.
sessions = Table(
    "office_sessions",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("username", String(64), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("seen_at", Float, nullable=False),
)

# Failed sign-ins per name typed (known or not, so a guesser learns nothing from the delay):
# each failure slows the next answer, MAX_FAILURES lock the name for a while. In the
# database, so every server process sees the same count.
signin_failures = Table(
    "office_signin_failures",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_at", Float, nullable=False),
    Column("locked_until", Float, nullable=True),
)

# Who did what, when: every office action (page or CLI), append-only.
audit = Table(
    "office_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("target", String(200), nullable=True),  # a station id, a username
    Column("detail", Text, nullable=True),
    Index("ix_office_audit_target", "target"),
)
