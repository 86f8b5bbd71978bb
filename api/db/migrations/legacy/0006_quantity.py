"""Quantity consumption: how much of each order line and delivery a financed invoice consumed

Revision ID: 0006_quantity
Revises: 0005_exact_ledger
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_quantity"
down_revision: str | None = "0005_exact_ledger"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quantity_lock",
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("claims", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "quantity_consumption",
        sa.Column("line_key", sa.String(length=340), nullable=False),
        sa.Column("bundle_id", sa.String(length=36), nullable=False),
        sa.Column("lock_key", sa.String(length=300), nullable=False),
        sa.Column("quantity", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["bundle_id"], ["bundle.id"]),
        sa.PrimaryKeyConstraint("line_key", "bundle_id"),
    )
    with op.batch_alter_table("quantity_consumption", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quantity_consumption_bundle_id"), ["bundle_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_quantity_consumption_lock_key"), ["lock_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("quantity_consumption", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quantity_consumption_lock_key"))
        batch_op.drop_index(batch_op.f("ix_quantity_consumption_bundle_id"))
    op.drop_table("quantity_consumption")
    op.drop_table("quantity_lock")
