"""Bundle shape: one invoice (not a credit note), one purchase order, delivery evidence, nothing twice.

:func:`check_shape` runs first: with no invoice, two invoices or orders, or a delivery document
given twice, the other rules do not run (they would not know which document to judge, or would
count quantities twice).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from domain.documents.model import DocumentKind
from domain.rules.context import Bundle, Trade, Violation, Violations

__all__ = ["CODES", "CREDIT_NOTE_TYPE_CODES", "check_shape", "trade_of"]

CODES: Mapping[str, str] = MappingProxyType(
    {
        "BUNDLE_MISSING_DOCUMENT": (
            "The bundle lacks the invoice, the purchase order, or delivery evidence (a despatch advice"
            " or a receipt advice)."
        ),
        "BUNDLE_DUPLICATE_DOCUMENT": (
            "The bundle holds more than one invoice or more than one purchase order, or the same"
            " delivery document twice (same kind and ID, or same bytes)."
        ),
        "INVOICE_NOT_FINANCEABLE": (
            "The document offered for tokenization is a credit note (a CreditNote, or an invoice type"
            " code such as 381), not an invoice."
        ),
    }
)

CREDIT_NOTE_TYPE_CODES: frozenset[str] = frozenset(
    {"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"}
)
"""UNCL1001 document type codes that mean a credit note, whatever the root element says."""

_v = Violations(CODES)


def check_shape(bundle: Bundle) -> tuple[list[Violation], Trade | None]:
    """The shape violations, and the trade to judge (None when the other rules must not run)."""
    invoices, orders = bundle.invoices, bundle.orders
    found: list[Violation] = []
    for docs, name in ((invoices, "invoice"), (orders, "purchase order")):
        if len(docs) > 1:
            found.append(
                _v(
                    "BUNDLE_DUPLICATE_DOCUMENT",
                    f"The bundle holds {len(docs)} documents of kind {name} "
                    f"({', '.join(doc.id for doc in docs)}); it must hold one.",
                    None,
                )
            )
    seen: set[tuple[str, str] | bytes] = set()
    deliveries = bundle.deliveries
    for doc in deliveries:
        keys: set[tuple[str, str] | bytes] = {(doc.kind.value, doc.id.strip())}
        if len(deliveries) > 1 and doc.source_hash:  # a lone delivery repeats nothing: no hash needed
            keys.add(doc.source_hash)
        if not seen.isdisjoint(keys):
            found.append(
                _v(
                    "BUNDLE_DUPLICATE_DOCUMENT",
                    f"{doc.kind.value} {doc.id} is in the bundle twice; its quantities would count twice.",
                    doc,
                )
            )
        seen |= keys
    for present, name in (
        (invoices, "an invoice"),
        (orders, "a purchase order"),
        (bundle.deliveries, "delivery evidence (a despatch advice or a receipt advice)"),
    ):
        if not present:
            found.append(_v("BUNDLE_MISSING_DOCUMENT", f"The bundle lacks {name}.", None))
    if len(invoices) != 1 or any(v.code == "BUNDLE_DUPLICATE_DOCUMENT" for v in found):
        return found, None
    invoice = invoices[0]
    if invoice.kind is DocumentKind.CREDIT_NOTE or invoice.type_code in CREDIT_NOTE_TYPE_CODES:
        found.append(
            _v(
                "INVOICE_NOT_FINANCEABLE",
                f"{invoice.id} is a credit note; only invoices can be tokenized.",
                invoice,
                field="cbc:CreditNoteTypeCode"
                if invoice.kind is DocumentKind.CREDIT_NOTE
                else "cbc:InvoiceTypeCode",
            )
        )
    return found, Trade(invoice, orders[0] if orders else None, bundle.deliveries)


def trade_of(bundle: Bundle) -> Trade | None:
    """The trade the rules judge, or None when the bundle's shape stops them."""
    return check_shape(bundle)[1]
