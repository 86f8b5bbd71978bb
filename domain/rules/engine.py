"""The rule engine: every family's rules, in order; the code registry; :func:`verify_bundle`.

Families, in rule order (each module registers its codes and lists its checks):

===============  ====================================================================
``structure``    bundle shape: one invoice (not a credit note), one order, evidence
``parties``      a party is one participant; seller and buyer are the trade's
``references``   invoice and delivery documents refer to the bundle's order
``match``        three-way match of lines, units, prices, quantities; VAT and charges
``amounts``      currency, EN 16931 totals, something to finance, credit
``dates``        order, delivery, invoice, due date; issued by now and not yet due
``duplicates``   already tokenized: by fingerprint, by document bytes
===============  ====================================================================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from domain.rules import amounts, dates, duplicates, match, parties, references, structure
from domain.rules.context import Bundle, Check, ContextT, Rule, Violation

__all__ = ["RULE_CODES", "verify_bundle"]

_FAMILIES = (structure, parties, references, match, amounts, dates, duplicates)


def _registry() -> dict[str, str]:
    codes: dict[str, str] = {}
    for family in _FAMILIES:
        family_codes: Mapping[str, str] = family.CODES
        for code, meaning in family_codes.items():
            if code in codes:
                raise RuntimeError(f"rule code {code} is registered twice ({family.__name__})")
            codes[code] = meaning
    return codes


RULE_CODES: Mapping[str, str] = MappingProxyType(_registry())
"""Every violation code :func:`verify_bundle` can report, with a one-sentence meaning, in rule order."""

_CHECKS: tuple[Check, ...] = (
    *parties.CHECKS,
    *references.CHECKS,
    *match.CHECKS,
    *amounts.CHECKS,
    *dates.CHECKS,
    *duplicates.CHECKS,
)


def verify_bundle(
    bundle: Bundle,
    context: ContextT,
    *,
    extra_rules: Sequence[Rule[ContextT]] = (),
    extra_violations: Iterable[Violation] = (),
) -> list[Violation]:
    """Run every rule on the bundle and return every violation (empty: the documents are fine).

    With no invoice, more than one invoice or purchase order, or a delivery document given twice,
    only the bundle-shape violations are reported: the other rules would not know which document
    to judge, or would count quantities twice. A missing order or missing delivery evidence is
    reported and the rules that do not need them still run. ``extra_rules`` (the caller's own
    rules, given the same context) run after the built-in rules, on the whole bundle;
    ``extra_violations`` are appended as given.
    """
    violations, trade = structure.check_shape(bundle)
    if trade is not None:
        for check in _CHECKS:
            violations.extend(check(trade, context))
    for extra in extra_rules:
        violations.extend(extra(bundle, context))  # nosec B610 - a rule called `extra`, not Django's
    violations.extend(extra_violations)
    return violations
