"""An explainable points scorecard for debtors (core enterprises) and suppliers (issue 14).

A participant's history (:class:`DebtorHistory`, :class:`SupplierHistory`: plain integers computed
elsewhere from the read model) becomes a few **factors**, each an integer in its unit (basis points,
days, minor units, a count) or ``None`` when the history holds nothing to measure it by. A
:class:`PointsTable` puts each factor's value into one of its **bins** (lower bound inclusive, upper
exclusive) and the bin gives integer **points**, a **reason code** and a sentence. The score is the
table's base plus the points of every factor, exactly; the grade is the first grade whose minimum the
score reaches. Nothing is fitted here: the default table and where its numbers come from are in
:mod:`domain.credit.tables` and ``docs/credit.md``.

**Factors and their rounding.** Every ratio is computed exactly (``Fraction``) and rounded once to a
whole unit *towards risk*: a share of something good (the on-time rate) is rounded **down**, a share of
something bad (overdue, disputed, diluted, concentration, utilisation) and an average of days late are
rounded **up**. Rounding is monotone, so it never reverses an order: more of a bad thing never gives a
smaller value.

Debtor (``N = repayments_on_time + repayments_late``):

- ``on_time_rate``: ``floor(on_time * 10,000 / N)`` bps; no data when ``N = 0``;
- ``average_days_past_due``: ``ceil(days_past_due_total / N)`` days, on-time repayments counting 0 (the
  "days beyond terms" convention); no data when ``N = 0``;
- ``worst_days_past_due``: ``days_past_due_worst`` days; no data when ``N = 0``;
- ``overdue_share``, ``disputed_share``: ``ceil(x * 10,000 / payables_minor)`` bps; no data when no
  payable is on record;
- ``utilisation``: ``ceil(credit_used * 10,000 / credit_limit)`` bps, at most :data:`UTILISATION_CAP_BPS`
  (a line lowered below its usage is over 100 %; usage under a zero limit counts as the cap); no data
  when both are zero;
- ``tenure``: ``tenure_days``.

Supplier:

- ``financed_volume``: ``financed_minor`` minor units (0 is a value: nothing financed yet);
- ``dispute_share``: ``ceil(disputed * 10,000 / receivables)`` bps, by count; no data without receivables;
- ``dilution_share``: ``ceil(diluted_minor * 10,000 / receivables_minor)`` bps, by value; likewise;
- ``rejected_endorsements``: the count;
- ``buyer_concentration``: ``ceil(largest_buyer_minor * 10,000 / receivables_minor)`` bps; likewise;
- ``tenure``: ``tenure_days``.

**Monotone tables.** Every factor has a direction (:class:`Direction`); a table is refused unless its
points never rise as the factor gets riskier. With the rounding above this makes, for any accepted
table: one more of the same repayments being late never raises a debtor's score; neither does higher
utilisation of the same (non-zero) limit, more overdue or disputed payables; one more dispute, more
dilution, one more rejected endorsement never raise a supplier's. The "no data" bin stands outside that order.

**Reasons.** Each factor's :attr:`FactorResult.shortfall` is how many points it scored below its best
bin; :func:`top_reasons` ranks the factors by it: the points-lost-against-the-maximum method that the
Regulation B commentary (12 CFR part 1002, Supplement I, to section 1002.9(b)(2)) describes for choosing
the principal reasons of an adverse decision.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType

from domain.text import check_text

BPS = 10_000

#: Utilisation above this (1,000 %), or any usage under a zero limit, counts as this many bps.
UTILISATION_CAP_BPS = 100_000


class ScoreRole(StrEnum):
    """Whose score: a participant as debtor (a core enterprise owing payables) or as supplier."""

    DEBTOR = "debtor"
    SUPPLIER = "supplier"


class Factor(StrEnum):
    """A scored factor; its definition is in the module's docstring and in :data:`FACTORS`."""

    ON_TIME_RATE = "on_time_rate"
    AVERAGE_DAYS_PAST_DUE = "average_days_past_due"
    WORST_DAYS_PAST_DUE = "worst_days_past_due"
    OVERDUE_SHARE = "overdue_share"
    DISPUTED_SHARE = "disputed_share"
    UTILISATION = "utilisation"
    FINANCED_VOLUME = "financed_volume"
    DISPUTE_SHARE = "dispute_share"
    DILUTION_SHARE = "dilution_share"
    REJECTED_ENDORSEMENTS = "rejected_endorsements"
    BUYER_CONCENTRATION = "buyer_concentration"
    TENURE = "tenure"


class Unit(StrEnum):
    """A factor's unit, as bin labels print it."""

    BPS = "bps"
    DAYS = "days"
    MINOR_UNITS = "minor units"
    COUNT = ""


class Direction(StrEnum):
    """Which way a factor's risk runs: a table's points must follow it (never rise with the risk)."""

    HIGHER_IS_SAFER = "higher_is_safer"
    HIGHER_IS_RISKIER = "higher_is_riskier"


@dataclass(frozen=True)
class FactorSpec:
    """What a factor is: its unit, its direction, and whether a history may hold no data for it."""

    factor: Factor
    unit: Unit
    direction: Direction
    may_lack_data: bool
    definition: str


_SAFER, _RISKIER = Direction.HIGHER_IS_SAFER, Direction.HIGHER_IS_RISKIER

#: Every role's factors, in the order of a table and of a scorecard.
FACTORS: Mapping[ScoreRole, tuple[FactorSpec, ...]] = MappingProxyType(
    {
        ScoreRole.DEBTOR: (
            FactorSpec(Factor.ON_TIME_RATE, Unit.BPS, _SAFER, True, "repayments on time / all, floor"),
            FactorSpec(
                Factor.AVERAGE_DAYS_PAST_DUE, Unit.DAYS, _RISKIER, True, "days past due / repayments, ceil"
            ),
            FactorSpec(
                Factor.WORST_DAYS_PAST_DUE, Unit.DAYS, _RISKIER, True, "the longest delay of a repayment"
            ),
            FactorSpec(Factor.OVERDUE_SHARE, Unit.BPS, _RISKIER, True, "overdue / payables, ceil"),
            FactorSpec(Factor.DISPUTED_SHARE, Unit.BPS, _RISKIER, True, "disputed / payables, ceil"),
            FactorSpec(Factor.UTILISATION, Unit.BPS, _RISKIER, True, "credit used / limit, ceil, capped"),
            FactorSpec(Factor.TENURE, Unit.DAYS, _SAFER, False, "days since joining the platform"),
        ),
        ScoreRole.SUPPLIER: (
            FactorSpec(Factor.FINANCED_VOLUME, Unit.MINOR_UNITS, _SAFER, False, "face value financed"),
            FactorSpec(
                Factor.DISPUTE_SHARE, Unit.BPS, _RISKIER, True, "disputed / receivables (count), ceil"
            ),
            FactorSpec(Factor.DILUTION_SHARE, Unit.BPS, _RISKIER, True, "credit notes / receivables, ceil"),
            FactorSpec(Factor.REJECTED_ENDORSEMENTS, Unit.COUNT, _RISKIER, False, "endorsements refused"),
            FactorSpec(Factor.BUYER_CONCENTRATION, Unit.BPS, _RISKIER, True, "largest buyer / all, ceil"),
            FactorSpec(Factor.TENURE, Unit.DAYS, _SAFER, False, "days since joining the platform"),
        ),
    }
)


# ---------------------------------------------------------------------------------------------
# Histories


def _non_negative(name: str, fields: Mapping[str, int]) -> None:
    for field, value in fields.items():
        if type(value) is not int:
            raise ValueError(f"{name}.{field} must be an integer, not {type(value).__name__}")
        if value < 0:
            raise ValueError(f"{name}.{field} must not be negative: {value}")


@dataclass(frozen=True)
class DebtorHistory:
    """A core enterprise's record as a debtor. Money in minor units, delays in whole days.

    ``days_past_due_total`` sums the delays of the late repayments (each at least one day),
    ``days_past_due_worst`` is the longest; ``payables_minor`` is the face owed over the whole history,
    ``overdue_minor`` and ``disputed_minor`` parts of it; ``credit_used_minor`` may exceed
    ``credit_limit_minor`` (a grantor may lower its line below the usage).
    """

    repayments_on_time: int
    repayments_late: int
    days_past_due_total: int
    days_past_due_worst: int
    overdue_minor: int
    disputed_minor: int
    payables_minor: int
    credit_limit_minor: int
    credit_used_minor: int
    tenure_days: int

    def __post_init__(self) -> None:
        _non_negative("DebtorHistory", vars(self))
        late, total, worst = self.repayments_late, self.days_past_due_total, self.days_past_due_worst
        if late == 0 and (total or worst):
            raise ValueError("DebtorHistory: days past due without any late repayment")
        if late > 0 and worst < 1:
            raise ValueError("DebtorHistory: a late repayment is at least one day past due (worst >= 1)")
        if late > 0 and not worst + (late - 1) <= total <= worst * late:
            raise ValueError(
                f"DebtorHistory: {late} late repayments, the worst {worst} days late, cannot total "
                f"{total} days (between {worst + late - 1} and {worst * late})"
            )
        if self.repayments_on_time + late > 0 and self.payables_minor == 0:
            raise ValueError("DebtorHistory: repayments without any payable")
        for field in ("overdue_minor", "disputed_minor"):
            if getattr(self, field) > self.payables_minor:
                raise ValueError(f"DebtorHistory.{field} exceeds payables_minor {self.payables_minor}")


@dataclass(frozen=True)
class SupplierHistory:
    """A supplier's record. Money in minor units (each receivable worth at least one), counts.

    ``disputed`` counts receivables ever disputed; ``diluted_minor`` the face reduced by credit notes;
    ``largest_buyer_minor`` the face owed by the supplier's largest debtor.
    """

    receivables: int
    receivables_minor: int
    financed_minor: int
    disputed: int
    diluted_minor: int
    rejected_endorsements: int
    largest_buyer_minor: int
    tenure_days: int

    def __post_init__(self) -> None:
        _non_negative("SupplierHistory", vars(self))
        count, total = self.receivables, self.receivables_minor
        if total < count or (count == 0 and total > 0):
            raise ValueError(f"SupplierHistory: {count} receivables cannot be worth {total} minor units")
        if self.disputed > count:
            raise ValueError(f"SupplierHistory: {self.disputed} disputed of {count} receivables")
        for field in ("financed_minor", "diluted_minor", "largest_buyer_minor"):
            if getattr(self, field) > total:
                raise ValueError(f"SupplierHistory.{field} exceeds receivables_minor {total}")
        if self.largest_buyer_minor * count < total:
            raise ValueError(
                f"SupplierHistory: the largest buyer holds at least 1/{count} of {total} minor units "
                f"(at most one buyer per receivable), not {self.largest_buyer_minor}"
            )


def _floor_bps(part: int, whole: int) -> int:
    return math.floor(Fraction(part * BPS, whole))


def _ceil_bps(part: int, whole: int) -> int:
    return math.ceil(Fraction(part * BPS, whole))


def debtor_factors(history: DebtorHistory) -> dict[Factor, int | None]:
    """The debtor's factor values (``None``: no data), in :data:`FACTORS` order."""
    h = history
    repayments = h.repayments_on_time + h.repayments_late
    if h.credit_limit_minor > 0:
        utilisation: int | None = min(
            _ceil_bps(h.credit_used_minor, h.credit_limit_minor), UTILISATION_CAP_BPS
        )
    else:
        utilisation = UTILISATION_CAP_BPS if h.credit_used_minor > 0 else None
    return {
        Factor.ON_TIME_RATE: _floor_bps(h.repayments_on_time, repayments) if repayments else None,
        Factor.AVERAGE_DAYS_PAST_DUE: (
            math.ceil(Fraction(h.days_past_due_total, repayments)) if repayments else None
        ),
        Factor.WORST_DAYS_PAST_DUE: h.days_past_due_worst if repayments else None,
        Factor.OVERDUE_SHARE: _ceil_bps(h.overdue_minor, h.payables_minor) if h.payables_minor else None,
        Factor.DISPUTED_SHARE: _ceil_bps(h.disputed_minor, h.payables_minor) if h.payables_minor else None,
        Factor.UTILISATION: utilisation,
        Factor.TENURE: h.tenure_days,
    }


def supplier_factors(history: SupplierHistory) -> dict[Factor, int | None]:
    """The supplier's factor values (``None``: no data), in :data:`FACTORS` order."""
    h = history
    total = h.receivables_minor
    return {
        Factor.FINANCED_VOLUME: h.financed_minor,
        Factor.DISPUTE_SHARE: _ceil_bps(h.disputed, h.receivables) if h.receivables else None,
        Factor.DILUTION_SHARE: _ceil_bps(h.diluted_minor, total) if total else None,
        Factor.REJECTED_ENDORSEMENTS: h.rejected_endorsements,
        Factor.BUYER_CONCENTRATION: _ceil_bps(h.largest_buyer_minor, total) if total else None,
        Factor.TENURE: h.tenure_days,
    }


# ---------------------------------------------------------------------------------------------
# The points table

_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
_GRADE = re.compile(r"[A-Z][A-Za-z0-9+-]{0,7}")
_MAX_TEXT = 300


def _check_outcome(points: int, code: str, reason: str) -> None:
    if type(points) is not int:
        raise ValueError(f"points must be an integer, not {type(points).__name__}")
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise ValueError(f"reason code {code!r} is not 1-64 of A-Z, 0-9, _ starting with a letter")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > _MAX_TEXT:
        raise ValueError(f"the reason must be a sentence of 1-{_MAX_TEXT} characters")
    try:
        check_text(reason)
    except ValueError as e:
        raise ValueError(f"the reason {e}") from None


@dataclass(frozen=True)
class NoData:
    """What a factor scores when the history holds nothing to measure it by."""

    points: int
    code: str
    reason: str

    def __post_init__(self) -> None:
        _check_outcome(self.points, self.code, self.reason)


@dataclass(frozen=True)
class Bin:
    """Values ``lower <= v < upper`` (``upper`` ``None``: no end) of a factor, and what they score."""

    lower: int
    upper: int | None
    points: int
    code: str
    reason: str

    def __post_init__(self) -> None:
        _check_outcome(self.points, self.code, self.reason)
        if type(self.lower) is not int or (self.upper is not None and type(self.upper) is not int):
            raise ValueError(f"bounds must be integers, not {self.lower!r} and {self.upper!r}")
        if self.upper is not None and self.upper <= self.lower:
            raise ValueError(f"upper bound {self.upper} is not above the lower bound {self.lower}")

    def contains(self, value: int) -> bool:
        """Whether ``value`` falls in this bin."""
        return self.lower <= value and (self.upper is None or value < self.upper)

    def label(self, unit: Unit) -> str:
        """The bin's values in words, bounds inclusive: ``"8000 to 8999 bps"``, ``"90 days or more"``."""
        if self.upper is None:
            text = f"{self.lower} {unit} or more"
        elif self.upper == self.lower + 1:
            text = f"{self.lower} {unit}"
        else:
            text = f"{self.lower} to {self.upper - 1} {unit}"
        return " ".join(text.split())


@dataclass(frozen=True)
class FactorTable:
    """One factor's bins (contiguous, from 0, the last without an end) and its no-data outcome."""

    factor: Factor
    bins: tuple[Bin, ...]
    no_data: NoData | None


@dataclass(frozen=True)
class Grade:
    """A grade and the lowest score that earns it (``None`` for the last grade: every score below)."""

    grade: str
    min_score: int | None


def _check_factor(role: ScoreRole, spec: FactorSpec, table: FactorTable) -> None:
    path = f"{role}.{spec.factor}"
    if table.factor != spec.factor:
        raise ValueError(f"{path}: found the table of {table.factor!r} in its place")
    if spec.may_lack_data and table.no_data is None:
        raise ValueError(f"{path}: a no-data outcome is required (a history may lack this factor)")
    if not spec.may_lack_data and table.no_data is not None:
        raise ValueError(f"{path}: no no-data outcome allowed (every history has this factor)")
    if not table.bins:
        raise ValueError(f"{path}: no bins")
    if table.bins[0].lower != 0:
        raise ValueError(f"{path}: the first bin must start at 0, not {table.bins[0].lower}")
    for i, (before, after) in enumerate(zip(table.bins, table.bins[1:], strict=False), start=1):
        if before.upper != after.lower:
            raise ValueError(f"{path}.bins[{i}]: starts at {after.lower}, not where bin {i - 1} ends")
        rises = after.points > before.points
        if (rises and spec.direction is _RISKIER) or (
            after.points < before.points and spec.direction is _SAFER
        ):
            raise ValueError(
                f"{path}.bins[{i}]: points go from {before.points} to {after.points}, but {spec.factor} is "
                f"{spec.direction.value.replace('_', ' ')}: points must never rise with the risk"
            )
    if table.bins[-1].upper is not None:
        raise ValueError(f"{path}: the last bin must have no upper bound (it ends at {table.bins[-1].upper})")


@dataclass(frozen=True)
class PointsTable:
    """A whole scorecard's setting: a version, the base score, the grades, each role's factor tables.

    Checked when made: every factor of :data:`FACTORS` in its order, bins contiguous from 0 to no end,
    points monotone in the factor's direction, reason codes unique across the table, grades strictly
    decreasing with the last open-ended. An invalid table cannot exist.
    """

    version: str
    base: int
    grades: tuple[Grade, ...]
    debtor: tuple[FactorTable, ...]
    supplier: tuple[FactorTable, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.version, str) or not 0 < len(self.version) <= 64:
            raise ValueError("version: 1-64 characters")
        check_text(self.version)
        if type(self.base) is not int:
            raise ValueError(f"base must be an integer, not {type(self.base).__name__}")
        self._check_grades()
        codes: set[str] = set()
        for role in ScoreRole:
            specs, tables = FACTORS[role], self.factors(role)
            expected = [s.factor.value for s in specs]
            if [t.factor.value for t in tables] != expected:
                raise ValueError(f"{role}: the factors must be exactly {', '.join(expected)}, in that order")
            for spec, table in zip(specs, tables, strict=True):
                _check_factor(role, spec, table)
                outcomes: list[Bin | NoData] = [*table.bins, *([table.no_data] if table.no_data else [])]
                for outcome in outcomes:
                    if outcome.code in codes:
                        raise ValueError(f"{role}.{spec.factor}: reason code {outcome.code} used twice")
                    codes.add(outcome.code)

    def _check_grades(self) -> None:
        if not self.grades:
            raise ValueError("grades: at least one")
        names = [g.grade for g in self.grades]
        for name in names:
            if not isinstance(name, str) or not _GRADE.fullmatch(name):
                raise ValueError(
                    f"grades: {name!r} is not a grade name (a capital letter, then 0-7 of A-Z a-z 0-9 + -)"
                )
        if len(set(names)) != len(names):
            raise ValueError("grades: names must be unique")
        if self.grades[-1].min_score is not None:
            raise ValueError(f"grades: the last grade ({names[-1]}) must have no minimum (min_score null)")
        previous: Grade | None = None
        for g in self.grades[:-1]:
            if type(g.min_score) is not int:
                raise ValueError(f"grades: {g.grade} needs an integer minimum score")
            if previous is not None and not g.min_score < (above := previous.min_score or 0):
                raise ValueError(
                    f"grades: {g.grade}'s minimum {g.min_score} must be below {previous.grade}'s {above}"
                )
            previous = g

    def factors(self, role: ScoreRole) -> tuple[FactorTable, ...]:
        """The factor tables of ``role``."""
        return self.debtor if role is ScoreRole.DEBTOR else self.supplier

    def grade(self, score: int) -> str:
        """The first grade whose minimum ``score`` reaches (minimum inclusive)."""
        for g in self.grades:
            if g.min_score is None or score >= g.min_score:
                return g.grade
        raise AssertionError("unreachable: the last grade has no minimum")


# ---------------------------------------------------------------------------------------------
# Scoring


@dataclass(frozen=True)
class FactorResult:
    """One factor of a scorecard: its value (``None``: no data), bin, points, reason.

    ``shortfall`` is how many points the factor scored below the best outcome its table offers
    (0: nothing to improve here).
    """

    factor: Factor
    value: int | None
    bin_label: str
    points: int
    reason_code: str
    reason: str
    shortfall: int


@dataclass(frozen=True)
class Scorecard:
    """A score and its explanation: ``base + sum(f.points for f in factors) == score``, exactly."""

    role: ScoreRole
    score: int
    grade: str
    base: int
    factors: tuple[FactorResult, ...]
    table_version: str


def _score(role: ScoreRole, values: Mapping[Factor, int | None], table: PointsTable) -> Scorecard:
    results = []
    for spec, ft in zip(FACTORS[role], table.factors(role), strict=True):
        value = values[spec.factor]
        best = max([b.points for b in ft.bins] + ([ft.no_data.points] if ft.no_data else []))
        if value is None:
            assert ft.no_data is not None  # a table is checked: a factor that may lack data has the bin
            outcome: Bin | NoData = ft.no_data
            label = "no data"
        else:
            outcome = next(b for b in ft.bins if b.contains(value))
            label = outcome.label(spec.unit)
        results.append(
            FactorResult(
                spec.factor, value, label, outcome.points, outcome.code, outcome.reason, best - outcome.points
            )
        )
    score = table.base + sum(r.points for r in results)
    return Scorecard(role, score, table.grade(score), table.base, tuple(results), table.version)


def score_debtor(history: DebtorHistory, table: PointsTable) -> Scorecard:
    """A core enterprise's scorecard as a debtor under ``table``."""
    return _score(ScoreRole.DEBTOR, debtor_factors(history), table)


def score_supplier(history: SupplierHistory, table: PointsTable) -> Scorecard:
    """A supplier's scorecard under ``table``."""
    return _score(ScoreRole.SUPPLIER, supplier_factors(history), table)


def top_reasons(scorecard: Scorecard, n: int = 3) -> tuple[FactorResult, ...]:
    """The (at most ``n``) factors that cost the most points against their best bin, most first (ties:
    the table's order); factors at their best are never reasons. What a financier tells a participant."""
    if n < 0:
        raise ValueError(f"n must not be negative: {n}")
    costly = [(-r.shortfall, i, r) for i, r in enumerate(scorecard.factors) if r.shortfall > 0]
    return tuple(r for _, _, r in sorted(costly, key=lambda t: (t[0], t[1]))[:n])
