"""Line matching: which order line an invoice or delivery line is for, in which unit; and what an
invoice finances of each order line (:func:`line_uses`, for the platform-wide quantity accounting).

Shared by the three-way match rules (:mod:`domain.rules.match`) and the gateway's consumption check.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from domain.documents.model import DeliveryDocument, DocumentKind, Item, Line, Order, ReceiptAdvice
from domain.rules.context import Bundle
from domain.rules.structure import trade_of

__all__ = [
    "UNIT_EQUIVALENTS",
    "DeliveryShare",
    "LineMatch",
    "LineUse",
    "canonical_unit",
    "line_uses",
    "match_line",
    "units_differ",
]

UNIT_EQUIVALENTS: Mapping[str, str] = MappingProxyType({"EA": "C62", "H87": "C62", "NAR": "C62"})
"""UN/ECE Rec 20 codes that all count single units ("each", "piece", "number of articles", "one")."""


def canonical_unit(code: str | None) -> str | None:
    """The unit code as compared: upper case, single-unit codes as ``C62``."""
    return None if code is None else UNIT_EQUIVALENTS.get(code.upper(), code.upper())


def units_differ(a: str | None, b: str | None) -> bool:
    """Whether two stated units differ (a unit not stated differs from none)."""
    return a is not None and b is not None and canonical_unit(a) != canonical_unit(b)


@dataclass(frozen=True, slots=True)
class LineMatch:
    """The order line a line is for, or None and why not."""

    line: Line | None
    reason: str = ""


def match_line(order: Order, ref: str | None, item: Item) -> LineMatch:
    """Find the order line by LineID or, when the line names none, by a shared item identifier."""
    if ref is not None:
        for line in order.lines:
            if line.id.strip() == ref.strip():
                return LineMatch(line)
        return LineMatch(None, f"order {order.id} has no line {ref}")
    keys = item.keys
    if not keys:
        return LineMatch(None, "it names neither an order line nor an item identifier")
    candidates = [line for line in order.lines if not keys.isdisjoint(line.item.keys)]
    if len(candidates) == 1:
        return LineMatch(candidates[0])
    if not candidates:
        return LineMatch(None, f"no line of order {order.id} has its item identifier")
    return LineMatch(None, f"its item identifier fits {len(candidates)} lines of order {order.id}")


@dataclass(frozen=True, slots=True)
class DeliveryShare:
    """What one delivery document delivered of an order line (accepted quantity, summed over its lines).

    ``kind`` and ``document_id`` name the delivery counter the quantity is kept on: a receipt
    advice that names exactly one despatch advice (DespatchDocumentReference) counts on that
    despatch advice, so the buyer's receipt and the supplier's despatch of the same goods are one
    delivery.
    """

    kind: str
    document_id: str
    delivered: Decimal


@dataclass(frozen=True, slots=True)
class LineUse:
    """How much of one order line the bundle's invoice finances, and the deliveries that carry it."""

    order_id: str
    order_line: str
    ordered: Decimal
    invoiced: Decimal
    deliveries: tuple[DeliveryShare, ...]


def _delivery_counter(doc: DeliveryDocument) -> tuple[str, str]:
    if isinstance(doc, ReceiptAdvice) and len(doc.despatch_references) == 1:
        return DocumentKind.DESPATCH_ADVICE.value, doc.despatch_references[0].strip()
    return doc.kind.value, doc.id.strip()


def line_uses(bundle: Bundle) -> tuple[LineUse, ...]:
    """Per order line, the quantity this invoice finances (net of correction lines, only if positive)
    and the delivery documents that deliver that line, for platform-wide consumption accounting.

    Empty when the bundle has no single invoice and order. Lines that match no order line or count
    in another unit are left out (the match rules refuse them anyway).
    """
    trade = trade_of(bundle)
    if trade is None or trade.order is None:
        return ()
    order = trade.order
    invoiced: dict[str, Decimal] = defaultdict(Decimal)
    for line in trade.invoice.lines:
        ordered = match_line(order, line.order_line_ref, line.item).line
        if ordered is not None and not units_differ(line.unit_code, ordered.unit_code):
            invoiced[ordered.id] += line.quantity
    delivered: dict[str, dict[tuple[str, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for doc in trade.evidence:
        counter = _delivery_counter(doc)
        for dline in doc.lines:
            ordered = match_line(order, dline.order_line_ref, dline.item).line
            if ordered is not None and not units_differ(dline.unit_code, ordered.unit_code):
                delivered[ordered.id][counter] += dline.accepted_quantity
    return tuple(
        LineUse(
            order_id=order.id.strip(),
            order_line=line.id.strip(),
            ordered=line.quantity,
            invoiced=invoiced[line.id],
            deliveries=tuple(
                DeliveryShare(kind, doc_id, quantity)
                for (kind, doc_id), quantity in sorted(delivered[line.id].items())
            ),
        )
        for line in order.lines
        if invoiced.get(line.id, Decimal(0)) > 0
    )
