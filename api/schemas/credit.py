"""Credit profiles, consents and the overseers' views of them (issue 14; docs/credit.md)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from api.schemas.reports import JsonNumber, PartyRefOut


class FactorOut(BaseModel):
    factor: str
    value: int | None = Field(description="The factor's value in its unit; null: the history holds no data.")
    unit: str
    bin: str = Field(description="The bin the value fell in, as the points table labels it.")
    points: int
    reason_code: str
    reason: str
    shortfall: int = Field(description="Points below the factor's best bin (0: nothing to improve here).")


class ScorecardOut(BaseModel):
    score: int = Field(description="base + the points of every factor, exactly.")
    grade: str
    base: int
    table_version: str
    factors: list[FactorOut]
    top_reasons: list[FactorOut] = Field(
        description="The factors that cost the most points against their best bin, most first (at most 3)."
    )


#: the track record's amounts are minor units added across the party's settlement currencies: what they
#: weigh in the scorecard's ratios, not an amount of one currency (docs/currencies.md)
_ACROSS = " Minor units summed across currencies (a track-record weight, not one currency's amount)."


class DebtorRecordOut(BaseModel):
    payables_minor: int = Field(description="Face value of every receivable it endorsed." + _ACROSS)
    repayments_on_time: int
    repayments_late: int
    days_past_due_total: int
    days_past_due_worst: int
    overdue_minor: int = Field(
        description="Outstanding of its payables past due date and grace period." + _ACROSS
    )
    disputed_minor: int = Field(description="Face value of its endorsed payables ever disputed." + _ACROSS)
    credit_limit_minor: int = Field(description="The limit of its most fully used line (one currency's).")
    credit_used_minor: int = Field(description="The usage of that line.")


class SupplierRecordOut(BaseModel):
    receivables: int
    receivables_minor: int
    financed_minor: int = Field(description="Nominal of its own receivables it sold to financiers.")
    disputed: int = Field(description="Its receivables ever disputed.")
    diluted_minor: int = Field(description="Credit notes against its receivables.")
    rejected_endorsements: int
    largest_buyer_minor: int = Field(description="Face value owed by its largest debtor.")


class FinancierRecordOut(BaseModel):
    purchases: int
    bought_minor: int = Field(description="Nominal bought in the discount market.")
    paid_minor: int
    yield_bps: JsonNumber = Field(description="Simple annual yield of every purchase, ACT/365, to 0.01 bp.")
    overdue_exposure_minor: int = Field(description="What its units claim of overdue receivables now.")


class CreditProfileOut(BaseModel):
    participant: PartyRefOut
    role: str
    as_of_block: int = Field(description="The read model's block: the profile is the state after it.")
    as_of: datetime = Field(description="That block's time (the chain's clock).")
    tenure_days: int
    debtor: DebtorRecordOut | None = None
    supplier: SupplierRecordOut | None = None
    financier: FinancierRecordOut | None = None
    scorecard: ScorecardOut | None = Field(
        default=None, description="Debtors (core enterprises) and suppliers are scored; financiers are not."
    )


class DebtorSuggestionOut(BaseModel):
    participant: PartyRefOut
    score: int
    grade: str
    run_rate_minor: int = Field(description="Endorsed payables per year on the platform.")
    credit_line_minor: int = Field(description="The suggested line (0: none suggested).")
    rate_min_bps: int | None
    rate_max_bps: int | None
    credit_limit_minor: int = Field(description="The line it has on chain now.")
    as_of_block: int


class GradeCountOut(BaseModel):
    grade: str
    participants: int


class ScoreBandOut(BaseModel):
    lower: int = Field(description="Scores from this (inclusive) ...")
    upper: int = Field(description="... to this (exclusive).")
    participants: int


class DistributionOut(BaseModel):
    role: str
    participants: int
    grades: list[GradeCountOut]
    scores: list[ScoreBandOut]
    as_of_block: int
    as_of: datetime


class ConsentOut(BaseModel):
    subject: PartyRefOut
    financier: PartyRefOut
    granted_at: datetime
    revoked_at: datetime | None
