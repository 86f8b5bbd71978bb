"""What the operator is shown per debtor: a suggested credit line and a rate band, by grade.

A suggestion, never a decision: the lines on chain are each financier's own (``setCreditLine``) and the
operator's cap (``setPlatformLimit``). The terms per grade (:data:`DEFAULT_TERMS`) are policy, stated
here and in ``docs/credit.md``:

- **run rate**: the debtor's endorsed payables per year on the platform,
  ``floor(payables * 365 / max(tenure_days, MIN_WINDOW_DAYS))``; a debtor younger than
  :data:`MIN_WINDOW_DAYS` is measured over that window, so a first large invoice does not read as a huge
  annual volume;
- **line**: ``floor(run_rate * line_bps / 10,000)``: the payables of ``line_bps / 10,000`` of a year
  outstanding at once (5,000 bps: half a year, the 6-month tenor Chinese supply-chain vouchers keep to in
  principle), less for weaker grades; 0 for the last grade (no line suggested);
- **rate band**: the annual discount rates, in bps, a financier would quote for the grade's
  odds: a suggestion for programme pricing (``None`` for the last grade).

Integers throughout, rounded down (in the platform's favour: never more line than the run rate supports).
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.credit.scorecard import BPS

DAYS_PER_YEAR = 365

#: The shortest window a run rate is measured over, in days.
MIN_WINDOW_DAYS = 90


@dataclass(frozen=True)
class GradeTerms:
    """A grade's suggested line (share of the annual run rate, in bps) and rate band (bps a year)."""

    grade: str
    line_bps: int
    rate_min_bps: int | None
    rate_max_bps: int | None

    def __post_init__(self) -> None:
        if not 0 <= self.line_bps <= BPS:
            raise ValueError(f"{self.grade}: line_bps must be within 0..{BPS}, not {self.line_bps}")
        band = (self.rate_min_bps, self.rate_max_bps)
        if (band[0] is None) != (band[1] is None):
            raise ValueError(f"{self.grade}: a rate band has both ends or neither")
        if band[0] is not None and band[1] is not None and not 0 <= band[0] <= band[1]:
            raise ValueError(f"{self.grade}: the rate band {band[0]}..{band[1]} is not in order")


#: The default terms of :data:`domain.credit.tables.DEFAULT_TABLE`'s grades (A best).
DEFAULT_TERMS: tuple[GradeTerms, ...] = (
    GradeTerms("A", 5_000, 250, 400),
    GradeTerms("B", 4_000, 350, 550),
    GradeTerms("C", 3_000, 500, 750),
    GradeTerms("D", 1_500, 700, 1_100),
    GradeTerms("E", 0, None, None),
)


@dataclass(frozen=True)
class Suggestion:
    """A debtor's suggested credit line and rate band (``None``: no line suggested)."""

    grade: str
    run_rate_minor: int
    credit_line_minor: int
    rate_min_bps: int | None
    rate_max_bps: int | None


def run_rate(payables_minor: int, tenure_days: int) -> int:
    """Endorsed payables per year: ``floor(payables * 365 / max(tenure_days, MIN_WINDOW_DAYS))``."""
    if payables_minor < 0 or tenure_days < 0:
        raise ValueError("payables and tenure must not be negative")
    return payables_minor * DAYS_PER_YEAR // max(tenure_days, MIN_WINDOW_DAYS)


def suggest(
    grade: str, payables_minor: int, tenure_days: int, terms: tuple[GradeTerms, ...] = DEFAULT_TERMS
) -> Suggestion:
    """The suggestion for a debtor of ``grade`` (a grade ``terms`` names) with that record."""
    found = next((t for t in terms if t.grade == grade), None)
    if found is None:
        raise ValueError(f"no terms for grade {grade!r}")
    rate = run_rate(payables_minor, tenure_days)
    return Suggestion(grade, rate, rate * found.line_bps // BPS, found.rate_min_bps, found.rate_max_bps)
