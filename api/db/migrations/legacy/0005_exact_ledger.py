"""Read model for the exact ledger (issue 8): holder remainders, the remainder pool, the anchored
delivery hash, and credit lines per (grantor, debtor) with the operator's platform limit.

The projections are derived from ``rm_event`` and are rebuilt by the indexer; the new columns get
neutral defaults here.

Revision ID: 0005_exact_ledger
Revises: 0004_merge
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_exact_ledger"
down_revision: str | None = "0004_merge"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ZERO_HASH = "0x" + "00" * 32


def upgrade() -> None:
    with op.batch_alter_table("rm_receivable", schema=None) as batch_op:
        batch_op.drop_column("settled_diluted")
        batch_op.add_column(
            sa.Column("remainder_pool", sa.String(length=78), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("delivery_hash", sa.String(length=66), nullable=False, server_default=ZERO_HASH)
        )
    with op.batch_alter_table("rm_holding", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rem", sa.String(length=78), nullable=False, server_default="0"))
    with op.batch_alter_table("rm_credit_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("granted", sa.String(length=78), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("platform_cap", sa.String(length=78), nullable=True))
    op.create_table(
        "rm_credit_grant",
        sa.Column("debtor", sa.String(length=42), nullable=False),
        sa.Column("grantor", sa.String(length=42), nullable=False),
        sa.Column("credit_limit", sa.String(length=78), nullable=False),
        sa.PrimaryKeyConstraint("debtor", "grantor"),
    )
    with op.batch_alter_table("rm_credit_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rm_credit_grant_grantor"), ["grantor"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rm_credit_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rm_credit_grant_grantor"))
    op.drop_table("rm_credit_grant")
    with op.batch_alter_table("rm_credit_line", schema=None) as batch_op:
        batch_op.drop_column("platform_cap")
        batch_op.drop_column("granted")
    with op.batch_alter_table("rm_holding", schema=None) as batch_op:
        batch_op.drop_column("rem")
    with op.batch_alter_table("rm_receivable", schema=None) as batch_op:
        batch_op.drop_column("delivery_hash")
        batch_op.drop_column("remainder_pool")
        batch_op.add_column(
            sa.Column("settled_diluted", sa.String(length=78), nullable=False, server_default="0")
        )
