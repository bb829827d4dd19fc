"""review rounds: the AI review sends pages back to the coding route (at most 2 rounds a generation).

generations.review_rounds counts the rounds sent back; part_runs.review_findings holds the findings a
code part was sent back with (the next run of that part answers them).

Revision ID: 0010
Revises: 0009 (webhooks)
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("generations", sa.Column("review_rounds", sa.Integer(), server_default="0", nullable=False))
    op.add_column("part_runs", sa.Column("review_findings", postgresql.JSONB()))


def downgrade() -> None:
    op.drop_column("part_runs", "review_findings")
    op.drop_column("generations", "review_rounds")
