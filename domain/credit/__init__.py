"""Credit scoring, the pure half (issue 14): an explainable points scorecard for debtors and suppliers.

No FastAPI, no database, no web3: the histories are computed elsewhere from the read model
(``docs/credit.md``).

- :mod:`.scorecard`: the histories, their factors (exact integer maths, stated rounding), the
  :class:`PointsTable` and its checks, :func:`score_debtor`, :func:`score_supplier`, :func:`top_reasons`;
- :mod:`.tables`: the default table (expert priors, scaled 600 at 50:1, 20 points to double the odds),
  where its numbers come from and how to refit them; :func:`load_table` / :func:`table_json`.
"""

from domain.credit.scorecard import (
    FACTORS,
    UTILISATION_CAP_BPS,
    Bin,
    DebtorHistory,
    Direction,
    Factor,
    FactorResult,
    FactorSpec,
    FactorTable,
    Grade,
    NoData,
    PointsTable,
    Scorecard,
    ScoreRole,
    SupplierHistory,
    Unit,
    debtor_factors,
    score_debtor,
    score_supplier,
    supplier_factors,
    top_reasons,
)
from domain.credit.tables import (
    BASE_ODDS,
    BASE_SCORE,
    DEFAULT_TABLE,
    DEFAULT_WOE,
    PDO,
    load_table,
    points_for_woe,
    table_json,
)

__all__ = [
    "BASE_ODDS",
    "BASE_SCORE",
    "DEFAULT_TABLE",
    "DEFAULT_WOE",
    "FACTORS",
    "PDO",
    "UTILISATION_CAP_BPS",
    "Bin",
    "DebtorHistory",
    "Direction",
    "Factor",
    "FactorResult",
    "FactorSpec",
    "FactorTable",
    "Grade",
    "NoData",
    "PointsTable",
    "ScoreRole",
    "Scorecard",
    "SupplierHistory",
    "Unit",
    "debtor_factors",
    "load_table",
    "points_for_woe",
    "score_debtor",
    "score_supplier",
    "supplier_factors",
    "table_json",
    "top_reasons",
]
