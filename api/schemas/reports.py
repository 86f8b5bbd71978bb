from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field, PlainSerializer

#: An exact decimal answered as a JSON number (its shortest form: the digits of the decimal itself).
JsonNumber = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]


class PartyRefOut(BaseModel):
    address: str
    participant_id: str | None = None
    name: str | None = None


class ReceivableOut(BaseModel):
    id: int
    creditor: PartyRefOut
    debtor: PartyRefOut
    currency: str = Field(description="ISO 4217 code: every amount here is in its minor units.")
    face_value_minor: int
    outstanding_minor: int = Field(description="Face value minus repaid minus diluted.")
    repaid_minor: int
    diluted_minor: int
    issue_date: date
    due_date: date
    status: str
    disputed: bool
    overdue: bool = Field(description="Past the due date plus the ledger's grace period and not settled.")
    bundle_hash: str
    fingerprint: str = Field(
        default="",
        description="The invoice's fingerprint on chain (what a certifier's green attestation names, "
        "with the id: docs/green.md).",
    )
    delivery_hash: str = Field(
        description="SHA-256 of the delivery document (despatch or receipt advice) the receivable rests on, "
        "as anchored on chain at tokenization."
    )


class HoldingOut(BaseModel):
    receivable_id: int
    currency: str = Field(description="ISO 4217 code: every amount here is in its minor units.")
    balance_minor: int = Field(
        description="Units held: 1/face shares of the receivable (one minor unit of nominal each until the "
        "first repayment or credit note)."
    )
    claim_minor: int = Field(description="Outstanding nominal these units still claim (rounded down).")
    redeemable_minor: int = Field(description="Repaid cash this holder can redeem now.")
    received_from: PartyRefOut | None = Field(description="Who last transferred units to this holder.")
    creditor: PartyRefOut
    debtor: PartyRefOut
    due_date: date
    status: str
    disputed: bool
    overdue: bool


class CalendarDay(BaseModel):
    """A due date's payables in one currency (a date with payables in two currencies has two entries)."""

    due_date: date
    currency: str = Field(description="ISO 4217 code: every amount here is in its minor units.")
    receivables: int
    outstanding_minor: int


class DiscountableOut(BaseModel):
    receivable_id: int
    debtor: PartyRefOut
    currency: str = Field(description="ISO 4217 code: every amount here is in its minor units.")
    outstanding_minor: int
    due_date: date
    tenor_days: int = Field(description="ACT/365 days to maturity, a started day counting.")
    creditor: PartyRefOut | None = Field(default=None, description="Who sold it to the market: its creditor.")
    debtor_score: int | None = Field(
        default=None, description="The debtor's credit score (GET /credit/profiles/{id} explains it)."
    )
    debtor_grade: str | None = None
    creditor_score: int | None = Field(default=None, description="The creditor's (supplier's) credit score.")
    creditor_grade: str | None = None


class OfferOut(BaseModel):
    offer_id: int
    receivable_id: int
    maker: PartyRefOut
    currency: str = Field(description="ISO 4217 code of the receivable: the price is paid in its token.")
    max_amount_minor: int
    filled_minor: int
    rate_bps: int = Field(
        description="The annual rate it prices at (a green programme's preference applied)."
    )
    expiry: int
    cancelled: bool
    open: bool
    standard_rate_bps: int | None = Field(
        default=None,
        description="The rate its maker offered, when a green programme lowered it (docs/green.md).",
    )
    green_discount_bps: int = Field(default=0, description="The green programme's preference, in bps.")


class PortfolioLine(BaseModel):
    receivable_id: int
    debtor: PartyRefOut
    currency: str = Field(description="ISO 4217 code: every amount here is in its minor units.")
    bought_minor: int = Field(description="Face value bought through discounting.")
    purchase_price_minor: int
    yield_bps: JsonNumber = Field(
        description="Simple annual yield (ACT/365) of the purchases, in basis points, over their "
        "price-weighted days to maturity: computed exactly, rounded once (half to even) to 0.01 bp."
    )
    holding_minor: int
    redeemed_minor: int
    due_date: date
    overdue: bool
    overdue_exposure_minor: int


class PortfolioTotal(BaseModel):
    """A portfolio's sums in one currency (amounts of two currencies are never added)."""

    currency: str
    total_purchase_price_minor: int
    total_face_minor: int
    overdue_exposure_minor: int


class Portfolio(BaseModel):
    lines: list[PortfolioLine]
    totals: list[PortfolioTotal] = Field(description="Per currency, by ISO 4217 code.")


class ProvenanceEvent(BaseModel):
    kind: str
    block_number: int
    tx_hash: str
    log_index: int
    details: dict[str, object]


class TransferNode(BaseModel):
    holder: PartyRefOut
    amount_minor: int
    block_number: int | None
    tx_hash: str | None
    children: list[TransferNode] = []


class Provenance(BaseModel):
    receivable: ReceivableOut
    documents: list[dict[str, str]]
    events: list[ProvenanceEvent]
    transfer_tree: TransferNode
