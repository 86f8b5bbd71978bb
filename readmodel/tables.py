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

import json
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

#: Autoincrementing 64-bit key (SQLite only autoincrements INTEGER PRIMARY KEY).
_ID_TYPE = BigInteger().with_variant(Integer(), "sqlite")

_T = TypeVar("_T", bound=SQLModel)

AMOUNT_LEN = 78  # len(str(2**256 - 1))
_BIGINT_MAX = 2**63 - 1


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
    #: the cursor block's timestamp: the clock of a read "as of the read model" (None before issue 11)
    block_timestamp: int | None = _big(nullable=True)


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


def _arg_id(args: dict[str, Any], key: str) -> int | None:
    """``args[key]`` as an id (a decimal string that fits 64 bits), else None."""
    value = args.get(key)
    if isinstance(value, str) and value.isdigit() and int(value) <= _BIGINT_MAX:
        return int(value)
    return None


def event_subject(args: dict[str, Any]) -> tuple[int | None, int | None]:
    """(receivable id, offer id) an event's arguments name (``id`` or ``receivableId``; ``offerId``).

    A cancellation names only its offer; the indexer fills in the offer's receivable."""
    rid = _arg_id(args, "id")
    return (rid if rid is not None else _arg_id(args, "receivableId")), _arg_id(args, "offerId")


def _args_of(context: Any) -> dict[str, Any]:
    raw = context.get_current_parameters().get("args")
    try:
        parsed = json.loads(raw) if isinstance(raw, str) else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _default_receivable(context: Any) -> int | None:
    """An ``rm_event`` row inserted without ``receivable_id`` gets the one its ``args`` name."""
    return event_subject(_args_of(context))[0]


def _default_offer(context: Any) -> int | None:
    return event_subject(_args_of(context))[1]


class RmEvent(SQLModel, table=True):
    """A decoded log of one of the platform's contracts, exactly once (UNIQUE tx hash, log index).

    ``receivable_id``/``offer_id``: what the event is about (``event_subject``; a cancellation's
    receivable is its offer's), so that a receivable's history is an index look-up (provenance)."""

    __tablename__ = "rm_event"
    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index", name="uq_rm_event_tx_log"),
        Index("ix_rm_event_block_log", "block_number", "log_index"),
        Index("ix_rm_event_receivable", "receivable_id", "block_number", "log_index"),
        Index("ix_rm_event_offer", "offer_id"),
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
    #: the block's timestamp (the log's ``blockTimestamp``, else the block's header): when it happened,
    #: by the chain's clock (a repayment's delay, a participant's tenure)
    block_timestamp: int = _big()
    receivable_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, default=_default_receivable)
    )
    offer_id: int | None = Field(
        default=None, sa_column=Column(BigInteger, nullable=True, default=_default_offer)
    )


class RmParticipant(SQLModel, table=True):
    __tablename__ = "rm_participant"

    address: str = Field(primary_key=True, max_length=42)
    role: int
    role_name: str = Field(max_length=32)
    status: str = Field(max_length=16)  # ACTIVE | SUSPENDED
    identity_hash: str = Field(max_length=66)
    onboarded_block: int = _big()
    onboarded_tx: str = Field(max_length=66)
    onboarded_time: int = _big()  # the onboarding block's timestamp (tenure)


class RmReceivable(SQLModel, table=True):
    __tablename__ = "rm_receivable"
    __table_args__ = (
        # pages ordered by due date, then id: the id in the index too, or every page sorts all the
        # receivables of its first due dates (the id is no rowid alias)
        Index("ix_rm_receivable_debtor_due", "debtor", "due_date", "id"),  # payables (all)
        Index(
            "ix_rm_receivable_debtor_status_due", "debtor", "status", "due_date", "id"
        ),  # payables (status)
        Index("ix_rm_receivable_market", "status", "disputed", "due_date", "id"),  # discountable
    )

    id: int = _big(primary_key=True)
    creditor: str = Field(max_length=42, index=True)
    debtor: str = Field(max_length=42, index=True)
    token: str = Field(max_length=42)
    face_value: str = _amount()
    issue_date: int = _big()
    due_date: int = _big()
    status: str = Field(max_length=16, index=True)  # ReceivableStatus name
    disputed: bool = False
    disputes: int = 0  # disputes ever opened (a credit history counts a receivable's first)
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
    __table_args__ = (Index("ix_rm_holding_holder_receivable", "holder", "receivable_id"),)

    receivable_id: int = _big(primary_key=True)
    holder: str = Field(primary_key=True, max_length=42)
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
    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index", "batch_index", name="uq_rm_transfer"),
        # a holder's last receipt of a receivable (holdings' "received from"), the transfer tree
        Index("ix_rm_transfer_in", "receivable_id", "to_address", "block_number", "log_index"),
    )

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
    rate_bps: int  # the rate it prices at: a green programme's preference already applied
    expiry: int = _big()
    filled: str = _amount()
    cancelled: bool = False
    #: a green programme's preference (``GreenPreferenceApplied``): the maker's rate before it, the discount
    standard_rate_bps: int | None = None
    green_discount_bps: int = 0
    made_block: int = _big()
    made_tx: str = Field(max_length=66)


class RmFill(SQLModel, table=True):
    __tablename__ = "rm_fill"

    id: int | None = _id()
    offer_id: int = _big(index=True)
    receivable_id: int = _big(index=True)
    maker: str = Field(max_length=42, index=True)
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
    """A debtor's credit in one settlement token: ``credit_limit`` is the available limit (sum of the lines,
    capped by the platform limit), ``used`` the reserved credit (pending and confirmed unpaid nominal of its
    receivables in that token). Amounts are minor units of the token's currency."""

    __tablename__ = "rm_credit_line"

    debtor: str = Field(primary_key=True, max_length=42)
    token: str = Field(primary_key=True, max_length=42)
    credit_limit: str = _amount()
    used: str = _amount()
    granted: str = _amount()
    platform_cap: str | None = Field(default=None, max_length=AMOUNT_LEN)


class RmCreditGrant(SQLModel, table=True):
    """One financier's line to one debtor in one settlement token."""

    __tablename__ = "rm_credit_grant"

    debtor: str = Field(primary_key=True, max_length=42)
    grantor: str = Field(primary_key=True, max_length=42, index=True)
    token: str = Field(primary_key=True, max_length=42)
    credit_limit: str = _amount()


class RmTokenBalance(SQLModel, table=True):
    """Settlement-token balances, from the ERC-20 ``Transfer`` events."""

    __tablename__ = "rm_token_balance"

    token: str = Field(primary_key=True, max_length=42)
    holder: str = Field(primary_key=True, max_length=42)
    balance: str = _amount()


class RmInvolvement(SQLModel, table=True):
    """Who may see a receivable besides the overseers: its creditor, its debtor and everyone who ever
    received units of it (one row each; ``GET /receivables`` pages over it)."""

    __tablename__ = "rm_involvement"

    party: str = Field(primary_key=True, max_length=42)
    receivable_id: int = _big(primary_key=True)


class RmCalendar(SQLModel, table=True):
    """A debtor's confirmed, unsettled receivables per due date and settlement token
    (``GET /payables/calendar``): how many and their outstanding sum (decimal text, minor units of the
    token's currency: sums never mix currencies). Rows that drop to 0 receivables stay."""

    __tablename__ = "rm_calendar"

    debtor: str = Field(primary_key=True, max_length=42)
    due_date: int = _big(primary_key=True)
    token: str = Field(primary_key=True, max_length=42)
    receivables: int = _big()
    outstanding: str = _amount()


class RmTally(SQLModel, table=True):
    """Counters the projector keeps, so that a list's ``total`` is one look-up at any size:
    ``holdings`` (per holder: positions with units or cash), ``receivables`` (per party: involvements;
    party ``*``: all), ``payables`` and ``payables:<STATUS>`` (per debtor), ``calendar`` (per debtor:
    due dates with receivables), ``discountable`` (party ``*``: confirmed and not disputed)."""

    __tablename__ = "rm_tally"

    kind: str = Field(primary_key=True, max_length=32)
    party: str = Field(primary_key=True, max_length=42)
    n: int = _big()


class RmWarehouseReceipt(SQLModel, table=True):
    """A warehouse receipt (``WarehouseReceipts``): what its warehouse declared, its owner, its pledge."""

    __tablename__ = "rm_warehouse_receipt"

    receipt_id: int = _big(primary_key=True)
    warehouse: str = Field(max_length=42, index=True)
    owner: str = Field(max_length=42, index=True)
    commodity: str = Field(max_length=16, index=True)
    grade: str = Field(max_length=32)
    quantity: str = _amount()
    unit: str = Field(max_length=4)
    location: str = Field(max_length=32)
    lot_ref: str = Field(max_length=66)
    evidence_hash: str = Field(max_length=66)
    fingerprint: str = Field(max_length=66, unique=True)
    loan_id: int | None = _big(nullable=True, index=True)
    frozen: bool = False
    open_alerts: int = 0
    alerts_recorded: int = 0
    surrendered: bool = False
    issued_block: int = _big()
    issued_tx: str = Field(max_length=66)


class RmLoan(SQLModel, table=True):
    """A loan against warehouse receipts: offered, then active, then ended (``LoanState`` names)."""

    __tablename__ = "rm_loan"

    loan_id: int = _big(primary_key=True)
    receipt_id: int = _big(index=True)
    lender: str = Field(max_length=42, index=True)
    borrower: str | None = Field(default=None, max_length=42, index=True)
    state: str = Field(max_length=16)
    principal: str = _amount()
    rate_bps: int
    maturity: int = _big()
    ltv_limit_bps: int
    margin_call_bps: int
    due: str = _amount()
    repaid: str = _amount()
    margin_deadline: int | None = _big(nullable=True)
    offered_block: int = _big()
    offered_tx: str = Field(max_length=66)
    started_block: int | None = _big(nullable=True)


class RmLoanCollateral(SQLModel, table=True):
    """A receipt pledged for a loan (the first and every one added); kept after the pledge ends."""

    __tablename__ = "rm_loan_collateral"

    loan_id: int = _big(primary_key=True)
    receipt_id: int = _big(primary_key=True, index=True)
    block_number: int = _big()


class RmAlert(SQLModel, table=True):
    """An alert the verifier recorded against a receipt, and its clearing by the warehouse."""

    __tablename__ = "rm_alert"

    alert_id: int = _big(primary_key=True)
    receipt_id: int = _big(index=True)
    code: str = Field(max_length=32)
    evidence_hash: str = Field(max_length=66)
    recorded_block: int = _big()
    recorded_tx: str = Field(max_length=66)
    cleared: bool = False
    explanation_hash: str | None = Field(default=None, max_length=66)
    cleared_block: int | None = _big(nullable=True)


class RmReceiptEvent(SQLModel, table=True):
    """A warehouse receipt's history: every event that touched it (issued, moved, offered against,
    pledged, repaid, margin called, alerted, frozen, released, surrendered), in chain order; a loan's
    events appear on each receipt it holds. ``detail`` is the event's arguments (JSON)."""

    __tablename__ = "rm_receipt_event"
    __table_args__ = (Index("ix_rm_receipt_event_receipt", "receipt_id", "block_number", "log_index"),)

    id: int | None = _id()
    receipt_id: int = _big()
    block_number: int = _big()
    log_index: int
    tx_hash: str = Field(max_length=66)
    event: str = Field(max_length=64)
    detail: str = Field(sa_column=Column(Text, nullable=False))


class RmPrice(SQLModel, table=True):
    """The latest commodity price the verifier recorded, per commodity and unit."""

    __tablename__ = "rm_price"

    commodity: str = Field(primary_key=True, max_length=16)
    unit: str = Field(primary_key=True, max_length=4)
    per_thousand: str = _amount()
    observed_at: int = _big()
    source_hash: str = Field(max_length=66)
    block_number: int = _big()


class RmCreditHistory(SQLModel, table=True):
    """A participant's track record, kept by the projector event by event (``readmodel.credit``): the
    counters a credit profile is computed from (``docs/credit.md``). Money in minor units (decimal text),
    delays in whole days by the chain's clock. One row per participant that ever traded, whatever its
    role: as a debtor (``debtor_*``), as a supplier (``supplier_*``), as a financier (``financier_*``)."""

    __tablename__ = "rm_credit_history"

    party: str = Field(primary_key=True, max_length=42)
    # as a debtor: receivables endorsed (payables), their settlement by repayment, disputes
    debtor_payables: str = _amount()  # face value endorsed
    debtor_on_time: int = 0  # receivables repaid in full on or before their due date
    debtor_late: int = 0  # ... after it
    debtor_days_late: int = 0  # the days past due of the late ones, summed
    debtor_worst_days: int = 0
    debtor_disputed: str = _amount()  # face value of endorsed payables ever disputed
    # as a supplier (creditor of a registered receivable)
    supplier_receivables: int = 0
    supplier_face: str = _amount()
    supplier_financed: str = _amount()  # nominal it sold in the discount market
    supplier_disputed: int = 0  # its receivables ever disputed
    supplier_diluted: str = _amount()  # credit notes against its receivables
    supplier_rejected: int = 0  # endorsements its debtors refused
    supplier_largest_buyer: str = _amount()  # the face owed by its largest debtor (rm_credit_pair's max)
    # as a financier (maker of filled offers)
    financier_fills: int = 0
    financier_bought: str = _amount()  # nominal bought
    financier_paid: str = _amount()  # price paid
    financier_weighted: str = _amount()  # sum of price x days to maturity (the portfolio yield's divisor)


class RmCreditPair(SQLModel, table=True):
    """Face value a supplier's receivables put on one debtor (its buyer concentration)."""

    __tablename__ = "rm_credit_pair"

    creditor: str = Field(primary_key=True, max_length=42)
    debtor: str = Field(primary_key=True, max_length=42)
    face: str = _amount()


class RmGreenLabel(SQLModel, table=True):
    """A receivable's green label (``GreenLabels``), the latest recorded: live while not withdrawn and
    until ``valid_until`` (inclusive). Catalogue and category are the ``bytes32`` codes as text."""

    __tablename__ = "rm_green_label"

    receivable_id: int = _big(primary_key=True)
    certifier: str = Field(max_length=42, index=True)
    catalogue: str = Field(max_length=64)
    category: str = Field(max_length=64)
    evidence_hash: str = Field(max_length=66)
    attestation_hash: str = Field(max_length=66)
    valid_until: int = _big()
    benefit_kg: str = _amount()
    labelled_block: int = _big()
    labelled_tx: str = Field(max_length=66)
    withdrawn: bool = False
    withdrawn_by: str | None = Field(default=None, max_length=42)
    withdrawn_reason: str | None = Field(default=None, max_length=66)
    withdrawn_block: int | None = _big(nullable=True)


class RmGreenProgramme(SQLModel, table=True):
    """A financier's green programme for one debtor: ``discount_bps`` below its offered rate (0: ended)."""

    __tablename__ = "rm_green_programme"

    financier: str = Field(primary_key=True, max_length=42)
    debtor: str = Field(primary_key=True, max_length=42)
    discount_bps: int
    set_block: int = _big()


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
    RmInvolvement,
    RmCalendar,
    RmTally,
    RmWarehouseReceipt,
    RmLoan,
    RmLoanCollateral,
    RmAlert,
    RmPrice,
    RmReceiptEvent,
    RmCreditHistory,
    RmCreditPair,
    RmGreenLabel,
    RmGreenProgramme,
)
