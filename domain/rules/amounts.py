"""Amounts: one currency, one the platform settles in; EN 16931 totals; something to finance, within
the debtor's unused credit.

:func:`face_value_minor` is the one computation of an invoice's face value in minor units: exact,
never rounded. The credit rule and the gateway's tokenization both use it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType

from domain.documents.model import Invoice, Order
from domain.documents.money import to_minor_units
from domain.documents.totals import TOTALS_CODES
from domain.documents.totals import check_totals as totals_gaps
from domain.rules.context import Trade, VerificationContext, Violation, Violations

__all__ = [
    "CHECKS",
    "CODES",
    "check_amount_and_credit",
    "check_currency",
    "check_settleable",
    "check_totals",
    "face_value_minor",
]

CODES: Mapping[str, str] = MappingProxyType(
    {
        "CURRENCY_MISMATCH": (
            "The bundle is not in one currency: the order and invoice currencies differ, or an amount's"
            " currencyID differs from its document's currency."
        ),
        "CURRENCY_NOT_SETTLEABLE": (
            "The invoice cannot be settled on the platform: its currency has no settlement token, or its"
            " payable amount is finer than the currency's minor unit."
        ),
        **TOTALS_CODES,
        "INVOICE_PAYABLE_NOT_POSITIVE": (
            "The invoice's payable amount is zero or negative: nothing to finance."
        ),
        "CREDIT_LIMIT_EXCEEDED": "The invoice's payable amount exceeds the debtor's unused credit line.",
    }
)

_v = Violations(CODES)


def face_value_minor(invoice: Invoice) -> int | None:
    """The invoice's payable amount in minor units of its currency, exactly: the receivable's face
    value. None when the invoice states no currency or the amount is finer than its minor unit."""
    if not invoice.currency:
        return None
    try:
        return to_minor_units(invoice.payable_amount, invoice.currency)
    except ValueError:
        return None


def check_currency(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    inv = t.invoice
    documents: list[Invoice | Order] = [inv] if t.order is None else [inv, t.order]
    for doc in documents:
        stray = sorted(doc.amount_currencies - {doc.currency})
        if doc.currency and stray:
            yield _v(
                "CURRENCY_MISMATCH",
                f"{doc.kind.value} {doc.id} is in {doc.currency} but has amounts in {', '.join(stray)}.",
                doc,
                field="@currencyID",
            )
    if t.order is not None:
        order_currencies = {t.order.currency} if t.order.currency else set(t.order.amount_currencies)
        if order_currencies and order_currencies != {inv.currency}:
            yield _v(
                "CURRENCY_MISMATCH",
                f"The invoice is in {inv.currency} but purchase order {t.order.id} is in"
                f" {', '.join(sorted(order_currencies))}.",
                inv,
                field="cbc:DocumentCurrencyCode",
            )


def check_settleable(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    inv = t.invoice
    allowed = ctx.settlement_currencies
    if allowed is not None and inv.currency not in allowed:
        yield _v(
            "CURRENCY_NOT_SETTLEABLE",
            f"{inv.id} is in {inv.currency}; the platform settles in {', '.join(sorted(allowed))}.",
            inv,
            field="cbc:DocumentCurrencyCode",
        )
    elif inv.payable_amount > 0 and face_value_minor(inv) is None:
        yield _v(
            "CURRENCY_NOT_SETTLEABLE",
            f"The invoice's payable amount {inv.payable_amount} {inv.currency} is finer than the"
            " currency's minor unit: it is no face value.",
            inv,
            field="cac:LegalMonetaryTotal/cbc:PayableAmount",
        )


def check_totals(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    inv = t.invoice
    for gap in totals_gaps(inv):
        where = f"Line {gap.line}: " if gap.line is not None else ""
        stated = "nothing" if gap.stated is None else f"{gap.stated} {inv.currency}"
        yield _v(
            gap.code,
            f"{where}{gap.field.rsplit('/', 1)[-1].removeprefix('cbc:')} states {stated}, but the"
            f" invoice's own figures give {gap.computed} {inv.currency}.",
            inv,
            field=gap.field,
            line=gap.line,
        )


def check_amount_and_credit(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    inv = t.invoice
    payable = inv.payable_amount
    if payable <= 0:
        yield _v(
            "INVOICE_PAYABLE_NOT_POSITIVE",
            f"The invoice's payable amount is {payable} {inv.currency}; there is nothing to finance.",
            inv,
            field="cac:LegalMonetaryTotal/cbc:PayableAmount",
        )
        return
    face = face_value_minor(inv)
    if face is None:
        return  # no exact face value: CURRENCY_NOT_SETTLEABLE
    if face > ctx.unused_credit_minor:
        yield _v(
            "CREDIT_LIMIT_EXCEEDED",
            f"The invoice's payable amount ({face} minor units of {inv.currency}) exceeds the debtor's"
            f" unused credit line ({ctx.unused_credit_minor}).",
            inv,
            field="cac:LegalMonetaryTotal/cbc:PayableAmount",
        )


CHECKS = (check_currency, check_settleable, check_totals, check_amount_and_credit)
