"""Three-way match: every invoice and delivery line matches an order line, in its unit, at its price;
no more invoiced than delivered, no more delivered than ordered; and the order is the agreement
(no VAT rate and no charge it does not carry, when it states its own)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from types import MappingProxyType

from domain.documents.model import AllowanceCharge, Line, Order, ReceiptAdvice, TaxCategory
from domain.rules.context import Trade, VerificationContext, Violation, Violations
from domain.rules.lines import match_line, units_differ

__all__ = ["CHECKS", "CODES", "check_match", "check_terms"]

CODES: Mapping[str, str] = MappingProxyType(
    {
        "MATCH_ORDER_LINE_NOT_FOUND": (
            "An invoice line matches no single order line, neither by OrderLineReference/LineID nor,"
            " when it has none, by item identifier."
        ),
        "MATCH_DELIVERY_LINE_NOT_FOUND": "A delivery line matches no single order line.",
        "MATCH_UNIT_MISMATCH": (
            "An invoice or delivery line counts in another unit of measure than its order line."
        ),
        "MATCH_PRICE_MISMATCH": "An invoice line's net unit price differs from its order line's price.",
        "MATCH_INVOICED_EXCEEDS_DELIVERED": "More of an order line is invoiced than was delivered.",
        "MATCH_DELIVERED_EXCEEDS_ORDERED": "More of an order line was delivered than was ordered.",
        "MATCH_VAT_NOT_ORDERED": (
            "The invoice applies a VAT category and rate that the purchase order, which states its own,"
            " does not carry (on the matched order line, or anywhere in the order)."
        ),
        "MATCH_CHARGE_NOT_ORDERED": (
            "The invoice adds a charge that the purchase order, which states its own charges, does not"
            " carry (same reason, at most the ordered amount, at document or line level)."
        ),
    }
)

_v = Violations(CODES)


def _same_unit_price(line: Line, ordered: Line) -> bool:
    if line.price is None or ordered.price is None:
        return False
    # a / b == c / d  <=>  a * d == c * b  (exact, no division)
    return (
        line.price.amount * ordered.price.effective_base_quantity
        == ordered.price.amount * line.price.effective_base_quantity
    )


def check_match(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    order = t.order
    if order is None:
        return
    invoiced: dict[str, Decimal] = defaultdict(Decimal)
    delivered: dict[str, Decimal] = defaultdict(Decimal)
    for line in t.invoice.lines:
        match = match_line(order, line.order_line_ref, line.item)
        if match.line is None:
            yield _v(
                "MATCH_ORDER_LINE_NOT_FOUND",
                f"Invoice line {line.id} matches no order line: {match.reason}.",
                t.invoice,
                field="cac:OrderLineReference/cbc:LineID",
                line=line.id,
            )
            continue
        ordered = match.line
        if units_differ(line.unit_code, ordered.unit_code):
            yield _v(
                "MATCH_UNIT_MISMATCH",
                f"Invoice line {line.id} counts in {line.unit_code}, order line {ordered.id} in"
                f" {ordered.unit_code}.",
                t.invoice,
                field="cbc:InvoicedQuantity/@unitCode",
                line=line.id,
            )
        else:
            invoiced[ordered.id] += line.quantity
        if not _same_unit_price(line, ordered):
            order_price = (
                "no price" if ordered.price is None else f"{ordered.price.amount} {order.currency or ''}"
            )
            yield _v(
                "MATCH_PRICE_MISMATCH",
                f"Invoice line {line.id} is priced at {line.price.amount if line.price else 'nothing'}"
                f" {t.invoice.currency}, order line {ordered.id} at {order_price.strip()}"
                " (per base quantity).",
                t.invoice,
                field="cac:Price/cbc:PriceAmount",
                line=line.id,
            )
    yield from _collect_delivered(t, order, delivered)
    for ordered in order.lines:
        inv_qty, del_qty = invoiced.get(ordered.id), delivered.get(ordered.id, Decimal(0))
        if inv_qty is not None and inv_qty > del_qty:
            yield _v(
                "MATCH_INVOICED_EXCEEDS_DELIVERED",
                f"Order line {ordered.id}: {inv_qty} invoiced but only {del_qty} delivered.",
                t.invoice,
                field="cbc:InvoicedQuantity",
                line=ordered.id,
            )
        if del_qty > ordered.quantity:
            yield _v(
                "MATCH_DELIVERED_EXCEEDS_ORDERED",
                f"Order line {ordered.id}: {del_qty} delivered but only {ordered.quantity} ordered.",
                order,
                field="cac:OrderLine/cac:LineItem/cbc:Quantity",
                line=ordered.id,
            )


def _vat(category: TaxCategory) -> str:
    code, rate = category.key
    return f"{code} {rate.normalize():f}%"


def _ordered_vat(order: Order) -> set[tuple[str, Decimal]]:
    """Every VAT (category, rate) the order states: on its lines, allowances, charges and breakdown."""
    categories = [line.tax_category for line in order.lines]
    charges = [*order.allowance_charges, *(ac for line in order.lines for ac in line.allowance_charges)]
    categories += [ac.tax_category for ac in charges]
    categories += [sub.category for total in order.tax_totals for sub in total.subtotals]
    return {c.key for c in categories if c is not None}


def _charge_reason(charge: AllowanceCharge) -> str | None:
    """What a charge is for: its UNCL7161 reason code, else its reason text (case and spaces folded)."""
    if charge.reason_code:
        return "code:" + charge.reason_code.strip().upper()
    if charge.reason:
        return "text:" + " ".join(charge.reason.split()).casefold()
    return None


def _charge_ordered(charge: AllowanceCharge, ordered: Iterable[AllowanceCharge]) -> bool:
    reason = _charge_reason(charge)
    return any(
        o.is_charge and reason is not None and _charge_reason(o) == reason and charge.amount <= o.amount
        for o in ordered
    )


def check_terms(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    """The order is the agreement: no VAT rate and no charge it does not carry, when it states them."""
    order, inv = t.order, t.invoice
    if order is None:
        return
    ordered_vat = _ordered_vat(order)
    if ordered_vat:
        for line in inv.lines:
            if line.tax_category is None:
                continue
            matched = match_line(order, line.order_line_ref, line.item).line
            expected = None if matched is None else matched.tax_category
            if matched is not None and expected is not None and line.tax_category.key != expected.key:
                yield _v(
                    "MATCH_VAT_NOT_ORDERED",
                    f"Invoice line {line.id} applies VAT {_vat(line.tax_category)}; order line {matched.id}"
                    f" carries {_vat(expected)}.",
                    inv,
                    field="cac:Item/cac:ClassifiedTaxCategory",
                    line=line.id,
                )
            elif expected is None and line.tax_category.key not in ordered_vat:
                yield _v(
                    "MATCH_VAT_NOT_ORDERED",
                    f"Invoice line {line.id} applies VAT {_vat(line.tax_category)}, which purchase order"
                    f" {order.id} does not carry.",
                    inv,
                    field="cac:Item/cac:ClassifiedTaxCategory",
                    line=line.id,
                )
        for ac in inv.allowance_charges:
            if ac.tax_category is not None and ac.tax_category.key not in ordered_vat:
                kind = "charge" if ac.is_charge else "allowance"
                yield _v(
                    "MATCH_VAT_NOT_ORDERED",
                    f"The invoice's {kind} {ac.reason or ac.reason_code or ''} applies VAT"
                    f" {_vat(ac.tax_category)}, which purchase order {order.id} does not carry.".replace(
                        "  ", " "
                    ),
                    inv,
                    field="cac:AllowanceCharge/cac:TaxCategory",
                )
    order_charges = [ac for ac in order.allowance_charges if ac.is_charge]
    line_charges = [ac for line in order.lines for ac in line.allowance_charges if ac.is_charge]
    if not order_charges and not line_charges and order.monetary_total.charge_total is None:
        return  # the order says nothing about charges
    for ac in inv.allowance_charges:
        if ac.is_charge and not _charge_ordered(ac, order_charges):
            yield _v(
                "MATCH_CHARGE_NOT_ORDERED",
                f"The invoice charges {ac.amount} {inv.currency} for"
                f" {ac.reason or ac.reason_code or 'an unnamed reason'}; purchase order {order.id} carries no"
                " such charge (same reason, at most that amount).",
                inv,
                field="cac:AllowanceCharge",
            )
    for line in inv.lines:
        matched = match_line(order, line.order_line_ref, line.item).line
        ordered = () if matched is None else matched.allowance_charges
        for ac in line.allowance_charges:
            if ac.is_charge and not _charge_ordered(ac, ordered):
                yield _v(
                    "MATCH_CHARGE_NOT_ORDERED",
                    f"Invoice line {line.id} charges {ac.amount} {inv.currency} for"
                    f" {ac.reason or ac.reason_code or 'an unnamed reason'}; its order line carries no such"
                    " charge (same reason, at most that amount).",
                    inv,
                    field="cac:InvoiceLine/cac:AllowanceCharge",
                    line=line.id,
                )


def _collect_delivered(t: Trade, order: Order, delivered: dict[str, Decimal]) -> Iterator[Violation]:
    for doc in t.evidence:
        quantity_field = "cbc:ReceivedQuantity" if isinstance(doc, ReceiptAdvice) else "cbc:DeliveredQuantity"
        for dline in doc.lines:
            match = match_line(order, dline.order_line_ref, dline.item)
            if match.line is None:
                yield _v(
                    "MATCH_DELIVERY_LINE_NOT_FOUND",
                    f"Line {dline.id} of {doc.kind.value} {doc.id} matches no order line: {match.reason}.",
                    doc,
                    field="cac:OrderLineReference/cbc:LineID",
                    line=dline.id,
                )
            elif units_differ(dline.unit_code, match.line.unit_code):
                yield _v(
                    "MATCH_UNIT_MISMATCH",
                    f"Line {dline.id} of {doc.kind.value} {doc.id} counts in {dline.unit_code}, order line"
                    f" {match.line.id} in {match.line.unit_code}.",
                    doc,
                    field=f"{quantity_field}/@unitCode",
                    line=dline.id,
                )
            else:
                delivered[match.line.id] += dline.accepted_quantity


CHECKS = (check_match, check_terms)
