"""The requests one transaction serves when it serves several (issue 11).

Concurrent tokenizations are registered in one ``registerInvoices`` (``api.services.registrar``).

Revision ID: s0004_tx_requests
Revises: s0003_read_indexes
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0004_tx_requests"
down_revision: str | None = "s0003_read_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "txrequest",
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("participant_id", sa.String(length=36), nullable=False),
        sa.Column("idem_key", sa.String(length=200), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("tx_hash", "participant_id", "idem_key"),
    )
    op.create_index("ix_txrequest_request", "txrequest", ["participant_id", "idem_key"])
    op.create_index("ix_txrequest_participant_block", "txrequest", ["participant_id", "block_number"])


def downgrade() -> None:
    op.drop_index("ix_txrequest_participant_block", table_name="txrequest")
    op.drop_index("ix_txrequest_request", table_name="txrequest")
    op.drop_table("txrequest")
