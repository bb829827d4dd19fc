"""part_runs: content and code run one part per page (plus the stylesheet), each with its own claim,
lease, attempts and output; outbox rows name their part; a generation may regenerate one page of
another (its source), with the customer's wishes for that page

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "part_runs",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), primary_key=True),
        sa.Column("generation_id", sa.Uuid(), sa.ForeignKey("generations.id"), nullable=False),
        sa.Column("phase", sa.String(20), nullable=False),
        sa.Column("part", sa.String(60), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("repairs", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("output", postgresql.JSONB()),
        sa.Column("error", sa.Text()),
        sa.Column("lease_token", sa.Uuid()),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True)),
        sa.Column("usage", postgresql.JSONB()),
        sa.Column("failed_at", sa.DateTime(timezone=True)),
        sa.Column("failed_attempt", sa.Integer()),
        sa.Column("reused", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.UniqueConstraint("generation_id", "phase", "part"),
    )
    op.add_column("outbox", sa.Column("part", sa.String(60), nullable=False, server_default=""))
    op.drop_constraint("outbox_generation_id_phase_key", "outbox", type_="unique")
    op.create_unique_constraint(
        "outbox_generation_id_phase_part_key", "outbox", ["generation_id", "phase", "part"]
    )
    op.add_column("generations", sa.Column("source_generation_id", sa.Uuid(), nullable=True))
    op.add_column("generations", sa.Column("regenerated_page", sa.String(60), nullable=True))
    op.add_column("generations", sa.Column("instructions", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("generations", "instructions")
    op.drop_column("generations", "regenerated_page")
    op.drop_column("generations", "source_generation_id")
    op.execute("DELETE FROM outbox WHERE part <> ''")
    op.drop_constraint("outbox_generation_id_phase_part_key", "outbox", type_="unique")
    op.create_unique_constraint("outbox_generation_id_phase_key", "outbox", ["generation_id", "phase"])
    op.drop_column("outbox", "part")
    op.drop_table("part_runs")
