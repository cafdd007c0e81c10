"""feeds: remember the URL as written in settings apart from where the feed now lives

Revision ID: 0002_feeds
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_feeds"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A permanent redirect moves ``url``; ``configured_url`` tells a move from an edit.
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("configured_url", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("configured_url")
