"""The office web page: accounts, sessions, sign-in failures and the audit of office actions
(issue 13; server/web/tables.py).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "office_accounts",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("disabled_at", sa.Float(), nullable=True),
    )
    op.create_table(
        "office_sessions",
        sa.Column("token_sha256", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("seen_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_office_sessions_username", "office_sessions", ["username"])
    op.create_table(
        "office_signin_failures",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_at", sa.Float(), nullable=False),
        sa.Column("locked_until", sa.Float(), nullable=True),
    )
    op.create_table(
        "office_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(200), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
    )
    op.create_index("ix_office_audit_target", "office_audit", ["target"])
    if op.get_bind().dialect.name == "postgresql":
        # The page filters the back office's counters and index by a wilayah's code prefix
        # (desa LIKE '36.03.32.%'): a prefix range needs text_pattern_ops under a non-C
        # collation. (SQLite, the embedded size, scans.)
        op.execute(
            "CREATE INDEX ix_daily_counts_desa_prefix ON daily_counts (desa text_pattern_ops)"
        )
        op.execute(
            "CREATE INDEX ix_records_wilayah_prefix ON records (kode_wilayah text_pattern_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_records_wilayah_prefix")
        op.execute("DROP INDEX ix_daily_counts_desa_prefix")
    op.drop_table("office_audit")
    op.drop_table("office_signin_failures")
    op.drop_table("office_sessions")
    op.drop_table("office_accounts")
