"""The transaction journal, chain incidents, and leases on idempotency records (issue 10).

Revision ID: s0002_tx_journal
Revises: s0001_schema
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0002_tx_journal"
down_revision: str | None = "s0001_schema"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _str(name: str, length: int, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("idempotencyrecord") as batch:
        batch.add_column(_str("owner", 128, nullable=True))
        batch.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("recovery_json", sa.Text(), nullable=True))
    op.create_table(
        "txjournal",
        _str("tx_hash", 66),
        _str("sender", 42),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        _str("participant_id", 36, nullable=True),
        _str("idem_key", 200, nullable=True),
        _str("state", 16),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        _str("block_hash", 66, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tx_hash"),
    )
    op.create_index(op.f("ix_txjournal_sender"), "txjournal", ["sender"])
    op.create_index(op.f("ix_txjournal_state"), "txjournal", ["state"])
    op.create_index(op.f("ix_txjournal_block_number"), "txjournal", ["block_number"])
    op.create_index("ix_txjournal_request", "txjournal", ["participant_id", "idem_key"])
    op.create_table(
        "chainincident",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("detected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fork_block", sa.BigInteger(), nullable=False),
        sa.Column("chain_head", sa.BigInteger(), nullable=False),
        sa.Column("vanished_transactions", sa.Integer(), nullable=False),
        sa.Column("released_bundles", sa.Integer(), nullable=False),
        sa.Column("resynced_accounts", sa.Integer(), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("chainincident")
    op.drop_index("ix_txjournal_request", table_name="txjournal")
    op.drop_table("txjournal")
    with op.batch_alter_table("idempotencyrecord") as batch:
        batch.drop_column("recovery_json")
        batch.drop_column("lease_until")
        batch.drop_column("owner")
