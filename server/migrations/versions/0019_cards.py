"""Card checks at the kelurahan (issue 19): the card link of each processed record, the cards
the office marked lost or replaced, the stations set up for card checks
(server/card_tables.py). Records processed before this revision have no link: their cards are
found once their packets are processed again (not done here: the link is in the sealed packet).

Revision ID: 0019
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "card_links",
        sa.Column("uid", sa.String(64), primary_key=True),
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("uuid", sa.String(64), primary_key=True),
        sa.Column("processed_at", sa.Float(), nullable=False),
    )
    op.create_index("ix_card_links_record", "card_links", ["station_id", "uuid"])
    op.create_table(
        "card_marks",
        sa.Column("uid", sa.String(64), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("marked_at", sa.Float(), nullable=False),
        sa.Column("marked_by", sa.String(100), nullable=False),
    )
    op.create_table(
        "card_verifiers",
        sa.Column("station_id", sa.String(64), primary_key=True),
        sa.Column("since", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("card_verifiers")
    op.drop_table("card_marks")
    op.drop_index("ix_card_links_record", "card_links")
    op.drop_table("card_links")
