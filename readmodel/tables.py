"""The read-model tables: chain events projected into SQL (all prefixed ``rm_``).

Written only by the projector (``readmodel.projector``), which ``readmodel.indexer`` drives. Every
projection is derived from events alone (``rm_event``), so changes made without the gateway (a brownie
script, a block explorer's "write" tab) show up as well, and the projections can be rebuilt from
``rm_event`` at any time (that is how a reorganization is undone).

Amounts are ``uint256`` on chain and may exceed 64 bits: they are stored as **decimal text**
(``String(78)``; no leading zeros, no sign, exact) in every table, and in ``rm_event.args`` every
integer is a JSON string of its decimal digits. Convert with ``int(...)``. Block numbers, ids and
dates fit in 64 bits and are ``BIGINT``. Addresses are EIP-55 checksummed, hashes ``0x`` + 64 hex.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import BigInteger, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

#: Autoincrementing 64-bit key (SQLite only autoincrements INTEGER PRIMARY KEY).
_ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")

_T = TypeVar("_T", bound=SQLModel)

AMOUNT_LEN = 78  # len(str(2**256 - 1))


def _id() -> Any:
    return Field(default=None, sa_column=Column(_ID_TYPE, primary_key=True, autoincrement=True))


def _big(*, primary_key: bool = False, index: bool = False, nullable: bool = False) -> Any:
    return Field(
        default=None if nullable else ...,
        sa_column=Column(
            BigInteger, primary_key=primary_key, autoincrement=False, index=index, nullable=nullable
        ),
    )


def _amount(default: str = "0") -> Any:
    return Field(default=default, max_length=AMOUNT_LEN)


class RmCursor(SQLModel, table=True):
    """One row per indexer: the last block whose events are all in the read model."""

    __tablename__ = "rm_cursor"

    name: str = Field(primary_key=True, max_length=64)
    block_number: int = _big()
    block_hash: str | None = Field(default=None, max_length=66)


class RmBlock(SQLModel, table=True):
    """Recently processed blocks (every block with events, and each batch's last block).

    Compared with the chain before every batch to notice reorganizations; pruned to a window.
    ``parent_hash`` is known for batch ends only (the indexer reads no header for blocks that it
    only sees through their logs).
    """

    __tablename__ = "rm_block"

    number: int = _big(primary_key=True)
    hash: str = Field(max_length=66)
    parent_hash: str | None = Field(default=None, max_length=66)


class RmEvent(SQLModel, table=True):
    """A decoded log of one of the platform's contracts, exactly once (UNIQUE tx hash, log index)."""

    __tablename__ = "rm_event"
    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index", name="uq_rm_event_tx_log"),
        Index("ix_rm_event_block_log", "block_number", "log_index"),
    )

    id: int | None = _id()
    block_number: int = _big()
    block_hash: str = Field(max_length=66)
    tx_hash: str = Field(max_length=66)
    tx_index: int
    log_index: int
    address: str = Field(max_length=42)
    contract: str = Field(max_length=64, index=True)
    event: str = Field(max_length=64, index=True)
    args: str = Field(sa_column=Column(Text, nullable=False))


class RmParticipant(SQLModel, table=True):
    __tablename__ = "rm_participant"

    address: str = Field(primary_key=True, max_length=42)
    role: int
    role_name: str = Field(max_length=32)
    status: str = Field(max_length=16)  # ACTIVE | SUSPENDED
    identity_hash: str = Field(max_length=66)
    onboarded_block: int = _big()
    onboarded_tx: str = Field(max_length=66)


class RmReceivable(SQLModel, table=True):
    __tablename__ = "rm_receivable"

    id: int = _big(primary_key=True)
    creditor: str = Field(max_length=42, index=True)
    debtor: str = Field(max_length=42, index=True)
    token: str = Field(max_length=42)
    face_value: str = _amount()
    issue_date: int = _big()
    due_date: int = _big()
    status: str = Field(max_length=16, index=True)  # ReceivableStatus name
    disputed: bool = False
    repaid: str = _amount()
    diluted: str = _amount()
    redeemed: str = _amount()
    settled_repaid: str = _amount()
    remainder_pool: str = _amount()
    bundle_hash: str = Field(max_length=66)
    delivery_hash: str = Field(default="0x" + "00" * 32, max_length=66)
    fingerprint: str = Field(max_length=66, unique=True)
    verifier: str = Field(max_length=42)
    registered_block: int = _big()
    registered_tx: str = Field(max_length=66)


class RmHolding(SQLModel, table=True):
    """A holder's position in one receivable.

    ``balance`` is what ``balanceOf`` returns (units; 0 once the receivable is settled);
    ``stored_balance``, ``mark``, ``owed`` and ``rem`` mirror the contract's ``HolderState``;
    ``redeemable`` is what ``owed(id, holder)`` returns (cash it could redeem now).
    """

    __tablename__ = "rm_holding"

    receivable_id: int = _big(primary_key=True)
    holder: str = Field(primary_key=True, max_length=42, index=True)
    balance: str = _amount()
    stored_balance: str = _amount()
    mark: str = _amount()
    owed: str = _amount()
    rem: str = _amount()
    redeemable: str = _amount()


class RmTransfer(SQLModel, table=True):
    """One ERC-1155 movement (``TransferSingle``, or one item of ``TransferBatch``).

    Mints have ``from`` zero, burns (rejection, settlement against repayment or credit note) ``to``
    zero; splits form a tree over these rows.
    """

    __tablename__ = "rm_transfer"
    __table_args__ = (UniqueConstraint("tx_hash", "log_index", "batch_index", name="uq_rm_transfer"),)

    id: int | None = _id()
    receivable_id: int = _big(index=True)
    operator: str = Field(max_length=42)
    from_address: str = Field(max_length=42, index=True)
    to_address: str = Field(max_length=42, index=True)
    amount: str = _amount()
    block_number: int = _big()
    tx_hash: str = Field(max_length=66)
    log_index: int
    batch_index: int = 0


class RmOffer(SQLModel, table=True):
    __tablename__ = "rm_offer"

    offer_id: int = _big(primary_key=True)
    receivable_id: int = _big(index=True)
    maker: str = Field(max_length=42, index=True)
    max_amount: str = _amount()
    rate_bps: int
    expiry: int = _big()
    filled: str = _amount()
    cancelled: bool = False
    made_block: int = _big()
    made_tx: str = Field(max_length=66)


class RmFill(SQLModel, table=True):
    __tablename__ = "rm_fill"

    id: int | None = _id()
    offer_id: int = _big(index=True)
    receivable_id: int = _big(index=True)
    maker: str = Field(max_length=42)
    holder: str = Field(max_length=42)
    amount: str = _amount()
    price: str = _amount()
    days_to_maturity: int
    block_number: int = _big()
    tx_hash: str = Field(max_length=66)
    log_index: int


class RmPayment(SQLModel, table=True):
    """A repayment by the debtor (``kind="repayment"``) or a redemption by a holder (``"redemption"``)."""

    __tablename__ = "rm_payment"

    id: int | None = _id()
    kind: str = Field(max_length=16)
    receivable_id: int = _big(index=True)
    party: str = Field(max_length=42, index=True)
    amount: str = _amount()
    total: str = _amount()  # totalRepaid / totalRedeemed after this payment
    block_number: int = _big()
    tx_hash: str = Field(max_length=66)
    log_index: int


class RmDispute(SQLModel, table=True):
    __tablename__ = "rm_dispute"

    id: int | None = _id()
    receivable_id: int = _big(index=True)
    opened_by: str = Field(max_length=42)
    reason_hash: str = Field(max_length=66)
    opened_block: int = _big()
    opened_tx: str = Field(max_length=66)
    resolution: str | None = Field(default=None, max_length=16)  # None (open) | lifted | credit_note
    resolved_by: str | None = Field(default=None, max_length=42)
    credit_note: str = _amount()
    resolved_block: int | None = _big(nullable=True)
    resolved_tx: str | None = Field(default=None, max_length=66)


class RmCreditLine(SQLModel, table=True):
    """A debtor's credit: ``credit_limit`` is the available limit (sum of the lines, capped by the
    platform limit), ``used`` the reserved credit (pending and confirmed unpaid nominal)."""

    __tablename__ = "rm_credit_line"

    debtor: str = Field(primary_key=True, max_length=42)
    credit_limit: str = _amount()
    used: str = _amount()
    granted: str = _amount()
    platform_cap: str | None = Field(default=None, max_length=AMOUNT_LEN)


class RmCreditGrant(SQLModel, table=True):
    """One financier's line to one debtor."""

    __tablename__ = "rm_credit_grant"

    debtor: str = Field(primary_key=True, max_length=42)
    grantor: str = Field(primary_key=True, max_length=42, index=True)
    credit_limit: str = _amount()


class RmTokenBalance(SQLModel, table=True):
    """Settlement-token balances, from the ERC-20 ``Transfer`` events."""

    __tablename__ = "rm_token_balance"

    token: str = Field(primary_key=True, max_length=42)
    holder: str = Field(primary_key=True, max_length=42)
    balance: str = _amount()


#: The projection tables, emptied and rebuilt from ``rm_event`` after a reorganization.
PROJECTIONS: tuple[type[SQLModel], ...] = (
    RmParticipant,
    RmReceivable,
    RmHolding,
    RmTransfer,
    RmOffer,
    RmFill,
    RmPayment,
    RmDispute,
    RmCreditLine,
    RmCreditGrant,
    RmTokenBalance,
)
