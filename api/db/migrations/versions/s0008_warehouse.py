"""Warehouse receipts (issue 13): read model, pledge requests, devices, readings and alerts.

The read model of receipts, loans and their collateral, alerts and prices; pledge requests; devices,
daily reading aggregates, the gateway's record of alerts, and the notification cursor.

Revision ID: s0008_warehouse
Revises: s0007_webhooks
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0008_warehouse"
down_revision: str | None = "s0007_webhooks"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "warehouse_alert_claim",
        sa.Column("receipt_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("alert_id", sa.BigInteger(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("receipt_id", "code"),
    )
    op.create_table(
        "rm_receipt_event",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("receipt_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("block_number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_rm_receipt_event_receipt", "rm_receipt_event", ["receipt_id", "block_number", "log_index"]
    )
    op.create_table(
        "notification_cursor",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "pledge_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_id", sa.BigInteger(), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("financier_id", sa.String(length=36), nullable=False),
        sa.Column("principal", sa.String(length=78), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("pledge_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pledge_request_financier_id"), ["financier_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pledge_request_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_pledge_request_receipt_id"), ["receipt_id"], unique=False)

    op.create_table(
        "rm_alert",
        sa.Column("alert_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("receipt_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("evidence_hash", sa.String(length=66), nullable=False),
        sa.Column("recorded_block", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("recorded_tx", sa.String(length=66), nullable=False),
        sa.Column("cleared", sa.Boolean(), nullable=False),
        sa.Column("explanation_hash", sa.String(length=66), nullable=True),
        sa.Column("cleared_block", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.PrimaryKeyConstraint("alert_id"),
    )
    with op.batch_alter_table("rm_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rm_alert_receipt_id"), ["receipt_id"], unique=False)

    op.create_table(
        "rm_loan",
        sa.Column("loan_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("receipt_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("lender", sa.String(length=42), nullable=False),
        sa.Column("borrower", sa.String(length=42), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("principal", sa.String(length=78), nullable=False),
        sa.Column("rate_bps", sa.Integer(), nullable=False),
        sa.Column("maturity", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("ltv_limit_bps", sa.Integer(), nullable=False),
        sa.Column("margin_call_bps", sa.Integer(), nullable=False),
        sa.Column("due", sa.String(length=78), nullable=False),
        sa.Column("repaid", sa.String(length=78), nullable=False),
        sa.Column("margin_deadline", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("offered_block", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("offered_tx", sa.String(length=66), nullable=False),
        sa.Column("started_block", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.PrimaryKeyConstraint("loan_id"),
    )
    with op.batch_alter_table("rm_loan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rm_loan_borrower"), ["borrower"], unique=False)
        batch_op.create_index(batch_op.f("ix_rm_loan_lender"), ["lender"], unique=False)
        batch_op.create_index(batch_op.f("ix_rm_loan_receipt_id"), ["receipt_id"], unique=False)

    op.create_table(
        "rm_loan_collateral",
        sa.Column("loan_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("receipt_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("block_number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("loan_id", "receipt_id"),
    )
    with op.batch_alter_table("rm_loan_collateral", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rm_loan_collateral_receipt_id"), ["receipt_id"], unique=False)

    op.create_table(
        "rm_price",
        sa.Column("commodity", sa.String(length=16), nullable=False),
        sa.Column("unit", sa.String(length=4), nullable=False),
        sa.Column("per_thousand", sa.String(length=78), nullable=False),
        sa.Column("observed_at", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("source_hash", sa.String(length=66), nullable=False),
        sa.Column("block_number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("commodity", "unit"),
    )
    op.create_table(
        "rm_warehouse_receipt",
        sa.Column("receipt_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("warehouse", sa.String(length=42), nullable=False),
        sa.Column("owner", sa.String(length=42), nullable=False),
        sa.Column("commodity", sa.String(length=16), nullable=False),
        sa.Column("grade", sa.String(length=32), nullable=False),
        sa.Column("quantity", sa.String(length=78), nullable=False),
        sa.Column("unit", sa.String(length=4), nullable=False),
        sa.Column("location", sa.String(length=32), nullable=False),
        sa.Column("lot_ref", sa.String(length=66), nullable=False),
        sa.Column("evidence_hash", sa.String(length=66), nullable=False),
        sa.Column("fingerprint", sa.String(length=66), nullable=False),
        sa.Column("loan_id", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.Column("frozen", sa.Boolean(), nullable=False),
        sa.Column("open_alerts", sa.Integer(), nullable=False),
        sa.Column("alerts_recorded", sa.Integer(), nullable=False),
        sa.Column("surrendered", sa.Boolean(), nullable=False),
        sa.Column("issued_block", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("issued_tx", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("receipt_id"),
        sa.UniqueConstraint("fingerprint"),
    )
    with op.batch_alter_table("rm_warehouse_receipt", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rm_warehouse_receipt_commodity"), ["commodity"], unique=False)
        batch_op.create_index(batch_op.f("ix_rm_warehouse_receipt_loan_id"), ["loan_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_rm_warehouse_receipt_owner"), ["owner"], unique=False)
        batch_op.create_index(batch_op.f("ix_rm_warehouse_receipt_warehouse"), ["warehouse"], unique=False)

    op.create_table(
        "warehouse_alert",
        sa.Column("alert_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("receipt_id", sa.BigInteger(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("evidence_hash", sa.String(length=66), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("alert_id"),
    )
    with op.batch_alter_table("warehouse_alert", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_warehouse_alert_receipt_id"), ["receipt_id"], unique=False)

    op.create_table(
        "warehouse_reading_day",
        sa.Column("receipt_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_iat", sa.BigInteger(), nullable=False),
        sa.Column("last_iat", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("measurements", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("receipt_id", "device_id", "day"),
    )
    op.create_table(
        "warehouse_device",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("warehouse_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("location", sa.String(length=64), nullable=False),
        sa.Column("receipt_ids", sa.Text(), nullable=False),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        sa.Column("thumbprint", sa.String(length=64), nullable=False),
        sa.Column("serial", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", sa.BigInteger(), nullable=True),
        sa.Column("heartbeat_s", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["participant.id"],
        ),
        sa.PrimaryKeyConstraint("device_id"),
        sa.UniqueConstraint("thumbprint"),
    )
    with op.batch_alter_table("warehouse_device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_warehouse_device_warehouse_id"), ["warehouse_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("warehouse_device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_warehouse_device_warehouse_id"))

    op.drop_table("warehouse_device")
    op.drop_table("warehouse_reading_day")
    with op.batch_alter_table("warehouse_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_warehouse_alert_receipt_id"))

    op.drop_table("warehouse_alert")
    with op.batch_alter_table("rm_warehouse_receipt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rm_warehouse_receipt_warehouse"))
        batch_op.drop_index(batch_op.f("ix_rm_warehouse_receipt_owner"))
        batch_op.drop_index(batch_op.f("ix_rm_warehouse_receipt_loan_id"))
        batch_op.drop_index(batch_op.f("ix_rm_warehouse_receipt_commodity"))

    op.drop_table("rm_warehouse_receipt")
    op.drop_table("rm_price")
    with op.batch_alter_table("rm_loan_collateral", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rm_loan_collateral_receipt_id"))

    op.drop_table("rm_loan_collateral")
    with op.batch_alter_table("rm_loan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rm_loan_receipt_id"))
        batch_op.drop_index(batch_op.f("ix_rm_loan_lender"))
        batch_op.drop_index(batch_op.f("ix_rm_loan_borrower"))

    op.drop_table("rm_loan")
    with op.batch_alter_table("rm_alert", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rm_alert_receipt_id"))

    op.drop_table("rm_alert")
    with op.batch_alter_table("pledge_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pledge_request_receipt_id"))
        batch_op.drop_index(batch_op.f("ix_pledge_request_owner_id"))
        batch_op.drop_index(batch_op.f("ix_pledge_request_financier_id"))

    op.drop_table("pledge_request")
    op.drop_table("notification_cursor")
    op.drop_index("ix_rm_receipt_event_receipt", table_name="rm_receipt_event")
    op.drop_table("rm_receipt_event")
    op.drop_table("warehouse_alert_claim")
