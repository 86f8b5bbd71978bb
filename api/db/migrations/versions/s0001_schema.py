"""The whole schema in one step: the old history 0001_baseline .. 0006_quantity squashed.

The old history branched at 0003 (custody, read model) and merged again in 0004; its files live on,
unchanged, in ``api/db/migrations/legacy/`` so that a database migrated by them can still be upgraded:
``api.db.upgrade`` first finishes the old history on it (up to 0006_quantity, the same schema as this
revision) and then records this revision instead. A new database starts here.

Columns keep the order, and the server defaults, that the old history left behind (0005 appended
columns), so an upgraded database and a new one have the same schema.

Revision ID: s0001_schema
Revises:
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "s0001_schema"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ZERO_HASH = "0x" + "00" * 32


def _id() -> sa.Column[int]:
    """Autoincrementing 64-bit key (SQLite only autoincrements INTEGER PRIMARY KEY)."""
    return sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
    )


def _big(name: str, *, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), autoincrement=False, nullable=nullable)


def _str(name: str, length: int, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def _index(table: str, *columns: str, unique: bool = False, name: str | None = None) -> None:
    op.create_index(name or op.f(f"ix_{table}_{columns[0]}"), table, list(columns), unique=unique)


def upgrade() -> None:
    # ---------------------------------------------------------------- the gateway (old 0002)
    op.create_table(
        "idempotencyrecord",
        _str("participant_id", 36),
        _str("key", 200),
        _str("request_hash", 64),
        _str("state", 16),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_json", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("participant_id", "key"),
    )
    op.create_table(
        "participant",
        _str("id", 36),
        _str("legal_name", 200),
        _str("registration_id", 64),
        _str("role", 32),
        _str("chain_address", 42),
        _str("status", 16),
        sa.Column("certificate_pem", sa.Text(), nullable=False),
        _str("certificate_serial", 64),
        _str("identity_hash", 66),
        _str("api_key_hash", 64),
        _str("onboard_tx", 66, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("participant", "api_key_hash", unique=True)
    _index("participant", "certificate_serial", unique=True)
    _index("participant", "chain_address", unique=True)
    _index("participant", "registration_id", unique=True)
    _index("participant", "role")
    op.create_table(
        "platformsecret",
        _str("name", 64),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "bundle",
        _str("id", 36),
        _str("supplier_id", 36),
        _str("debtor_id", 36),
        _str("status", 16),
        _str("invoice_number", 128),
        _str("fingerprint", 66),
        _str("bundle_hash", 66),
        sa.Column("face_value", sa.BigInteger(), nullable=False),
        _str("currency", 3),
        sa.Column("issue_date", sa.BigInteger(), nullable=False),
        sa.Column("due_date", sa.BigInteger(), nullable=False),
        sa.Column("receivable_id", sa.BigInteger(), nullable=True),
        _str("tx_hash", 66, nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["debtor_id"], ["participant.id"]),
        sa.ForeignKeyConstraint(["supplier_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("bundle", "debtor_id")
    _index("bundle", "fingerprint", unique=True)
    _index("bundle", "receivable_id")
    _index("bundle", "status")
    _index("bundle", "supplier_id")
    op.create_table(
        "certificaterevocation",
        _str("serial", 64),
        _str("participant_id", 36),
        _str("reason", 32),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("serial"),
    )
    op.create_table(
        "partyidentifier",
        sa.Column("id", sa.Integer(), nullable=False),
        _str("participant_id", 36),
        _str("scheme", 32),
        _str("value", 128),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scheme", "value", name="uq_party_identifier"),
    )
    _index("partyidentifier", "participant_id")
    op.create_table(
        "document",
        _str("id", 36),
        _str("bundle_id", 36),
        _str("kind", 32),
        _str("name", 200),
        _str("sha256", 64),
        sa.Column("size", sa.Integer(), nullable=False),
        _str("media_type", 100),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=True),
        _str("signer_id", 36, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["bundle_id"], ["bundle.id"]),
        sa.ForeignKeyConstraint(["signer_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("document", "bundle_id")
    _index("document", "sha256")
    op.create_table(
        "tokenizationclaim",
        _str("key", 80),
        _str("bundle_id", 36),
        sa.ForeignKeyConstraint(["bundle_id"], ["bundle.id"]),
        sa.PrimaryKeyConstraint("key"),
    )
    _index("tokenizationclaim", "bundle_id")

    # ---------------------------------------------------------------- custody and nonces (old 0003_custody)
    op.create_table(
        "chainaccount",
        _str("participant_id", 36),
        _str("address", 42),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participant.id"]),
        sa.PrimaryKeyConstraint("participant_id"),
    )
    _index("chainaccount", "address", unique=True)
    op.create_table(
        "tx_nonce",
        _str("address", 42),
        sa.Column("next_nonce", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("address"),
    )
    op.create_table(
        "tx_nonce_gap",
        _str("address", 42),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("address", "nonce"),
    )

    # ---------------------------------------------------------------- read model (old 0003_read_model, 0005)
    op.create_table(
        "rm_block",
        _big("number"),
        _str("hash", 66),
        _str("parent_hash", 66, nullable=True),
        sa.PrimaryKeyConstraint("number"),
    )
    op.create_table(
        "rm_credit_line",
        _str("debtor", 42),
        _str("credit_limit", 78),
        _str("used", 78),
        sa.Column("granted", sa.String(length=78), nullable=False, server_default="0"),
        _str("platform_cap", 78, nullable=True),
        sa.PrimaryKeyConstraint("debtor"),
    )
    op.create_table(
        "rm_cursor",
        _str("name", 64),
        _big("block_number"),
        _str("block_hash", 66, nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "rm_dispute",
        _id(),
        _big("receivable_id"),
        _str("opened_by", 42),
        _str("reason_hash", 66),
        _big("opened_block"),
        _str("opened_tx", 66),
        _str("resolution", 16, nullable=True),
        _str("resolved_by", 42, nullable=True),
        _str("credit_note", 78),
        _big("resolved_block", nullable=True),
        _str("resolved_tx", 66, nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("rm_dispute", "receivable_id")
    op.create_table(
        "rm_event",
        _id(),
        _big("block_number"),
        _str("block_hash", 66),
        _str("tx_hash", 66),
        sa.Column("tx_index", sa.Integer(), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        _str("address", 42),
        _str("contract", 64),
        _str("event", 64),
        sa.Column("args", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tx_hash", "log_index", name="uq_rm_event_tx_log"),
    )
    _index("rm_event", "block_number", "log_index", name="ix_rm_event_block_log")
    _index("rm_event", "contract")
    _index("rm_event", "event")
    op.create_table(
        "rm_fill",
        _id(),
        _big("offer_id"),
        _big("receivable_id"),
        _str("maker", 42),
        _str("holder", 42),
        _str("amount", 78),
        _str("price", 78),
        sa.Column("days_to_maturity", sa.Integer(), nullable=False),
        _big("block_number"),
        _str("tx_hash", 66),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("rm_fill", "offer_id")
    _index("rm_fill", "receivable_id")
    op.create_table(
        "rm_holding",
        _big("receivable_id"),
        _str("holder", 42),
        _str("balance", 78),
        _str("stored_balance", 78),
        _str("mark", 78),
        _str("owed", 78),
        _str("redeemable", 78),
        sa.Column("rem", sa.String(length=78), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("receivable_id", "holder"),
    )
    _index("rm_holding", "holder")
    op.create_table(
        "rm_offer",
        _big("offer_id"),
        _big("receivable_id"),
        _str("maker", 42),
        _str("max_amount", 78),
        sa.Column("rate_bps", sa.Integer(), nullable=False),
        _big("expiry"),
        _str("filled", 78),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        _big("made_block"),
        _str("made_tx", 66),
        sa.PrimaryKeyConstraint("offer_id"),
    )
    _index("rm_offer", "maker")
    _index("rm_offer", "receivable_id")
    op.create_table(
        "rm_participant",
        _str("address", 42),
        sa.Column("role", sa.Integer(), nullable=False),
        _str("role_name", 32),
        _str("status", 16),
        _str("identity_hash", 66),
        _big("onboarded_block"),
        _str("onboarded_tx", 66),
        sa.PrimaryKeyConstraint("address"),
    )
    op.create_table(
        "rm_payment",
        _id(),
        _str("kind", 16),
        _big("receivable_id"),
        _str("party", 42),
        _str("amount", 78),
        _str("total", 78),
        _big("block_number"),
        _str("tx_hash", 66),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    _index("rm_payment", "party")
    _index("rm_payment", "receivable_id")
    op.create_table(
        "rm_receivable",
        _big("id"),
        _str("creditor", 42),
        _str("debtor", 42),
        _str("token", 42),
        _str("face_value", 78),
        _big("issue_date"),
        _big("due_date"),
        _str("status", 16),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        _str("repaid", 78),
        _str("diluted", 78),
        _str("redeemed", 78),
        _str("settled_repaid", 78),
        _str("bundle_hash", 66),
        _str("fingerprint", 66),
        _str("verifier", 42),
        _big("registered_block"),
        _str("registered_tx", 66),
        sa.Column("remainder_pool", sa.String(length=78), nullable=False, server_default="0"),
        sa.Column("delivery_hash", sa.String(length=66), nullable=False, server_default=ZERO_HASH),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("fingerprint"),
    )
    _index("rm_receivable", "creditor")
    _index("rm_receivable", "debtor")
    _index("rm_receivable", "status")
    op.create_table(
        "rm_token_balance",
        _str("token", 42),
        _str("holder", 42),
        _str("balance", 78),
        sa.PrimaryKeyConstraint("token", "holder"),
    )
    op.create_table(
        "rm_transfer",
        _id(),
        _big("receivable_id"),
        _str("operator", 42),
        _str("from_address", 42),
        _str("to_address", 42),
        _str("amount", 78),
        _big("block_number"),
        _str("tx_hash", 66),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("batch_index", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tx_hash", "log_index", "batch_index", name="uq_rm_transfer"),
    )
    _index("rm_transfer", "from_address")
    _index("rm_transfer", "receivable_id")
    _index("rm_transfer", "to_address")
    op.create_table(
        "rm_credit_grant",
        _str("debtor", 42),
        _str("grantor", 42),
        _str("credit_limit", 78),
        sa.PrimaryKeyConstraint("debtor", "grantor"),
    )
    _index("rm_credit_grant", "grantor")

    # ---------------------------------------------------------------- quantity consumption (old 0006)
    op.create_table(
        "quantity_lock",
        _str("key", 300),
        sa.Column("claims", sa.BigInteger(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "quantity_consumption",
        _str("line_key", 340),
        _str("bundle_id", 36),
        _str("lock_key", 300),
        _str("quantity", 64),
        sa.ForeignKeyConstraint(["bundle_id"], ["bundle.id"]),
        sa.PrimaryKeyConstraint("line_key", "bundle_id"),
    )
    _index("quantity_consumption", "bundle_id")
    _index("quantity_consumption", "lock_key")


def downgrade() -> None:
    # tables that others refer to go last; dropping a table drops its indexes
    for table in (
        "quantity_consumption",
        "quantity_lock",
        "rm_credit_grant",
        "rm_transfer",
        "rm_token_balance",
        "rm_receivable",
        "rm_payment",
        "rm_participant",
        "rm_offer",
        "rm_holding",
        "rm_fill",
        "rm_event",
        "rm_dispute",
        "rm_cursor",
        "rm_credit_line",
        "rm_block",
        "tx_nonce_gap",
        "tx_nonce",
        "chainaccount",
        "tokenizationclaim",
        "document",
        "partyidentifier",
        "certificaterevocation",
        "bundle",
        "platformsecret",
        "participant",
        "idempotencyrecord",
    ):
        op.drop_table(table)
