"""Credit profiles (issue 14): events' block times, track records, consents; the read model re-indexed.

``rm_event`` gains each block's timestamp, ``rm_participant`` its onboarding time, ``rm_receivable`` its
count of disputes; ``rm_credit_history`` and ``rm_credit_pair`` hold the projected track records, and
``credit_consent`` the consents participants give financiers. The timestamps of events already stored
are not in the database, so the read model is emptied (every ``rm_*`` table and the indexer's cursor):
the indexer reads the chain again from its start block and rebuilds every projection, the new ones
included. The notification cursor is left alone (webhooks are queued once per event key).

Revision ID: s0009_credit
Revises: s0008_warehouse
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0009_credit"
down_revision: str | None = "s0008_warehouse"
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


def _add_not_null(table: str, column: sa.Column[int]) -> None:
    """A NOT NULL column on an (emptied) table: added with a server default, which is then dropped
    (the models have none)."""
    default = sa.text("0")
    with op.batch_alter_table(table) as batch:
        batch.add_column(
            sa.Column(column.name, column.type, autoincrement=False, nullable=False, server_default=default)
        )
    with op.batch_alter_table(table) as batch:
        batch.alter_column(column.name, server_default=None)


def upgrade() -> None:
    for table in READ_MODEL:
        op.execute(sa.table(table).delete())
    _add_not_null("rm_event", sa.Column("block_timestamp", sa.BigInteger()))
    _add_not_null("rm_participant", sa.Column("onboarded_time", sa.BigInteger()))
    _add_not_null("rm_receivable", sa.Column("disputes", sa.Integer()))
    op.create_table(
        "rm_credit_history",
        sa.Column("party", sa.String(length=42), nullable=False),
        sa.Column("debtor_payables", sa.String(length=78), nullable=False),
        sa.Column("debtor_on_time", sa.Integer(), nullable=False),
        sa.Column("debtor_late", sa.Integer(), nullable=False),
        sa.Column("debtor_days_late", sa.Integer(), nullable=False),
        sa.Column("debtor_worst_days", sa.Integer(), nullable=False),
        sa.Column("debtor_disputed", sa.String(length=78), nullable=False),
        sa.Column("supplier_receivables", sa.Integer(), nullable=False),
        sa.Column("supplier_face", sa.String(length=78), nullable=False),
        sa.Column("supplier_financed", sa.String(length=78), nullable=False),
        sa.Column("supplier_disputed", sa.Integer(), nullable=False),
        sa.Column("supplier_diluted", sa.String(length=78), nullable=False),
        sa.Column("supplier_rejected", sa.Integer(), nullable=False),
        sa.Column("supplier_largest_buyer", sa.String(length=78), nullable=False),
        sa.Column("financier_fills", sa.Integer(), nullable=False),
        sa.Column("financier_bought", sa.String(length=78), nullable=False),
        sa.Column("financier_paid", sa.String(length=78), nullable=False),
        sa.Column("financier_weighted", sa.String(length=78), nullable=False),
        sa.PrimaryKeyConstraint("party"),
    )
    op.create_table(
        "rm_credit_pair",
        sa.Column("creditor", sa.String(length=42), nullable=False),
        sa.Column("debtor", sa.String(length=42), nullable=False),
        sa.Column("face", sa.String(length=78), nullable=False),
        sa.PrimaryKeyConstraint("creditor", "debtor"),
    )
    op.create_table(
        "credit_consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.String(length=36), nullable=False),
        sa.Column("financier_id", sa.String(length=36), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["financier_id"], ["participant.id"]),
        sa.ForeignKeyConstraint(["subject_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_credit_consent_financier_id", "credit_consent", ["financier_id"])
    op.create_index(
        "uq_credit_consent_open",
        "credit_consent",
        ["subject_id", "financier_id"],
        unique=True,
        sqlite_where=sa.text("revoked_at IS NULL"),
        postgresql_where=sa.text("revoked_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_credit_consent_open", table_name="credit_consent")
    op.drop_index("ix_credit_consent_financier_id", table_name="credit_consent")
    op.drop_table("credit_consent")
    op.drop_table("rm_credit_pair")
    op.drop_table("rm_credit_history")
    for table in READ_MODEL:  # the older read model has no block times: it is rebuilt from the chain
        op.execute(sa.table(table).delete())
    for table, column in (
        ("rm_receivable", "disputes"),
        ("rm_participant", "onboarded_time"),
        ("rm_event", "block_timestamp"),
    ):
        with op.batch_alter_table(table) as batch:
            batch.drop_column(column)
