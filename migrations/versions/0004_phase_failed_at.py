"""phase_runs: when and which attempt last failed, so a lost phase_retrying line can be written again

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("phase_runs", sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("phase_runs", sa.Column("failed_attempt", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("phase_runs", "failed_attempt")
    op.drop_column("phase_runs", "failed_at")
