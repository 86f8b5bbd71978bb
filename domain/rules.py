"""Verification rules for a trade-background bundle: purchase order, delivery evidence, invoice.

Pure functions: no database, no chain, no clock. Whatever the rules need to know about the world
comes from a :class:`VerificationContext`. :func:`verify_bundle` runs every rule and returns every
violation, in rule order; an empty list means the invoice may be tokenized as far as the documents
are concerned. Other checks (signatures and certificates live in ``domain.identity``) plug in through
``extra_rules`` or ``extra_violations``.

:data:`RULE_CODES` lists every code with its meaning, for documentation and API clients.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field
from datetime import timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Protocol

from domain.documents.model import (
    AllowanceCharge,
    DeliveryDocument,
    DespatchAdvice,
    Document,
    DocumentKind,
    Invoice,
    Item,
    Line,
    Order,
    Party,
    PartyRef,
    ReceiptAdvice,
    TaxCategory,
)
from domain.documents.money import to_minor_units
from domain.documents.totals import TOTALS_CODES, check_totals
from domain.documents.ubl import invoice_fingerprint

__all__ = [
    "CREDIT_NOTE_TYPE_CODES",
    "RULE_CODES",
    "UNIT_EQUIVALENTS",
    "Bundle",
    "DeliveryShare",
    "LineUse",
    "PartyResolution",
    "Rule",
    "StaticContext",
    "Trade",
    "VerificationContext",
    "Violation",
    "invoice_fingerprints",
    "line_uses",
    "resolve_party",
    "verify_bundle",
]

_OWN_CODES: dict[str, str] = {
    # Bundle shape
    "BUNDLE_MISSING_DOCUMENT": (
        "The bundle lacks the invoice, the purchase order, or delivery evidence (a despatch advice or"
        " a receipt advice)."
    ),
    "BUNDLE_DUPLICATE_DOCUMENT": (
        "The bundle holds more than one invoice or more than one purchase order, or the same delivery"
        " document twice (same kind and ID, or same bytes)."
    ),
    "INVOICE_NOT_FINANCEABLE": (
        "The document offered for tokenization is a credit note (a CreditNote, or an invoice type code"
        " such as 381), not an invoice."
    ),
    # Parties
    "PARTY_IDENTIFIERS_CONFLICT": (
        "A party's identifiers (EndpointID, PartyIdentification, legal or tax company id) belong to more"
        " than one registered participant."
    ),
    "PARTY_SELLER_NOT_SUBMITTER": (
        "The invoice's seller shares no identifier with the supplier who submits the bundle."
    ),
    "PARTY_SELLER_NOT_REGISTERED": "No identifier of the invoice's seller belongs to a registered supplier.",
    "PARTY_SELLER_MISMATCH": "The invoice's seller is not the seller (supplier) named in the purchase order.",
    "PARTY_BUYER_MISMATCH": "The invoice's buyer is not the buyer named in the purchase order.",
    "PARTY_BUYER_NOT_CORE_ENTERPRISE": (
        "No identifier of the invoice's buyer belongs to a registered core enterprise."
    ),
    "PARTY_DELIVERY_SELLER_MISMATCH": (
        "A delivery document's supplier (SellerSupplierParty, else DespatchSupplierParty) is not the"
        " invoice's seller."
    ),
    "PARTY_DELIVERY_BUYER_MISMATCH": "A delivery document names a buyer that is not the invoice's buyer.",
    # Cross references
    "REF_INVOICE_ORDER_MISMATCH": (
        "The invoice does not refer (OrderReference/ID) to the bundle's purchase order."
    ),
    "REF_DELIVERY_ORDER_MISMATCH": (
        "A delivery document does not refer (OrderReference/ID, in its header or on its lines) to the"
        " bundle's purchase order, or refers to another order."
    ),
    "REF_INVOICE_DELIVERY_MISMATCH": (
        "The invoice names a despatch or receipt advice (DespatchDocumentReference or"
        " ReceiptDocumentReference) that is not in the bundle."
    ),
    # Three-way match
    "MATCH_ORDER_LINE_NOT_FOUND": (
        "An invoice line matches no single order line, neither by OrderLineReference/LineID nor, when it"
        " has none, by item identifier."
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
    # Currency
    "CURRENCY_MISMATCH": (
        "The bundle is not in one currency: the order and invoice currencies differ, or an amount's"
        " currencyID differs from its document's currency."
    ),
    # Amounts and credit (the TOTAL_* arithmetic codes from domain.documents.totals go before these)
    "INVOICE_PAYABLE_NOT_POSITIVE": "The invoice's payable amount is zero or negative: nothing to finance.",
    "CREDIT_LIMIT_EXCEEDED": "The invoice's payable amount exceeds the debtor's unused credit line.",
    # Dates
    "DATE_DELIVERY_BEFORE_ORDER": "Goods were delivered before the purchase order was issued.",
    "DATE_INVOICE_BEFORE_DELIVERY": "The invoice was issued before the goods were delivered.",
    "DATE_DUE_MISSING": "The invoice states no due date (DueDate or PaymentMeans/PaymentDueDate).",
    "DATE_DUE_NOT_AFTER_ISSUE": "The invoice's due date is not after its issue date.",
    "DATE_TENOR_EXCEEDED": "The invoice's due date is further from its issue date than the maximum tenor.",
    # Duplicates
    "DUPLICATE_INVOICE_NUMBER": "An invoice with this seller and (normalized) number is already tokenized.",
    "DUPLICATE_INVOICE_DOCUMENT": "This exact invoice document (same bytes) is already tokenized.",
}


def _in_rule_order() -> dict[str, str]:
    """The registry in the order the rules run: the TOTAL_* codes follow the currency rule."""
    ordered: dict[str, str] = {}
    for code, meaning in _OWN_CODES.items():
        if code == "INVOICE_PAYABLE_NOT_POSITIVE":
            ordered.update(TOTALS_CODES)
        ordered[code] = meaning
    return ordered


RULE_CODES: Mapping[str, str] = MappingProxyType(_in_rule_order())
"""Every violation code :func:`verify_bundle` can report, with a one-sentence meaning, in rule order."""

CREDIT_NOTE_TYPE_CODES: frozenset[str] = frozenset(
    {"81", "83", "261", "262", "296", "308", "381", "396", "420", "458", "532"}
)
"""UNCL1001 document type codes that mean a credit note, whatever the root element says."""

UNIT_EQUIVALENTS: Mapping[str, str] = MappingProxyType({"EA": "C62", "H87": "C62", "NAR": "C62"})
"""UN/ECE Rec 20 codes that all count single units ("each", "piece", "number of articles", "one")."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One failed rule. ``document`` is the document kind (or ``Bundle``), ``line`` a line ID."""

    code: str
    message: str
    document: str
    document_id: str | None = None
    field: str | None = None
    line: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)


class VerificationContext(Protocol):
    """What the rules need to know beyond the documents; the gateway implements it over its stores."""

    @property
    def supplier_ids(self) -> frozenset[PartyRef]:
        """Registered identifiers of the supplier who submits the bundle."""
        ...

    @property
    def max_tenor_days(self) -> int:
        """Longest allowed time from invoice issue to due date."""
        ...

    @property
    def unused_credit_minor(self) -> int:
        """Debtor's unused credit line in minor units of the invoice currency."""
        ...

    def is_core_enterprise(self, ref: PartyRef) -> bool: ...

    def is_registered_supplier(self, ref: PartyRef) -> bool: ...

    def participant_of(self, ref: PartyRef) -> str | None:
        """The registered participant (any role or status) holding this identifier, or None."""
        ...

    def is_fingerprint_tokenized(self, fingerprint: bytes) -> bool: ...

    def is_document_tokenized(self, document_hash: bytes) -> bool: ...


@dataclass(frozen=True, slots=True)
class StaticContext:
    """A :class:`VerificationContext` from plain values (tests, batch checks)."""

    supplier_ids: frozenset[PartyRef]
    max_tenor_days: int
    unused_credit_minor: int
    core_enterprises: frozenset[PartyRef] = frozenset()
    registered_suppliers: frozenset[PartyRef] = frozenset()
    tokenized_fingerprints: frozenset[bytes] = frozenset()
    tokenized_documents: frozenset[bytes] = frozenset()
    participants: Mapping[PartyRef, str] = dataclass_field(default_factory=dict)
    """Registered identifiers and the participant (any key) that holds each."""

    def is_core_enterprise(self, ref: PartyRef) -> bool:
        return ref in self.core_enterprises

    def participant_of(self, ref: PartyRef) -> str | None:
        return self.participants.get(ref)

    def is_registered_supplier(self, ref: PartyRef) -> bool:
        return ref in self.registered_suppliers

    def is_fingerprint_tokenized(self, fingerprint: bytes) -> bool:
        return fingerprint in self.tokenized_fingerprints

    def is_document_tokenized(self, document_hash: bytes) -> bool:
        return document_hash in self.tokenized_documents


@dataclass(frozen=True, slots=True)
class Bundle:
    """The documents submitted together, in any order."""

    documents: tuple[Document, ...]

    @classmethod
    def of(cls, *documents: Document) -> Bundle:
        return cls(tuple(documents))

    @property
    def invoices(self) -> tuple[Invoice, ...]:
        return tuple(doc for doc in self.documents if isinstance(doc, Invoice))

    @property
    def orders(self) -> tuple[Order, ...]:
        return tuple(doc for doc in self.documents if isinstance(doc, Order))

    @property
    def deliveries(self) -> tuple[DeliveryDocument, ...]:
        return tuple(doc for doc in self.documents if isinstance(doc, DespatchAdvice | ReceiptAdvice))


Rule = Callable[[Bundle, VerificationContext], Iterable[Violation]]
"""An extra rule for :func:`verify_bundle`, e.g. signature checks from ``domain.identity``."""


# --------------------------------------------------------------------------------------------------
# Line matching
# --------------------------------------------------------------------------------------------------


def _unit(code: str | None) -> str | None:
    return None if code is None else UNIT_EQUIVALENTS.get(code.upper(), code.upper())


def _units_differ(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and _unit(a) != _unit(b)


@dataclass(frozen=True, slots=True)
class _Match:
    line: Line | None
    reason: str = ""


def _match(order: Order, ref: str | None, item: Item) -> _Match:
    """Find the order line by LineID or, when the line names none, by a shared item identifier."""
    if ref is not None:
        for line in order.lines:
            if line.id.strip() == ref.strip():
                return _Match(line)
        return _Match(None, f"order {order.id} has no line {ref}")
    keys = item.keys
    if not keys:
        return _Match(None, "it names neither an order line nor an item identifier")
    candidates = [line for line in order.lines if not keys.isdisjoint(line.item.keys)]
    if len(candidates) == 1:
        return _Match(candidates[0])
    if not candidates:
        return _Match(None, f"no line of order {order.id} has its item identifier")
    return _Match(None, f"its item identifier fits {len(candidates)} lines of order {order.id}")


@dataclass(frozen=True, slots=True)
class Trade:
    """A bundle with exactly one invoice: the invoice, its order (if any) and delivery documents."""

    invoice: Invoice
    order: Order | None
    deliveries: tuple[DeliveryDocument, ...]

    @property
    def evidence(self) -> tuple[DeliveryDocument, ...]:
        """The delivery documents whose quantities count.

        Receipt advices are the buyer's own word on what arrived; when present they replace
        despatch advices as evidence, so the same goods are not counted twice.
        """
        receipts = tuple(doc for doc in self.deliveries if isinstance(doc, ReceiptAdvice))
        return receipts or self.deliveries


# --------------------------------------------------------------------------------------------------
# Rules
# --------------------------------------------------------------------------------------------------


def _v(
    code: str,
    message: str,
    doc: Document | None,
    *,
    field: str | None = None,
    line: str | None = None,
) -> Violation:
    if code not in RULE_CODES:
        raise KeyError(f"unregistered rule code {code}")
    return Violation(
        code=code,
        message=message,
        document="Bundle" if doc is None else doc.kind.value,
        document_id=None if doc is None else doc.id,
        field=field,
        line=line,
    )


def _ids(refs: Iterable[PartyRef]) -> str:
    return ", ".join(ref.key for ref in sorted(refs)) or "no identifier"


@dataclass(frozen=True, slots=True)
class PartyResolution:
    """Which registered participant a party names.

    ``known`` holds every identifier of the party that a registered participant holds, with that
    participant, sorted by identifier. ``participant`` is the one participant they all name, or
    None when none is known or they name several (``conflict``).
    """

    known: tuple[tuple[PartyRef, str], ...]

    @property
    def participants(self) -> tuple[str, ...]:
        return tuple(sorted({participant for _, participant in self.known}))

    @property
    def participant(self) -> str | None:
        found = self.participants
        return found[0] if len(found) == 1 else None

    @property
    def conflict(self) -> bool:
        return len(self.participants) > 1


def resolve_party(
    party: Party | Iterable[PartyRef], participant_of: Callable[[PartyRef], str | None]
) -> PartyResolution:
    """Resolve a party's identifiers to registered participants, in identifier order.

    Unknown identifiers are ignored; the result never depends on set iteration order.
    """
    refs = party.refs if isinstance(party, Party) else frozenset(party)
    known = tuple((ref, who) for ref in sorted(refs) if (who := participant_of(ref)) is not None)
    return PartyResolution(known)


def _same_party(a: Party, b: Party, ctx: VerificationContext) -> bool:
    """Two parties are the same when they resolve to the same registered participant.

    When either names no single registered participant, they are the same when they share at
    least one identifier (unknown identifiers included), as before.
    """
    first, second = resolve_party(a, ctx.participant_of), resolve_party(b, ctx.participant_of)
    if first.participant is not None and second.participant is not None:
        return first.participant == second.participant
    return a.shares_identifier(b)


def _parties(t: Trade) -> Iterator[tuple[Document, str, str, Party]]:
    """Every party of the trade's documents: (document, role, path, party)."""
    inv = t.invoice
    yield inv, "seller", "cac:AccountingSupplierParty/cac:Party", inv.seller
    yield inv, "buyer", "cac:AccountingCustomerParty/cac:Party", inv.buyer
    if t.order is not None:
        yield t.order, "buyer", "cac:BuyerCustomerParty/cac:Party", t.order.buyer
        yield t.order, "seller", "cac:SellerSupplierParty/cac:Party", t.order.seller
    for doc in t.deliveries:
        yield doc, "despatching party", "cac:DespatchSupplierParty/cac:Party", doc.despatch_supplier
        yield doc, "delivery customer", "cac:DeliveryCustomerParty/cac:Party", doc.delivery_customer
        if doc.buyer is not None:
            yield doc, "buyer", "cac:BuyerCustomerParty/cac:Party", doc.buyer
        if doc.seller is not None:
            yield doc, "seller", "cac:SellerSupplierParty/cac:Party", doc.seller


def _check_party_identity(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    for doc, role, path, party in _parties(t):
        resolution = resolve_party(party, ctx.participant_of)
        if resolution.conflict:
            groups = [
                _ids(ref for ref, who in resolution.known if who == participant)
                for participant in resolution.participants
            ]
            yield _v(
                "PARTY_IDENTIFIERS_CONFLICT",
                f"The {role} of {doc.kind.value} {doc.id} ({party.display_name}) carries identifiers of"
                f" {len(groups)} different registered participants: {'; '.join(groups)}. A party must"
                " be one participant.",
                doc,
                field=path,
            )


def _check_parties(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    inv = t.invoice
    seller, buyer = inv.seller, inv.buyer
    seller_path = "cac:AccountingSupplierParty/cac:Party"
    buyer_path = "cac:AccountingCustomerParty/cac:Party"
    if not _same_party(seller, Party(identifiers=tuple(sorted(ctx.supplier_ids))), ctx):
        yield _v(
            "PARTY_SELLER_NOT_SUBMITTER",
            f"The invoice's seller {seller.display_name} ({_ids(seller.refs)}) is not the submitting"
            f" supplier ({_ids(ctx.supplier_ids)}).",
            inv,
            field=seller_path,
        )
    if not any(ctx.is_registered_supplier(ref) for ref in seller.refs):
        yield _v(
            "PARTY_SELLER_NOT_REGISTERED",
            f"The invoice's seller {seller.display_name} ({_ids(seller.refs)}) is not a registered supplier.",
            inv,
            field=seller_path,
        )
    if not any(ctx.is_core_enterprise(ref) for ref in buyer.refs):
        yield _v(
            "PARTY_BUYER_NOT_CORE_ENTERPRISE",
            f"The invoice's buyer {buyer.display_name} ({_ids(buyer.refs)}) is not a registered core"
            " enterprise.",
            inv,
            field=buyer_path,
        )
    if t.order is not None:
        if not _same_party(seller, t.order.seller, ctx):
            yield _v(
                "PARTY_SELLER_MISMATCH",
                f"The invoice's seller {seller.display_name} is not the supplier of purchase order"
                f" {t.order.id} ({t.order.seller.display_name}); they are different parties.",
                inv,
                field=seller_path,
            )
        if not _same_party(buyer, t.order.buyer, ctx):
            yield _v(
                "PARTY_BUYER_MISMATCH",
                f"The invoice's buyer {buyer.display_name} is not the buyer of purchase order"
                f" {t.order.id} ({t.order.buyer.display_name}); they are different parties.",
                inv,
                field=buyer_path,
            )
    for doc in t.deliveries:
        if not _same_party(doc.supplier, seller, ctx):
            yield _v(
                "PARTY_DELIVERY_SELLER_MISMATCH",
                f"{doc.kind.value} {doc.id} comes from {doc.supplier.display_name}, not from the invoice's"
                f" seller {seller.display_name}.",
                doc,
                field="cac:SellerSupplierParty" if doc.seller is not None else "cac:DespatchSupplierParty",
            )
        if doc.buyer is not None and not _same_party(doc.buyer, buyer, ctx):
            yield _v(
                "PARTY_DELIVERY_BUYER_MISMATCH",
                f"{doc.kind.value} {doc.id} names the buyer {doc.buyer.display_name}, not the invoice's"
                f" buyer {buyer.display_name}.",
                doc,
                field="cac:BuyerCustomerParty",
            )


def _check_references(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
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


def _same_unit_price(line: Line, ordered: Line) -> bool:
    if line.price is None or ordered.price is None:
        return False
    # a / b == c / d  <=>  a * d == c * b  (exact, no division)
    return (
        line.price.amount * ordered.price.effective_base_quantity
        == ordered.price.amount * line.price.effective_base_quantity
    )


def _check_match(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    order = t.order
    if order is None:
        return
    invoiced: dict[str, Decimal] = defaultdict(Decimal)
    delivered: dict[str, Decimal] = defaultdict(Decimal)
    for line in t.invoice.lines:
        match = _match(order, line.order_line_ref, line.item)
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
        if _units_differ(line.unit_code, ordered.unit_code):
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


def _check_terms(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    """The order is the agreement: no VAT rate and no charge it does not carry, when it states them."""
    order, inv = t.order, t.invoice
    if order is None:
        return
    ordered_vat = _ordered_vat(order)
    if ordered_vat:
        for line in inv.lines:
            if line.tax_category is None:
                continue
            matched = _match(order, line.order_line_ref, line.item).line
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
        matched = _match(order, line.order_line_ref, line.item).line
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
            match = _match(order, dline.order_line_ref, dline.item)
            if match.line is None:
                yield _v(
                    "MATCH_DELIVERY_LINE_NOT_FOUND",
                    f"Line {dline.id} of {doc.kind.value} {doc.id} matches no order line: {match.reason}.",
                    doc,
                    field="cac:OrderLineReference/cbc:LineID",
                    line=dline.id,
                )
            elif _units_differ(dline.unit_code, match.line.unit_code):
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
    trade = _check_shape(bundle)[1]
    if trade is None or trade.order is None:
        return ()
    order = trade.order
    invoiced: dict[str, Decimal] = defaultdict(Decimal)
    for line in trade.invoice.lines:
        ordered = _match(order, line.order_line_ref, line.item).line
        if ordered is not None and not _units_differ(line.unit_code, ordered.unit_code):
            invoiced[ordered.id] += line.quantity
    delivered: dict[str, dict[tuple[str, str], Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for doc in trade.evidence:
        counter = _delivery_counter(doc)
        for dline in doc.lines:
            ordered = _match(order, dline.order_line_ref, dline.item).line
            if ordered is not None and not _units_differ(dline.unit_code, ordered.unit_code):
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


def _check_currency(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
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


def _check_totals(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    inv = t.invoice
    for gap in check_totals(inv):
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


def _check_amount_and_credit(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
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
    minor = to_minor_units(payable, inv.currency or "", exact=False)
    if minor > ctx.unused_credit_minor:
        yield _v(
            "CREDIT_LIMIT_EXCEEDED",
            f"The invoice's payable amount ({minor} minor units of {inv.currency}) exceeds the debtor's"
            f" unused credit line ({ctx.unused_credit_minor}).",
            inv,
            field="cac:LegalMonetaryTotal/cbc:PayableAmount",
        )


def _check_dates(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    inv = t.invoice
    for doc in t.deliveries:
        delivered = doc.evidence_date
        if t.order is not None and delivered < t.order.issue_date:
            yield _v(
                "DATE_DELIVERY_BEFORE_ORDER",
                f"{doc.kind.value} {doc.id} shows delivery on {delivered}, before purchase order"
                f" {t.order.id} was issued on {t.order.issue_date}.",
                doc,
            )
        if inv.issue_date < delivered:
            yield _v(
                "DATE_INVOICE_BEFORE_DELIVERY",
                f"The invoice was issued on {inv.issue_date}, before the delivery on {delivered}"
                f" ({doc.kind.value} {doc.id}).",
                inv,
                field="cbc:IssueDate",
            )
    if inv.due_date is None:
        yield _v("DATE_DUE_MISSING", "The invoice states no due date.", inv, field="cbc:DueDate")
        return
    if inv.due_date <= inv.issue_date:
        yield _v(
            "DATE_DUE_NOT_AFTER_ISSUE",
            f"The invoice is due on {inv.due_date}, not after its issue date {inv.issue_date}.",
            inv,
            field="cbc:DueDate",
        )
    latest = inv.issue_date + timedelta(days=ctx.max_tenor_days)
    if inv.due_date > latest:
        yield _v(
            "DATE_TENOR_EXCEEDED",
            f"The invoice is due on {inv.due_date}, {(inv.due_date - inv.issue_date).days} days after issue;"
            f" at most {ctx.max_tenor_days} days ({latest}) are allowed.",
            inv,
            field="cbc:DueDate",
        )


def invoice_fingerprints(invoice: Invoice, context: VerificationContext) -> tuple[bytes, ...]:
    """Every duplicate-detection fingerprint of the invoice, one per seller identifier.

    The same invoice number sent under another of the seller's identifiers (a VAT id instead of
    a GLN) must still be caught, so the gateway checks - and, on tokenization, records - the
    fingerprint for each identifier the invoice states and each the submitter has registered.
    """
    sellers = sorted(invoice.seller.refs | context.supplier_ids)
    return tuple(invoice_fingerprint(seller, invoice.id) for seller in sellers)


def _check_duplicates(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    inv = t.invoice
    if any(ctx.is_fingerprint_tokenized(fp) for fp in invoice_fingerprints(inv, ctx)):
        yield _v(
            "DUPLICATE_INVOICE_NUMBER",
            f"Invoice number {inv.id} of this seller is already tokenized.",
            inv,
            field="cbc:ID",
        )
    if ctx.is_document_tokenized(inv.source_hash):
        yield _v(
            "DUPLICATE_INVOICE_DOCUMENT",
            f"This invoice document (keccak256 0x{inv.source_hash.hex()}) is already tokenized.",
            inv,
        )


_RULES: tuple[Callable[[Trade, VerificationContext], Iterable[Violation]], ...] = (
    _check_party_identity,
    _check_parties,
    _check_references,
    _check_match,
    _check_terms,
    _check_currency,
    _check_totals,
    _check_amount_and_credit,
    _check_dates,
    _check_duplicates,
)


def _check_shape(bundle: Bundle) -> tuple[list[Violation], Trade | None]:
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
    for doc in bundle.deliveries:
        keys: set[tuple[str, str] | bytes] = {(doc.kind.value, doc.id.strip())}
        if doc.source_hash:
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


def verify_bundle(
    bundle: Bundle,
    context: VerificationContext,
    *,
    extra_rules: Sequence[Rule] = (),
    extra_violations: Iterable[Violation] = (),
) -> list[Violation]:
    """Run every rule on the bundle and return every violation (empty: the documents are fine).

    With no invoice, more than one invoice or purchase order, or a delivery document given twice,
    only the bundle-shape violations are reported: the other rules would not know which document
    to judge, or would count quantities twice. A missing order or
    missing delivery evidence is reported and the rules that do not need them still run.
    ``extra_rules`` run after the built-in rules; ``extra_violations`` are appended as given.
    """
    violations, trade = _check_shape(bundle)
    if trade is not None:
        for rule in _RULES:
            violations.extend(rule(trade, context))
    for extra in extra_rules:
        violations.extend(extra(bundle, context))
    violations.extend(extra_violations)
    return violations
