"""Settlement in more than one currency (issue 14): credit lines per token; the read model re-indexed.

The ledger keeps a debtor's credit lines, platform limit and usage per settlement token (one token per
currency), and its credit events name the token. ``rm_credit_line``, ``rm_credit_grant`` and
``rm_calendar`` (a debtor's payables per due date) gain ``token`` in their primary keys: no sum of the read
model adds amounts of two currencies. Events stored under the former ABI cannot be projected again, so the
read model is emptied (every ``rm_*`` table and the indexer's cursor) and the indexer reads the chain again
from its start block. The notification cursor is left alone (webhooks are queued once per event key).

``bundle`` gains ``tenor_above_principle``: whether the invoice was due later than the market profile's tenor
in principle when it was accepted (false for the bundles accepted before profiles, whose rule was one
maximum).

Revision ID: s0011_currencies
Revises: s0010_green
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0011_currencies"
down_revision: str | None = "s0010_green"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: every read-model table, emptied so that the indexer rebuilds it (children before parents)
READ_MODEL = (
    "rm_receipt_event",
    "rm_price",
    "rm_alert",
    "rm_loan_collateral",
    "rm_loan",
    "rm_warehouse_receipt",
    "rm_green_label",
    "rm_green_programme",
    "rm_credit_pair",
    "rm_credit_history",
    "rm_tally",
    "rm_calendar",
    "rm_involvement",
    "rm_token_balance",
    "rm_credit_grant",
    "rm_credit_line",
    "rm_dispute",
    "rm_payment",
    "rm_fill",
    "rm_offer",
    "rm_transfer",
    "rm_holding",
    "rm_receivable",
    "rm_participant",
    "rm_event",
    "rm_block",
    "rm_cursor",
)


def _amount(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=78), nullable=nullable)


def _address(name: str) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=42), nullable=False)


def _create(per_token: bool) -> None:
    op.create_table(
        "rm_credit_line",
        _address("debtor"),
        *([_address("token")] if per_token else []),
        _amount("credit_limit"),
        _amount("used"),
        _amount("granted"),
        _amount("platform_cap", nullable=True),
        sa.PrimaryKeyConstraint("debtor", *(["token"] if per_token else [])),
    )
    op.create_table(
        "rm_credit_grant",
        _address("debtor"),
        _address("grantor"),
        *([_address("token")] if per_token else []),
        _amount("credit_limit"),
        sa.PrimaryKeyConstraint("debtor", "grantor", *(["token"] if per_token else [])),
    )
    op.create_index("ix_rm_credit_grant_grantor", "rm_credit_grant", ["grantor"])
    op.create_table(
        "rm_calendar",
        _address("debtor"),
        sa.Column("due_date", sa.BigInteger(), autoincrement=False, nullable=False),
        *([_address("token")] if per_token else []),
        sa.Column("receivables", sa.BigInteger(), autoincrement=False, nullable=False),
        _amount("outstanding"),
        sa.PrimaryKeyConstraint("debtor", "due_date", *(["token"] if per_token else [])),
    )


def _drop() -> None:
    op.drop_table("rm_calendar")
    op.drop_index("ix_rm_credit_grant_grantor", table_name="rm_credit_grant")
    op.drop_table("rm_credit_grant")
    op.drop_table("rm_credit_line")


def upgrade() -> None:
    for table in READ_MODEL:
        op.execute(sa.table(table).delete())
    _drop()
    _create(per_token=True)
    with op.batch_alter_table("bundle") as batch:
        batch.add_column(
            sa.Column("tenor_above_principle", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("bundle") as batch:
        batch.alter_column("tenor_above_principle", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("bundle") as batch:
        batch.drop_column("tenor_above_principle")
    for table in READ_MODEL:
        op.execute(sa.table(table).delete())
    _drop()
    _create(per_token=False)
