"""generations: when the time budget started (a resend starts it again), and when the failure's log
line was known to be written (the sweeper writes the missing ones, however old)

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "generations",
        sa.Column("budget_from", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )
    op.execute("UPDATE generations SET budget_from = created_at")
    op.add_column("generations", sa.Column("failure_logged_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE generations SET failure_logged_at = finished_at WHERE status = 'failed'")
    op.create_index(
        "ix_generations_failure_unlogged",
        "generations",
        ["finished_at"],
        postgresql_where=sa.text("status = 'failed' AND failure_logged_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_generations_failure_unlogged", table_name="generations")
    op.drop_column("generations", "failure_logged_at")
    op.drop_column("generations", "budget_from")
