"""The gateway's internal model of UBL 2.1 trade documents.

Every class is a frozen, slotted dataclass: a parsed document is a value that can be compared,
hashed where it makes sense and shared between threads. Their ``__init__`` is not the one
``dataclass`` writes but an equivalent (see :func:`_install_fast_init`). Amounts and quantities are
:class:`~decimal.Decimal` exactly as the document states them (never floats); collections are
tuples in document order. ``docs/documents.md`` maps each field to its UBL XPath.
"""

from __future__ import annotations

import dataclasses
import enum
import types
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Final, TypeAlias, cast

__all__ = [
    "SCHEME_ALIASES",
    "AllowanceCharge",
    "DeliveryDocument",
    "DeliveryLine",
    "DespatchAdvice",
    "Document",
    "DocumentHeader",
    "DocumentKind",
    "Identifier",
    "Invoice",
    "Item",
    "Line",
    "MonetaryTotal",
    "Order",
    "Party",
    "PartyRef",
    "Price",
    "ReceiptAdvice",
    "TaxCategory",
    "TaxSubtotal",
    "TaxTotal",
    "hash_on_demand",
]


class DocumentKind(enum.StrEnum):
    """The documents a participant signs: the UBL types the gateway understands (the value is the UBL
    root element name), and the one that is not UBL, a certifier's green attestation (JSON,
    ``domain.green``)."""

    ORDER = "Order"
    INVOICE = "Invoice"
    CREDIT_NOTE = "CreditNote"
    DESPATCH_ADVICE = "DespatchAdvice"
    RECEIPT_ADVICE = "ReceiptAdvice"
    GREEN_ATTESTATION = "GreenAttestation"

    @property
    def ubl(self) -> bool:
        """Whether this kind is a UBL 2.1 document (every kind but the green attestation)."""
        return self is not DocumentKind.GREEN_ATTESTATION


SCHEME_ALIASES: dict[str, str] = {
    "GLN": "0088",
    "EAN": "0088",
    "DUNS": "0060",
    "GTIN": "0160",
}
"""Legacy mnemonic scheme names mapped to their ISO 6523 ICD (Peppol code list)."""


def _squash(value: str) -> str:
    """Remove every whitespace character (identifiers are often printed with spaces)."""
    if " " not in value and value.isprintable():  # every other whitespace character is unprintable
        return value
    return "".join(value.split())


@dataclass(frozen=True, slots=True, order=True)
class Identifier:
    """A scheme-qualified identifier, normalized on construction.

    ``scheme`` is upper-cased, stripped of whitespace and mapped through :data:`SCHEME_ALIASES`
    (``GLN`` becomes ``0088``); an identifier without a scheme has ``scheme == ""``. ``id`` is
    stripped of whitespace and upper-cased, so ``se 5560 0000 01`` equals ``SE5560000001``.
    """

    scheme: str
    id: str

    def __post_init__(self) -> None:
        scheme = _squash(self.scheme).upper()
        ident = _squash(self.id).upper()
        if not ident:
            raise ValueError("an identifier needs a non-empty id")
        _SET_SCHEME(self, SCHEME_ALIASES.get(scheme, scheme))
        _SET_ID(self, ident)

    @property
    def key(self) -> str:
        """``scheme:id``, the form used in fingerprints and messages."""
        return f"{self.scheme}:{self.id}"

    def __str__(self) -> str:
        return self.key


_SET_SCHEME: Final = Identifier.__dict__["scheme"].__set__
_SET_ID: Final = Identifier.__dict__["id"].__set__


@dataclass(frozen=True, slots=True, order=True)
class PartyRef(Identifier):
    """A party identifier: EndpointID, PartyIdentification/ID, a legal or a tax CompanyID.

    Tax identifiers use the tax scheme (``VAT``) as their scheme.
    """


@dataclass(frozen=True, slots=True)
class Party:
    """A trading party as a UBL ``cac:Party`` describes it."""

    name: str | None = None
    registration_name: str | None = None
    endpoint: PartyRef | None = None
    identifiers: tuple[PartyRef, ...] = ()
    legal_ids: tuple[PartyRef, ...] = ()
    tax_ids: tuple[PartyRef, ...] = ()
    country: str | None = None

    @property
    def refs(self) -> frozenset[PartyRef]:
        """Every identifier the party states: endpoint, party, legal and tax identifiers."""
        endpoint = (self.endpoint,) if self.endpoint is not None else ()
        return frozenset((*endpoint, *self.identifiers, *self.legal_ids, *self.tax_ids))

    @property
    def display_name(self) -> str:
        """The best human-readable name: trading name, legal name, else the first identifier."""
        if self.name:
            return self.name
        if self.registration_name:
            return self.registration_name
        refs = sorted(self.refs)
        return refs[0].key if refs else "an unidentified party"

    def shares_identifier(self, other: Party | frozenset[PartyRef]) -> bool:
        """True when both sides state at least one identical (scheme, id) pair."""
        theirs = other.refs if isinstance(other, Party) else other
        return not self.refs.isdisjoint(theirs)


@dataclass(frozen=True, slots=True)
class Item:
    """The traded item of a line."""

    name: str | None = None
    seller_item_id: str | None = None
    buyer_item_id: str | None = None
    standard_item_id: Identifier | None = None

    @property
    def keys(self) -> frozenset[str]:
        """Identifiers usable to match lines across documents, tagged by their kind."""
        keys: set[str] = set()
        if self.seller_item_id:
            keys.add(f"seller:{_squash(self.seller_item_id).upper()}")
        if self.buyer_item_id:
            keys.add(f"buyer:{_squash(self.buyer_item_id).upper()}")
        if self.standard_item_id is not None:
            keys.add(f"standard:{self.standard_item_id.key}")
        return frozenset(keys)


@dataclass(frozen=True, slots=True)
class TaxCategory:
    """A VAT category (UNCL5305 code such as ``S``, ``Z``, ``E``, ``AE``) and its rate in percent."""

    id: str
    percent: Decimal | None = None
    scheme: str = "VAT"
    exemption_reason: str | None = None

    @property
    def key(self) -> tuple[str, Decimal]:
        """(code, rate) with a missing rate read as 0, the grouping key of EN 16931 VAT breakdowns."""
        return (self.id.upper(), self.percent if self.percent is not None else Decimal(0))


@dataclass(frozen=True, slots=True)
class AllowanceCharge:
    """A document- or line-level allowance (``is_charge=False``) or charge."""

    is_charge: bool
    amount: Decimal
    base_amount: Decimal | None = None
    multiplier_percent: Decimal | None = None
    reason_code: str | None = None
    reason: str | None = None
    tax_category: TaxCategory | None = None


@dataclass(frozen=True, slots=True)
class Price:
    """Item net price per ``base_quantity`` units (default 1)."""

    amount: Decimal
    base_quantity: Decimal | None = None
    base_unit_code: str | None = None
    gross_amount: Decimal | None = None
    discount: Decimal | None = None

    @property
    def effective_base_quantity(self) -> Decimal:
        return self.base_quantity if self.base_quantity else Decimal(1)


@dataclass(frozen=True, slots=True)
class Line:
    """An order or invoice (credit note) line."""

    id: str
    quantity: Decimal
    unit_code: str | None
    item: Item
    line_extension_amount: Decimal | None = None
    price: Price | None = None
    order_line_ref: str | None = None
    allowance_charges: tuple[AllowanceCharge, ...] = ()
    tax_category: TaxCategory | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class DeliveryLine:
    """A despatch advice line (delivered quantity) or a receipt advice line (received quantity)."""

    id: str
    quantity: Decimal
    unit_code: str | None
    item: Item
    order_line_ref: str | None = None
    order_ref: str | None = None
    rejected_quantity: Decimal = Decimal(0)
    short_quantity: Decimal = Decimal(0)
    received_date: date | None = None

    @property
    def accepted_quantity(self) -> Decimal:
        """Delivered quantity for a despatch line; received minus rejected for a receipt line."""
        return self.quantity - self.rejected_quantity


@dataclass(frozen=True, slots=True)
class TaxSubtotal:
    taxable_amount: Decimal
    tax_amount: Decimal
    category: TaxCategory


@dataclass(frozen=True, slots=True)
class TaxTotal:
    tax_amount: Decimal
    currency: str | None = None
    subtotals: tuple[TaxSubtotal, ...] = ()


@dataclass(frozen=True, slots=True)
class MonetaryTotal:
    """LegalMonetaryTotal (invoice) or AnticipatedMonetaryTotal (order); absent amounts are None."""

    line_extension: Decimal | None = None
    tax_exclusive: Decimal | None = None
    tax_inclusive: Decimal | None = None
    allowance_total: Decimal | None = None
    charge_total: Decimal | None = None
    prepaid: Decimal | None = None
    payable_rounding: Decimal | None = None
    payable: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentHeader:
    """Fields every supported document has.

    ``source_hash`` is keccak256 of the exact bytes parsed; ``amount_currencies`` is every
    ``currencyID`` the document's amounts carry (the tax-currency TaxTotal excepted).
    """

    kind: DocumentKind
    id: str
    issue_date: date
    currency: str | None = None
    order_reference: str | None = None
    #: every header OrderReference/ID (a despatch advice may name several orders; the others one)
    order_references: tuple[str, ...] = ()
    despatch_references: tuple[str, ...] = ()
    receipt_references: tuple[str, ...] = ()
    customization_id: str | None = None
    profile_id: str | None = None
    notes: tuple[str, ...] = ()
    amount_currencies: frozenset[str] = frozenset()
    source_hash: bytes = b""


class _PendingHash:
    """The bytes of a parsed document whose hash nobody has asked for yet (see :func:`hash_on_demand`)."""

    __slots__ = ("data", "hasher")

    def __init__(self, data: bytes, hasher: Callable[[bytes], bytes]) -> None:
        self.data = data
        self.hasher = hasher


class _SourceHashSlot:
    """``DocumentHeader.source_hash``: the slot, with a pending hash computed on first read.

    keccak256 costs more than parsing a document with lxml, and verifying a bundle needs only the
    invoice's, so the parser leaves it pending; every reader (attribute, ``==``, ``hash``, ``repr``,
    ``dataclasses.replace``) gets the bytes, computed once and stored in the slot.
    """

    __slots__ = ("slot",)

    def __init__(self, slot: Any) -> None:
        self.slot = slot

    def __get__(self, obj: object, owner: type | None = None) -> Any:
        if obj is None:
            return self
        value = self.slot.__get__(obj, owner)
        if type(value) is _PendingHash:
            value = value.hasher(value.data)
            self.slot.__set__(obj, value)
        return value

    def __set__(self, obj: object, value: object) -> None:
        self.slot.__set__(obj, value)


setattr(DocumentHeader, "source_hash", _SourceHashSlot(DocumentHeader.__dict__["source_hash"]))  # noqa: B010


def hash_on_demand(data: bytes, hasher: Callable[[bytes], bytes]) -> bytes:
    """A ``source_hash`` value computed as ``hasher(data)`` the first time the document's is read."""
    return cast(bytes, _PendingHash(data, hasher))


@dataclass(frozen=True, slots=True, kw_only=True)
class _PricedDocument(DocumentHeader):
    lines: tuple[Line, ...]
    allowance_charges: tuple[AllowanceCharge, ...] = ()
    tax_totals: tuple[TaxTotal, ...] = ()
    monetary_total: MonetaryTotal = MonetaryTotal()
    payment_terms: tuple[str, ...] = ()

    @property
    def tax_total(self) -> TaxTotal | None:
        """The TaxTotal in the document currency (an invoice may add one in its tax currency)."""
        for total in self.tax_totals:
            if total.currency is None or total.currency == self.currency:
                return total
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Order(_PricedDocument):
    """A purchase order, issued by the buyer. ``monetary_total`` is AnticipatedMonetaryTotal."""

    buyer: Party
    seller: Party
    requested_delivery_start: date | None = None
    requested_delivery_end: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Invoice(_PricedDocument):
    """An invoice (or, with ``kind == CREDIT_NOTE``, a credit note), issued by the seller."""

    seller: Party
    buyer: Party
    type_code: str | None = None
    due_date: date | None = None
    tax_currency: str | None = None
    actual_delivery_date: date | None = None

    @property
    def payable_amount(self) -> Decimal:
        payable = self.monetary_total.payable
        return payable if payable is not None else Decimal(0)


@dataclass(frozen=True, slots=True, kw_only=True)
class _DeliveryDocument(DocumentHeader):
    despatch_supplier: Party
    delivery_customer: Party
    buyer: Party | None = None
    seller: Party | None = None
    lines: tuple[DeliveryLine, ...]

    @property
    def supplier(self) -> Party:
        """The seller if stated, else the despatching party."""
        return self.seller if self.seller is not None else self.despatch_supplier


@dataclass(frozen=True, slots=True, kw_only=True)
class DespatchAdvice(_DeliveryDocument):
    """Delivery evidence sent by the supplier when goods leave."""

    despatch_date: date | None = None
    delivery_date: date | None = None
    estimated_delivery_start: date | None = None
    estimated_delivery_end: date | None = None

    @property
    def evidence_date(self) -> date:
        """Actual delivery date, else actual despatch date, else the issue date."""
        return self.delivery_date or self.despatch_date or self.issue_date


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptAdvice(_DeliveryDocument):
    """Delivery evidence sent by the buyer (or its receiving site) when goods arrive."""

    received_date: date | None = None

    @property
    def evidence_date(self) -> date:
        """Latest line ReceivedDate, else the shipment's actual delivery date, else the issue date."""
        line_dates = [line.received_date for line in self.lines if line.received_date is not None]
        if line_dates:
            return max(line_dates)
        return self.received_date or self.issue_date


Document: TypeAlias = Order | Invoice | DespatchAdvice | ReceiptAdvice
DeliveryDocument: TypeAlias = DespatchAdvice | ReceiptAdvice


def _install_fast_init(cls: type) -> None:
    """Give the frozen dataclass ``cls`` an ``__init__`` that stores each field through its slot.

    A frozen dataclass's own ``__init__`` sets every field with ``object.__setattr__(self, name,
    value)``: a generic attribute look-up per field, about a tenth of a parse (issue 11). This one
    takes the same parameters (names, order, defaults, keyword-only ones), calls ``__post_init__``
    like it, and calls each slot's descriptor directly. Everything else stays the dataclass's:
    assigning an attribute still raises ``FrozenInstanceError``; ``==``, ``hash``, ``repr``,
    ordering, ``fields`` and ``dataclasses.replace`` are unchanged.
    """
    params: list[str] = []
    keyword_only: list[str] = []
    body: list[str] = []
    namespace: dict[str, Any] = {}
    for number, field in enumerate(dataclasses.fields(cls)):
        if not field.init or field.default_factory is not dataclasses.MISSING:  # pragma: no cover
            raise TypeError(f"{cls.__name__}.{field.name}: only plain fields are supported")
        descriptor = next(k.__dict__[field.name] for k in cls.__mro__ if field.name in k.__dict__)
        if isinstance(descriptor, _SourceHashSlot):
            descriptor = descriptor.slot
        if not isinstance(descriptor, types.MemberDescriptorType):  # pragma: no cover
            raise TypeError(f"{cls.__name__}.{field.name} is not a slot")
        namespace[f"_set{number}"] = descriptor.__set__
        param = field.name
        if field.default is not dataclasses.MISSING:
            namespace[f"_default{number}"] = field.default
            param = f"{param}=_default{number}"
        (keyword_only if field.kw_only else params).append(param)
        body.append(f"    _set{number}(self, {field.name})\n")
    if keyword_only:
        params += ["*", *keyword_only]
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()\n")
    source = f"def __init__(self, {', '.join(params)}) -> None:\n{''.join(body)}"
    exec(source, namespace)  # noqa: S102  # nosec B102 - as dataclasses does: source from the class's own field names
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = {field.name: field.type for field in dataclasses.fields(cls)} | {"return": None}
    cls.__init__ = init  # type: ignore[misc]


for _cls in (
    Identifier,
    PartyRef,
    Party,
    Item,
    TaxCategory,
    AllowanceCharge,
    Price,
    Line,
    DeliveryLine,
    TaxSubtotal,
    TaxTotal,
    MonetaryTotal,
    DocumentHeader,
    _PricedDocument,
    Order,
    Invoice,
    _DeliveryDocument,
    DespatchAdvice,
    ReceiptAdvice,
):
    _install_fast_init(_cls)
del _cls
