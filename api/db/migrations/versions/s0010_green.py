"""Green receivables (issue 14): labels, programmes, offers' green preference; certifiers' attestations.

``green_attestation`` keeps each certifier's signed attestation as received (served with its label).
``rm_green_label`` (a receivable's latest label) and ``rm_green_programme`` (a financier's programme per
debtor) are projected from the new ``GreenLabels`` contract's events; ``rm_offer`` gains the rate its
maker offered before a programme's preference and the preference itself (``GreenPreferenceApplied``).
Offers already projected had none: ``green_discount_bps`` 0.

Revision ID: s0010_green
Revises: s0009_credit
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0010_green"
down_revision: str | None = "s0009_credit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rm_green_label",
        sa.Column("receivable_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("certifier", sa.String(length=42), nullable=False),
        sa.Column("catalogue", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("evidence_hash", sa.String(length=66), nullable=False),
        sa.Column("attestation_hash", sa.String(length=66), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("benefit_kg", sa.String(length=78), nullable=False),
        sa.Column("labelled_block", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("labelled_tx", sa.String(length=66), nullable=False),
        sa.Column("withdrawn", sa.Boolean(), nullable=False),
        sa.Column("withdrawn_by", sa.String(length=42), nullable=True),
        sa.Column("withdrawn_reason", sa.String(length=66), nullable=True),
        sa.Column("withdrawn_block", sa.BigInteger(), autoincrement=False, nullable=True),
        sa.PrimaryKeyConstraint("receivable_id"),
    )
    op.create_index("ix_rm_green_label_certifier", "rm_green_label", ["certifier"])
    op.create_table(
        "green_attestation",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("receivable_id", sa.BigInteger(), nullable=False),
        sa.Column("certifier_id", sa.String(length=36), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["certifier_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("sha256"),
    )
    op.create_index("ix_green_attestation_receivable_id", "green_attestation", ["receivable_id"])
    op.create_table(
        "rm_green_programme",
        sa.Column("financier", sa.String(length=42), nullable=False),
        sa.Column("debtor", sa.String(length=42), nullable=False),
        sa.Column("discount_bps", sa.Integer(), nullable=False),
        sa.Column("set_block", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("financier", "debtor"),
    )
    with op.batch_alter_table("rm_offer") as batch:
        batch.add_column(sa.Column("standard_rate_bps", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("green_discount_bps", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
    with op.batch_alter_table("rm_offer") as batch:  # the models have no server default
        batch.alter_column("green_discount_bps", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("rm_offer") as batch:
        batch.drop_column("green_discount_bps")
        batch.drop_column("standard_rate_bps")
    op.drop_table("rm_green_programme")
    op.drop_index("ix_green_attestation_receivable_id", table_name="green_attestation")
    op.drop_table("green_attestation")
    op.drop_index("ix_rm_green_label_certifier", table_name="rm_green_label")
    op.drop_table("rm_green_label")
