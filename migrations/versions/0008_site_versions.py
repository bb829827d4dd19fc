"""Versions of an order's site: which one is live, whether a success goes live by itself, which
versions were published when and which had their files deleted.

- orders.auto_publish: a generation that succeeds becomes live (default true).
- orders.live_generation_id: the live version (Postgres is the source of truth); the serving side's
  pointer (CloudFront KeyValueStore, locally an object in the bucket) is written after commit, and
  orders.pointer_generation_id records what it was last confirmed to hold. They differ until the
  pointer is written; the sweeper writes it for every order where they differ.
- generations.published_at: when the version last became live; files_deleted_at: when keep-the-last-N
  deleted its files (the list says so, and it can no longer be published).

Existing orders get their newest succeeded generation as the live version (what auto_publish would
have done); their pointers are written by the first sweeps.

Revision ID: 0008
Revises: 0006 (0007 is another branch's: point this at 0007 when both are merged)
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "orders", sa.Column("auto_publish", sa.Boolean(), server_default=sa.text("true"), nullable=False)
    )
    op.add_column(
        "orders", sa.Column("live_generation_id", sa.Uuid(), sa.ForeignKey("generations.id"), nullable=True)
    )
    op.add_column("orders", sa.Column("pointer_generation_id", sa.Uuid(), nullable=True))
    op.add_column("generations", sa.Column("published_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("generations", sa.Column("files_deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_orders_pointer_behind",
        "orders",
        ["seq"],
        postgresql_where=sa.text("live_generation_id IS DISTINCT FROM pointer_generation_id"),
    )
    op.execute("""
        UPDATE orders o SET live_generation_id = g.id
        FROM (SELECT DISTINCT ON (order_id) order_id, id FROM generations
              WHERE status = 'succeeded' ORDER BY order_id, seq DESC) g
        WHERE g.order_id = o.id
    """)
    op.execute("""
        UPDATE generations g SET published_at = g.finished_at
        FROM orders o WHERE o.live_generation_id = g.id
    """)


def downgrade() -> None:
    op.drop_index("ix_orders_pointer_behind", table_name="orders")
    op.drop_column("generations", "files_deleted_at")
    op.drop_column("generations", "published_at")
    op.drop_column("orders", "pointer_generation_id")
    op.drop_column("orders", "live_generation_id")
    op.drop_column("orders", "auto_publish")
