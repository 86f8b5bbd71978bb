"""Custodial chain accounts and database-shared nonces.

Revision ID: 0003_custody
Revises: 0002_gateway
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_custody"
down_revision: str | None = "0002_gateway"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chainaccount",
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("participant_id"),
    )
    op.create_index(op.f("ix_chainaccount_address"), "chainaccount", ["address"], unique=True)
    op.create_table(
        "tx_nonce",
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("next_nonce", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("address"),
    )
    op.create_table(
        "tx_nonce_gap",
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("address", "nonce"),
    )


def downgrade() -> None:
    op.drop_table("tx_nonce_gap")
    op.drop_table("tx_nonce")
    op.drop_index(op.f("ix_chainaccount_address"), table_name="chainaccount")
    op.drop_table("chainaccount")
