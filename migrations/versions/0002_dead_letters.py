"""dead letters archive

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("message_id", sa.String(length=100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("generation_id", sa.Uuid(), nullable=True),
        sa.Column("phase", sa.String(length=20), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("redriven_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("message_id"),
    )
    op.create_index(
        "ix_dead_letters_pending",
        "dead_letters",
        ["received_at"],
        postgresql_where=sa.text("redriven_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_dead_letters_pending", table_name="dead_letters")
    op.drop_table("dead_letters")
