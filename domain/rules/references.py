"""Cross references: the invoice and the delivery documents refer to the bundle's order, and the
invoice only to delivery documents in the bundle."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from types import MappingProxyType

from domain.documents.model import DeliveryDocument, DespatchAdvice, Order, ReceiptAdvice
from domain.rules.context import Trade, VerificationContext, Violation, Violations

__all__ = ["CHECKS", "CODES", "check_references"]

CODES: Mapping[str, str] = MappingProxyType(
    {
        "REF_INVOICE_ORDER_MISMATCH": (
            "The invoice does not refer (OrderReference/ID) to the bundle's purchase order."
        ),
        "REF_DELIVERY_ORDER_MISMATCH": (
            "A delivery document does not refer (OrderReference/ID, in its header or on its lines) to"
            " the bundle's purchase order, or refers to another order."
        ),
        "REF_INVOICE_DELIVERY_MISMATCH": (
            "The invoice names a despatch or receipt advice (DespatchDocumentReference or"
            " ReceiptDocumentReference) that is not in the bundle."
        ),
    }
)

_v = Violations(CODES)


def check_references(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    inv, order = t.invoice, t.order
    if order is not None:
        if inv.order_reference is None or inv.order_reference.strip() != order.id.strip():
            stated = "no order" if inv.order_reference is None else f"order {inv.order_reference}"
            yield _v(
                "REF_INVOICE_ORDER_MISMATCH",
                f"The invoice refers to {stated}, not to purchase order {order.id}.",
                inv,
                field="cac:OrderReference/cbc:ID",
            )
        for doc in t.deliveries:
            yield from _delivery_order_refs(doc, order)
    for refs, kind, doc_type in (
        (inv.despatch_references, DespatchAdvice, "despatch advice"),
        (inv.receipt_references, ReceiptAdvice, "receipt advice"),
    ):
        present = {doc.id.strip() for doc in t.deliveries if isinstance(doc, kind)}
        for ref in refs:
            if ref.strip() not in present:
                yield _v(
                    "REF_INVOICE_DELIVERY_MISMATCH",
                    f"The invoice names {doc_type} {ref}, which is not in the bundle.",
                    inv,
                    field=(
                        "cac:DespatchDocumentReference/cbc:ID"
                        if kind is DespatchAdvice
                        else "cac:ReceiptDocumentReference/cbc:ID"
                    ),
                )


def _delivery_order_refs(doc: DeliveryDocument, order: Order) -> Iterator[Violation]:
    expected = order.id.strip()
    header = doc.order_reference
    # every order the header names (a despatch advice may name several): a delivery of another order
    # would otherwise count its goods as delivered for this one
    for named in dict.fromkeys(((header,) if header is not None else ()) + doc.order_references):
        if named.strip() != expected:
            yield _v(
                "REF_DELIVERY_ORDER_MISMATCH",
                f"{doc.kind.value} {doc.id} refers to order {named}, not to purchase order {order.id}.",
                doc,
                field="cac:OrderReference/cbc:ID",
            )
    for line in doc.lines:
        if line.order_ref is not None and line.order_ref.strip() != expected:
            yield _v(
                "REF_DELIVERY_ORDER_MISMATCH",
                f"Line {line.id} of {doc.kind.value} {doc.id} refers to order {line.order_ref}, not to"
                f" purchase order {order.id}.",
                doc,
                field="cac:OrderLineReference/cac:OrderReference/cbc:ID",
                line=line.id,
            )
    if header is None and any(line.order_ref is None for line in doc.lines):
        yield _v(
            "REF_DELIVERY_ORDER_MISMATCH",
            f"{doc.kind.value} {doc.id} does not say which order it delivers.",
            doc,
            field="cac:OrderReference/cbc:ID",
        )


CHECKS = (check_references,)
