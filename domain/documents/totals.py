"""EN 16931 document arithmetic: recompute an invoice's (or order's) totals from its lines.

Formulas (EN 16931 business rules, Peppol BIS 3 where EN 16931 leaves it open):

* line net amount = quantity x (net price / price base quantity) + line charges - line allowances,
  rounded to 2 decimals (PEPPOL-EN16931-R120);
* sum of line net amounts = sum of the lines' stated net amounts (BR-CO-10);
* allowance / charge totals = sum of document-level allowances / charges (BR-CO-11, BR-CO-12);
* tax exclusive = line total - allowance total + charge total (BR-CO-13);
* per VAT category (code, rate): taxable = its lines + its charges - its allowances, tax = taxable
  x rate / 100 rounded to 2 decimals (BR-S-08, BR-CO-17 and siblings);
* total VAT = sum of the category tax amounts (BR-CO-14);
* tax inclusive = tax exclusive + total VAT (BR-CO-15);
* payable = tax inclusive - prepaid + rounding (BR-CO-16).

Each check uses the *stated* values of its inputs, so one wrong figure is reported once, where it
is wrong, instead of cascading into every total after it. Comparison is exact (``Decimal``
equality after EN 16931 rounding); there is no tolerance.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, localcontext

from domain.documents.model import Invoice, Line, Order, TaxCategory
from domain.documents.money import round_amount

__all__ = [
    "TOTALS_CODES",
    "ComputedTotals",
    "Discrepancy",
    "check_totals",
    "compute_line_amount",
    "compute_totals",
]

TOTALS_CODES: dict[str, str] = {
    "TOTAL_LINE_AMOUNT_MISMATCH": (
        "An invoice line's net amount is not quantity x (price / base quantity) + line charges"
        " - line allowances, rounded to 2 decimals."
    ),
    "TOTAL_LINE_EXTENSION_MISMATCH": "LineExtensionAmount is not the sum of the lines' net amounts.",
    "TOTAL_ALLOWANCE_MISMATCH": "AllowanceTotalAmount is not the sum of the document-level allowances.",
    "TOTAL_CHARGE_MISMATCH": "ChargeTotalAmount is not the sum of the document-level charges.",
    "TOTAL_TAX_EXCLUSIVE_MISMATCH": "TaxExclusiveAmount is not line total - allowance total + charge total.",
    "TOTAL_TAX_SUBTOTAL_MISMATCH": (
        "A VAT breakdown (TaxSubtotal) is missing, superfluous, or its taxable or tax amount does not"
        " follow from the lines, allowances and charges of that VAT category and rate."
    ),
    "TOTAL_TAX_MISMATCH": "TaxTotal/TaxAmount is not the sum of the VAT breakdown's tax amounts.",
    "TOTAL_TAX_INCLUSIVE_MISMATCH": "TaxInclusiveAmount is not tax exclusive amount + total VAT.",
    "TOTAL_PAYABLE_MISMATCH": "PayableAmount is not tax inclusive amount - prepaid amount + rounding amount.",
}
"""The arithmetic rule codes; :mod:`domain.rules` includes them in its registry."""

_PRECISION = 60
_ZERO = Decimal(0)
CategoryKey = tuple[str, Decimal]


@dataclass(frozen=True, slots=True)
class Discrepancy:
    """A stated amount that differs from what the document's own figures give."""

    code: str
    field: str
    stated: Decimal | None
    computed: Decimal
    line: str | None = None


@dataclass(frozen=True, slots=True)
class ComputedTotals:
    """Totals computed from the lines alone (prepaid and rounding amounts are taken as stated)."""

    line_extension: Decimal
    allowance_total: Decimal
    charge_total: Decimal
    tax_exclusive: Decimal
    taxable_by_category: dict[CategoryKey, Decimal]
    tax_by_category: dict[CategoryKey, Decimal]
    tax_total: Decimal | None
    tax_inclusive: Decimal | None
    payable: Decimal | None


def _sum(values: Iterable[Decimal]) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return sum(values, _ZERO)


def _category_tax(key: CategoryKey, taxable: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return round_amount(taxable * key[1] / 100)


def _category_label(key: CategoryKey) -> str:
    return f"{key[0]} {key[1].normalize():f}%"


def compute_line_amount(line: Line) -> Decimal | None:
    """The line's net amount from quantity, price and line allowances/charges; None without a price."""
    if line.price is None:
        return None
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        net = line.quantity * line.price.amount / line.price.effective_base_quantity
        for charge in line.allowance_charges:
            net += charge.amount if charge.is_charge else -charge.amount
        return round_amount(net)


def _key(category: TaxCategory | None) -> CategoryKey | None:
    return None if category is None else category.key


def _taxable_by_category(
    doc: Order | Invoice, line_amounts: Iterable[tuple[Line, Decimal]]
) -> tuple[dict[CategoryKey, Decimal], bool]:
    """Taxable amount per VAT category; the flag is False when some amount has no category."""
    taxable: dict[CategoryKey, Decimal] = defaultdict(lambda: _ZERO)
    complete = True
    entries = [(_key(line.tax_category), amount) for line, amount in line_amounts]
    entries += [
        (_key(ac.tax_category), ac.amount if ac.is_charge else -ac.amount) for ac in doc.allowance_charges
    ]
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        for key, amount in entries:
            if key is None:
                complete = False
            else:
                taxable[key] += amount
    return dict(taxable), complete


def _allowances_and_charges(doc: Order | Invoice) -> tuple[Decimal, Decimal]:
    allowances = _sum(ac.amount for ac in doc.allowance_charges if not ac.is_charge)
    charges = _sum(ac.amount for ac in doc.allowance_charges if ac.is_charge)
    return allowances, charges


def compute_totals(doc: Order | Invoice) -> ComputedTotals:
    """Recompute every total from quantities and prices (a line without a price counts its stated amount).

    ``tax_total``, ``tax_inclusive`` and ``payable`` are None when some line or document-level
    allowance/charge has no VAT category, so tax cannot be computed.
    """
    amounts = []
    for line in doc.lines:
        computed = compute_line_amount(line)
        amounts.append((line, computed if computed is not None else line.line_extension_amount or _ZERO))
    line_extension = _sum(amount for _, amount in amounts)
    allowances, charges = _allowances_and_charges(doc)
    tax_exclusive = line_extension - allowances + charges
    taxable, complete = _taxable_by_category(doc, amounts)
    tax = {key: _category_tax(key, amount) for key, amount in taxable.items()}
    tax_total = _sum(tax.values()) if complete else None
    tax_inclusive = None if tax_total is None else tax_exclusive + tax_total
    mt = doc.monetary_total
    payable = (
        None
        if tax_inclusive is None
        else tax_inclusive - (mt.prepaid or _ZERO) + (mt.payable_rounding or _ZERO)
    )
    return ComputedTotals(
        line_extension=line_extension,
        allowance_total=allowances,
        charge_total=charges,
        tax_exclusive=tax_exclusive,
        taxable_by_category=taxable,
        tax_by_category=tax,
        tax_total=tax_total,
        tax_inclusive=tax_inclusive,
        payable=payable,
    )


class _Checker:
    def __init__(self) -> None:
        self.found: list[Discrepancy] = []

    def compare(
        self, code: str, field: str, stated: Decimal | None, computed: Decimal, *, line: str | None = None
    ) -> Decimal:
        """Record a discrepancy unless equal; return the value later checks should build on."""
        if stated != computed:
            self.found.append(Discrepancy(code, field, stated, computed, line))
        return stated if stated is not None else computed


def check_totals(doc: Order | Invoice) -> list[Discrepancy]:
    """Every stated amount of ``doc`` that does not follow from the document's own figures.

    For an order, totals it does not state (AnticipatedMonetaryTotal is mostly optional) are not
    checked; an invoice's mandatory totals are guaranteed present by the parser.
    """
    check = _Checker()
    stated_lines: list[tuple[Line, Decimal]] = []
    for line in doc.lines:
        computed = compute_line_amount(line)
        if computed is not None and line.line_extension_amount is not None:
            check.compare(
                "TOTAL_LINE_AMOUNT_MISMATCH",
                "cbc:LineExtensionAmount",
                line.line_extension_amount,
                computed,
                line=line.id,
            )
        stated = line.line_extension_amount if line.line_extension_amount is not None else computed
        stated_lines.append((line, stated if stated is not None else _ZERO))

    mt = doc.monetary_total
    line_total = _sum(amount for _, amount in stated_lines)
    allowances, charges = _allowances_and_charges(doc)
    lmt = "cac:LegalMonetaryTotal" if isinstance(doc, Invoice) else "cac:AnticipatedMonetaryTotal"

    def optional(stated: Decimal | None, computed: Decimal, code: str, field: str) -> Decimal:
        if stated is None and computed == _ZERO:
            return _ZERO
        if stated is None and isinstance(doc, Order):
            return computed
        return check.compare(code, field, stated, computed)

    if mt.line_extension is not None:
        line_total = check.compare(
            "TOTAL_LINE_EXTENSION_MISMATCH", f"{lmt}/cbc:LineExtensionAmount", mt.line_extension, line_total
        )
    allowances = optional(
        mt.allowance_total, allowances, "TOTAL_ALLOWANCE_MISMATCH", f"{lmt}/cbc:AllowanceTotalAmount"
    )
    charges = optional(mt.charge_total, charges, "TOTAL_CHARGE_MISMATCH", f"{lmt}/cbc:ChargeTotalAmount")
    tax_exclusive = line_total - allowances + charges
    if mt.tax_exclusive is not None:
        tax_exclusive = check.compare(
            "TOTAL_TAX_EXCLUSIVE_MISMATCH", f"{lmt}/cbc:TaxExclusiveAmount", mt.tax_exclusive, tax_exclusive
        )

    tax_amount = _check_tax(doc, stated_lines, check)
    if tax_amount is None:
        return check.found
    tax_inclusive = tax_exclusive + tax_amount
    if mt.tax_inclusive is not None:
        tax_inclusive = check.compare(
            "TOTAL_TAX_INCLUSIVE_MISMATCH", f"{lmt}/cbc:TaxInclusiveAmount", mt.tax_inclusive, tax_inclusive
        )
    payable = tax_inclusive - (mt.prepaid or _ZERO) + (mt.payable_rounding or _ZERO)
    if mt.payable is not None:
        check.compare("TOTAL_PAYABLE_MISMATCH", f"{lmt}/cbc:PayableAmount", mt.payable, payable)
    return check.found


def _check_tax(
    doc: Order | Invoice, stated_lines: list[tuple[Line, Decimal]], check: _Checker
) -> Decimal | None:
    """Check the VAT breakdown and total; return the total VAT later checks build on (None: unknown)."""
    taxable, complete = _taxable_by_category(doc, stated_lines)
    tax_total = doc.tax_total
    subtotals = {} if tax_total is None else {sub.category.key: sub for sub in tax_total.subtotals}
    if subtotals:
        for key in sorted(taxable.keys() | subtotals.keys()):
            field = f"cac:TaxTotal/cac:TaxSubtotal[{_category_label(key)}]"
            sub = subtotals.get(key)
            computed_taxable = taxable.get(key, _ZERO)
            if sub is None:
                check.compare(
                    "TOTAL_TAX_SUBTOTAL_MISMATCH", f"{field}/cbc:TaxableAmount", None, computed_taxable
                )
                continue
            check.compare(
                "TOTAL_TAX_SUBTOTAL_MISMATCH",
                f"{field}/cbc:TaxableAmount",
                sub.taxable_amount,
                computed_taxable,
            )
            check.compare(
                "TOTAL_TAX_SUBTOTAL_MISMATCH",
                f"{field}/cbc:TaxAmount",
                sub.tax_amount,
                _category_tax(key, sub.taxable_amount),
            )
        computed_tax = _sum(sub.tax_amount for sub in subtotals.values())
    elif complete:
        computed_tax = _sum(_category_tax(key, amount) for key, amount in taxable.items())
    else:
        return None if tax_total is None else tax_total.tax_amount
    if tax_total is None:
        if isinstance(doc, Order):
            return computed_tax
        return check.compare("TOTAL_TAX_MISMATCH", "cac:TaxTotal/cbc:TaxAmount", None, computed_tax)
    return check.compare(
        "TOTAL_TAX_MISMATCH", "cac:TaxTotal/cbc:TaxAmount", tax_total.tax_amount, computed_tax
    )
