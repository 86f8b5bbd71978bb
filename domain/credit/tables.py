"""The default points table, where its numbers come from, and its JSON form (a deployment's setting).

**Scaling** (the usual convention, e.g. N. Siddiqi, *Credit Risk Scorecards*, Wiley 2006, on scaling):
a score of :data:`BASE_SCORE` (600) stands for good:bad odds of :data:`BASE_ODDS` (50:1) and every
:data:`PDO` (20) points double the odds, so ``score = 600 + 20/ln 2 * (ln odds - ln 50)``. Under the
scorecard's additive model (each factor's weight of evidence adding to the log-odds, i.e. a logistic
regression with every coefficient 1) a bin's points are ``round(WoE * 20 / ln 2)`` (:func:`points_for_woe`,
half to even) and the base is 600: a participant whose every factor has WoE 0 is an average one, at 50:1.

**The WoE values are expert priors, not fitted.** The platform has no repayment outcomes yet, so no bin's
weight of evidence could be estimated; each prior below is a judgement, set monotone in its factor (more
lateness, disputes, dilution, concentration or utilisation never earns more points; longer tenure and more
financed volume never fewer), with the bins' edges at conventional thresholds (30/60/90 days past due:
90 days is the threshold of the default definition of Basel II para. 452 and EU CRR art. 178(1)(b)).
A no-data bin has WoE 0 (no evidence either way); a participant's thin file is weighed by ``tenure``.

**Refitting**, once outcomes exist (a "bad": e.g. 90+ days past due within 12 months of scoring):

1. per factor and bin, ``WoE = ln(%good / %bad)``, ``%good`` the bin's share of all goods, ``%bad`` of all
   bads (merge bins until each holds enough of both, and until WoE is monotone);
2. optionally a logistic regression on the WoE values: a bin's points become ``round(beta * WoE * 20/ln 2)``;
3. the base becomes ``600 + 20/ln 2 * ln(population odds / 50)`` (plus the regression's intercept term);
4. set the table (:func:`table_json` of the new :class:`PointsTable`, a new ``version``) as the
   deployment's setting; :func:`load_table` checks it.

Grades are bands of odds: A from 640 (200:1 or better, PD at most 0.50 %), B from 620 (100:1, 0.99 %),
C from 600 (50:1, 1.96 %), D from 580 (25:1, 3.85 %), E below.
"""

from __future__ import annotations

import json
from decimal import Decimal, localcontext
from typing import Any

from domain.credit.scorecard import (
    FACTORS,
    Bin,
    Factor,
    FactorTable,
    Grade,
    NoData,
    PointsTable,
    ScoreRole,
)

BASE_SCORE = 600
BASE_ODDS = 50
PDO = 20


def points_for_woe(woe: Decimal) -> int:
    """``round(woe * PDO / ln 2)``, half to even, computed in 50 significant digits."""
    with localcontext() as ctx:
        ctx.prec = 50
        return int((woe * PDO / Decimal(2).ln()).to_integral_value())


# (lower, upper, WoE prior, reason code, reason) per bin; (WoE, code, reason) for no data.
_Row = tuple[int, int | None, str, str, str]
_NoDataRow = tuple[str, str, str]

_NO_REPAYMENT = "No repayment is on record yet."
_NO_PAYABLE = "No payable is on record yet."
_NO_RECEIVABLE = "No receivable is on record yet."


def _tenure(prefix: str) -> list[_Row]:
    return [
        (0, 180, "-0.3", f"{prefix}_TENURE_NEW", "On the platform for under 180 days."),
        (180, 365, "-0.1", f"{prefix}_TENURE_SHORT", "On the platform for 180 to 364 days."),
        (365, 730, "0", f"{prefix}_TENURE_ESTABLISHED", "On the platform for 1 to 2 years."),
        (730, None, "0.3", f"{prefix}_TENURE_LONG", "On the platform for 2 years or more."),
    ]


_DEFAULT: dict[ScoreRole, dict[Factor, tuple[_NoDataRow | None, list[_Row]]]] = {
    ScoreRole.DEBTOR: {
        Factor.ON_TIME_RATE: (
            ("0", "DEBTOR_REPAYMENTS_NONE", _NO_REPAYMENT),
            [
                (0, 8000, "-1.0", "DEBTOR_LATE_REPAYMENTS_HIGH", "More than 20 % of repayments were late."),
                (
                    8000,
                    9000,
                    "-0.5",
                    "DEBTOR_LATE_REPAYMENTS_ELEVATED",
                    "Over 10 % and up to 20 % of repayments were late.",
                ),
                (
                    9000,
                    9500,
                    "0",
                    "DEBTOR_LATE_REPAYMENTS_SOME",
                    "Over 5 % and up to 10 % of repayments were late.",
                ),
                (9500, None, "0.4", "DEBTOR_LATE_REPAYMENTS_RARE", "At most 5 % of repayments were late."),
            ],
        ),
        # shown, not scored (all 0): an average of delays falls when a mildly late repayment follows a very
        # late one, and one more late repayment must never raise a debtor's score (docs/credit.md)
        Factor.AVERAGE_DAYS_PAST_DUE: (
            ("0", "DEBTOR_AVERAGE_DPD_NO_DATA", _NO_REPAYMENT),
            [
                (0, 1, "0", "DEBTOR_AVERAGE_DPD_NONE", "No repayment was late."),
                (1, 5, "0", "DEBTOR_AVERAGE_DPD_LOW", "Repayments were on average up to 4 days late."),
                (
                    5,
                    15,
                    "0",
                    "DEBTOR_AVERAGE_DPD_MODERATE",
                    "Repayments were on average 5 to 14 days late.",
                ),
                (15, 30, "0", "DEBTOR_AVERAGE_DPD_HIGH", "Repayments were on average 15 to 29 days late."),
                (
                    30,
                    None,
                    "0",
                    "DEBTOR_AVERAGE_DPD_SEVERE",
                    "Repayments were on average 30 days late or more.",
                ),
            ],
        ),
        Factor.WORST_DAYS_PAST_DUE: (
            ("0", "DEBTOR_WORST_DPD_NO_DATA", _NO_REPAYMENT),
            [
                (0, 1, "0.2", "DEBTOR_WORST_DPD_NONE", "No repayment was ever late."),
                (1, 30, "0", "DEBTOR_WORST_DPD_UNDER_30", "No repayment was 30 days late or more."),
                (30, 60, "-0.4", "DEBTOR_WORST_DPD_30", "A repayment was 30 to 59 days late."),
                (60, 90, "-0.8", "DEBTOR_WORST_DPD_60", "A repayment was 60 to 89 days late."),
                (
                    90,
                    None,
                    "-1.4",
                    "DEBTOR_WORST_DPD_90",
                    "A repayment was 90 days late or more.",
                ),
            ],
        ),
        Factor.OVERDUE_SHARE: (
            ("0", "DEBTOR_OVERDUE_NO_DATA", _NO_PAYABLE),
            [
                (0, 1, "0.2", "DEBTOR_OVERDUE_NONE", "Nothing is overdue."),
                (1, 200, "0", "DEBTOR_OVERDUE_LOW", "Under 2 % of payables are overdue."),
                (200, 1000, "-0.5", "DEBTOR_OVERDUE_ELEVATED", "2 % to under 10 % of payables are overdue."),
                (1000, None, "-1.0", "DEBTOR_OVERDUE_HIGH", "10 % or more of payables are overdue."),
            ],
        ),
        Factor.DISPUTED_SHARE: (
            ("0", "DEBTOR_DISPUTED_NO_DATA", _NO_PAYABLE),
            [
                (0, 1, "0.1", "DEBTOR_DISPUTED_NONE", "No payable is disputed."),
                (1, 300, "0", "DEBTOR_DISPUTED_LOW", "Under 3 % of payables are disputed."),
                (
                    300,
                    1000,
                    "-0.3",
                    "DEBTOR_DISPUTED_ELEVATED",
                    "3 % to under 10 % of payables are disputed.",
                ),
                (1000, None, "-0.7", "DEBTOR_DISPUTED_HIGH", "10 % or more of payables are disputed."),
            ],
        ),
        Factor.UTILISATION: (
            ("0", "DEBTOR_CREDIT_LINE_NONE", "No credit line is granted and none is used."),
            [
                (0, 5000, "0.2", "DEBTOR_UTILISATION_LOW", "Under 50 % of the credit line is used."),
                (
                    5000,
                    8000,
                    "0",
                    "DEBTOR_UTILISATION_MODERATE",
                    "50 % to under 80 % of the credit line is used.",
                ),
                (
                    8000,
                    9500,
                    "-0.3",
                    "DEBTOR_UTILISATION_HIGH",
                    "80 % to under 95 % of the credit line is used.",
                ),
                (9500, None, "-0.7", "DEBTOR_UTILISATION_FULL", "95 % or more of the credit line is used."),
            ],
        ),
        Factor.TENURE: (None, _tenure("DEBTOR")),
    },
    ScoreRole.SUPPLIER: {
        Factor.FINANCED_VOLUME: (
            None,
            [
                (0, 1, "-0.2", "SUPPLIER_FINANCED_NONE", "No receivable has been financed yet."),
                (
                    1,
                    1_000_000,
                    "0",
                    "SUPPLIER_FINANCED_LOW",
                    "Under 1,000,000 minor units have been financed.",
                ),
                (
                    1_000_000,
                    10_000_000,
                    "0.1",
                    "SUPPLIER_FINANCED_MODERATE",
                    "1,000,000 to under 10,000,000 minor units have been financed.",
                ),
                (
                    10_000_000,
                    None,
                    "0.3",
                    "SUPPLIER_FINANCED_HIGH",
                    "10,000,000 minor units or more have been financed.",
                ),
            ],
        ),
        Factor.DISPUTE_SHARE: (
            ("0", "SUPPLIER_DISPUTES_NO_DATA", _NO_RECEIVABLE),
            [
                (0, 1, "0.3", "SUPPLIER_DISPUTES_NONE", "No receivable was disputed."),
                (1, 200, "0", "SUPPLIER_DISPUTES_LOW", "Under 2 % of receivables were disputed."),
                (
                    200,
                    500,
                    "-0.4",
                    "SUPPLIER_DISPUTES_ELEVATED",
                    "2 % to under 5 % of receivables were disputed.",
                ),
                (
                    500,
                    1000,
                    "-0.8",
                    "SUPPLIER_DISPUTES_HIGH",
                    "5 % to under 10 % of receivables were disputed.",
                ),
                (
                    1000,
                    None,
                    "-1.2",
                    "SUPPLIER_DISPUTES_SEVERE",
                    "10 % or more of receivables were disputed.",
                ),
            ],
        ),
        Factor.DILUTION_SHARE: (
            ("0", "SUPPLIER_DILUTION_NO_DATA", _NO_RECEIVABLE),
            [
                (0, 1, "0.2", "SUPPLIER_DILUTION_NONE", "No receivable was reduced by a credit note."),
                (
                    1,
                    200,
                    "0",
                    "SUPPLIER_DILUTION_LOW",
                    "Credit notes took under 2 % of the receivables' value.",
                ),
                (
                    200,
                    500,
                    "-0.3",
                    "SUPPLIER_DILUTION_ELEVATED",
                    "Credit notes took 2 % to under 5 % of the receivables' value.",
                ),
                (
                    500,
                    None,
                    "-0.7",
                    "SUPPLIER_DILUTION_HIGH",
                    "Credit notes took 5 % or more of the receivables' value.",
                ),
            ],
        ),
        Factor.REJECTED_ENDORSEMENTS: (
            None,
            [
                (0, 1, "0.2", "SUPPLIER_REJECTIONS_NONE", "No endorsement was rejected."),
                (1, 3, "-0.2", "SUPPLIER_REJECTIONS_FEW", "1 or 2 endorsements were rejected."),
                (3, 10, "-0.5", "SUPPLIER_REJECTIONS_SEVERAL", "3 to 9 endorsements were rejected."),
                (10, None, "-0.9", "SUPPLIER_REJECTIONS_MANY", "10 or more endorsements were rejected."),
            ],
        ),
        Factor.BUYER_CONCENTRATION: (
            ("0", "SUPPLIER_CONCENTRATION_NO_DATA", _NO_RECEIVABLE),
            [
                (
                    0,
                    3000,
                    "0.2",
                    "SUPPLIER_CONCENTRATION_LOW",
                    "The largest buyer owes under 30 % of the receivables' value.",
                ),
                (
                    3000,
                    6000,
                    "0",
                    "SUPPLIER_CONCENTRATION_MODERATE",
                    "The largest buyer owes 30 % to under 60 % of the receivables' value.",
                ),
                (
                    6000,
                    9000,
                    "-0.2",
                    "SUPPLIER_CONCENTRATION_HIGH",
                    "The largest buyer owes 60 % to under 90 % of the receivables' value.",
                ),
                (
                    9000,
                    None,
                    "-0.4",
                    "SUPPLIER_CONCENTRATION_SINGLE",
                    "The largest buyer owes 90 % or more of the receivables' value.",
                ),
            ],
        ),
        Factor.TENURE: (None, _tenure("SUPPLIER")),
    },
}

#: The WoE prior of every default bin by reason code (what ``docs/credit.md`` tabulates).
DEFAULT_WOE: dict[str, Decimal] = {
    code: Decimal(woe)
    for factors in _DEFAULT.values()
    for no_data, rows in factors.values()
    for woe, code in [*((r[2], r[3]) for r in rows), *([(no_data[0], no_data[1])] if no_data else [])]
}


def _factor_table(factor: Factor, no_data: _NoDataRow | None, rows: list[_Row]) -> FactorTable:
    bins = tuple(Bin(lo, hi, points_for_woe(Decimal(woe)), code, why) for lo, hi, woe, code, why in rows)
    nd = NoData(points_for_woe(Decimal(no_data[0])), no_data[1], no_data[2]) if no_data else None
    return FactorTable(factor, bins, nd)


#: The default table: expert priors scaled to 600 at 50:1, 20 points to double the odds.
DEFAULT_TABLE = PointsTable(
    version="scf-default-1",
    base=BASE_SCORE,
    grades=(Grade("A", 640), Grade("B", 620), Grade("C", 600), Grade("D", 580), Grade("E", None)),
    debtor=tuple(_factor_table(f, *spec) for f, spec in _DEFAULT[ScoreRole.DEBTOR].items()),
    supplier=tuple(_factor_table(f, *spec) for f, spec in _DEFAULT[ScoreRole.SUPPLIER].items()),
)


# ---------------------------------------------------------------------------------------------
# JSON


def table_json(table: PointsTable) -> str:
    """``table`` as JSON (the form :func:`load_table` reads), factors in table order, indented."""

    def outcome(o: Bin | NoData) -> dict[str, Any]:
        bounds = {"lower": o.lower, "upper": o.upper} if isinstance(o, Bin) else {}
        return {**bounds, "points": o.points, "code": o.code, "reason": o.reason}

    doc = {
        "version": table.version,
        "base": table.base,
        "grades": [{"grade": g.grade, "min_score": g.min_score} for g in table.grades],
        **{
            role.value: {
                ft.factor.value: {
                    "no_data": outcome(ft.no_data) if ft.no_data else None,
                    "bins": [outcome(b) for b in ft.bins],
                }
                for ft in table.factors(role)
            }
            for role in ScoreRole
        },
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    for k in keys:
        if keys.count(k) > 1:
            raise ValueError(f"points table: key {k!r} appears twice in one object")
    return dict(pairs)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"points table: {name} is not a number")


def _object(value: Any, path: str, keys: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{path}: expected an object, found {type(value).__name__}")
    if missing := keys - value.keys():
        raise ValueError(f"{path}: missing {', '.join(sorted(missing))}")
    if unknown := value.keys() - keys:
        raise ValueError(f"{path}: unknown {', '.join(sorted(unknown))}")
    return value


def _integer(value: Any, path: str, *, nullable: bool = False) -> Any:
    if value is None and nullable:
        return None
    if type(value) is not int:
        raise ValueError(f"{path}: expected an integer, found {json.dumps(value)}")
    return value


def _string(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{path}: expected a string, found {json.dumps(value)}")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValueError(f"{path}: expected a list, found {type(value).__name__}")
    return value


def _bin(value: Any, path: str) -> Bin:
    o = _object(value, path, {"lower", "upper", "points", "code", "reason"})
    lower = _integer(o["lower"], f"{path}.lower")
    upper = _integer(o["upper"], f"{path}.upper", nullable=True)
    points = _integer(o["points"], f"{path}.points")
    try:
        return Bin(
            lower, upper, points, _string(o["code"], f"{path}.code"), _string(o["reason"], f"{path}.reason")
        )
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


def _no_data(value: Any, path: str) -> NoData | None:
    if value is None:
        return None
    o = _object(value, path, {"points", "code", "reason"})
    points = _integer(o["points"], f"{path}.points")
    try:
        return NoData(points, _string(o["code"], f"{path}.code"), _string(o["reason"], f"{path}.reason"))
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None


def _role(value: Any, role: ScoreRole) -> tuple[FactorTable, ...]:
    names = {spec.factor.value for spec in FACTORS[role]}
    o = _object(value, role.value, names)
    tables = []
    for spec in FACTORS[role]:
        path = f"{role}.{spec.factor}"
        f = _object(o[spec.factor.value], path, {"no_data", "bins"})
        bins = tuple(_bin(b, f"{path}.bins[{i}]") for i, b in enumerate(_list(f["bins"], f"{path}.bins")))
        tables.append(FactorTable(spec.factor, bins, _no_data(f["no_data"], f"{path}.no_data")))
    return tuple(tables)


def load_table(json_text: str) -> PointsTable:
    """A :class:`PointsTable` from its JSON (:func:`table_json`), checked strictly: exactly the known
    keys and factors, integers that are integers (no ``true``, no ``1.0``), no duplicate keys, then every
    rule of :class:`PointsTable`. Raises ``ValueError`` naming where the table is wrong."""
    try:
        doc = json.loads(json_text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)
    except json.JSONDecodeError as e:
        raise ValueError(f"points table: not JSON: {e}") from None
    top = _object(doc, "points table", {"version", "base", "grades", *(r.value for r in ScoreRole)})
    grades = tuple(
        Grade(
            _string(_object(g, f"grades[{i}]", {"grade", "min_score"})["grade"], f"grades[{i}].grade"),
            _integer(g["min_score"], f"grades[{i}].min_score", nullable=True),
        )
        for i, g in enumerate(_list(top["grades"], "grades"))
    )
    return PointsTable(
        version=_string(top["version"], "version"),
        base=_integer(top["base"], "base"),
        grades=grades,
        debtor=_role(top[ScoreRole.DEBTOR.value], ScoreRole.DEBTOR),
        supplier=_role(top[ScoreRole.SUPPLIER.value], ScoreRole.SUPPLIER),
    )
