"""Pages of receivables by due date with the id in their indexes (issue 11).

``/payables`` and ``/discountable`` order by due date, then id. The indexes held the due date only, and
``rm_receivable.id`` is no rowid alias, so SQLite sorted every receivable of the first due dates for
each page (a temporary B-tree): at 100,000 receivables over 60 due dates, 1,700 rows per page of 50.

Revision ID: s0005_due_order_indexes
Revises: s0004_tx_requests
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "s0005_due_order_indexes"
down_revision: str | None = "s0004_tx_requests"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = {
    "ix_rm_receivable_debtor_due": (["debtor", "due_date"], ["debtor", "due_date", "id"]),
    "ix_rm_receivable_debtor_status_due": (
        ["debtor", "status", "due_date"],
        ["debtor", "status", "due_date", "id"],
    ),
    "ix_rm_receivable_market": (["status", "disputed", "due_date"], ["status", "disputed", "due_date", "id"]),
}


def upgrade() -> None:
    for name, (_, columns) in INDEXES.items():
        op.drop_index(name, table_name="rm_receivable")
        op.create_index(name, "rm_receivable", columns)


def downgrade() -> None:
    for name, (columns, _) in INDEXES.items():
        op.drop_index(name, table_name="rm_receivable")
        op.create_index(name, "rm_receivable", columns)
