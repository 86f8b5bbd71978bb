"""What every rule works with: the bundle, the trade in it, the context, and the violations.

A rule family module (``structure``, ``parties``, ``references``, ``match``, ``amounts``, ``dates``,
``duplicates``) registers its codes with their meanings and makes its violations through
:class:`Violations`, which refuses a code the family did not register. The engine
(:mod:`domain.rules.engine`) puts the families together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime, timedelta
from typing import Protocol, TypeAlias, TypeVar

from domain.documents.model import (
    DeliveryDocument,
    DespatchAdvice,
    Document,
    Invoice,
    Order,
    PartyRef,
    ReceiptAdvice,
)

__all__ = [
    "Bundle",
    "Check",
    "Rule",
    "StaticContext",
    "Trade",
    "VerificationContext",
    "Violation",
    "Violations",
    "utc_date",
]


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
    """What the rules need to know beyond the documents; the gateway implements it over its stores
    and the ledger."""

    @property
    def supplier_ids(self) -> frozenset[PartyRef]:
        """Registered identifiers of the supplier who submits the bundle."""
        ...

    @property
    def supplier_registration_id(self) -> str | None:
        """The submitting supplier's platform registration id (its invoices' on-chain fingerprint,
        ``domain.fingerprint.chain_fingerprint``), or None when there is none to look up."""
        ...

    @property
    def max_tenor_days(self) -> int:
        """Longest allowed time from invoice issue to due date."""
        ...

    @property
    def unused_credit_minor(self) -> int:
        """Debtor's unused credit line in minor units of the invoice currency."""
        ...

    @property
    def now(self) -> datetime:
        """The current time by the ledger's clock (the gateway: the chain's latest block time).

        The date rules compare with it, never with the machine's clock. Naive means UTC.
        """
        ...

    @property
    def issue_date_skew(self) -> timedelta:
        """How far an invoice's issue date may lie ahead of :attr:`now` (time zones, clock skew)."""
        ...

    @property
    def settlement_currencies(self) -> frozenset[str] | None:
        """The currencies the platform settles in (a settlement token each); None: not checked."""
        ...

    def is_core_enterprise(self, ref: PartyRef) -> bool:
        """Whether the identifier belongs to an active registered core enterprise."""
        ...

    def is_registered_supplier(self, ref: PartyRef) -> bool:
        """Whether the identifier belongs to an active registered supplier."""
        ...

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
    now: datetime
    core_enterprises: frozenset[PartyRef] = frozenset()
    registered_suppliers: frozenset[PartyRef] = frozenset()
    tokenized_fingerprints: frozenset[bytes] = frozenset()
    tokenized_documents: frozenset[bytes] = frozenset()
    participants: Mapping[PartyRef, str] = dataclass_field(default_factory=dict)
    """Registered identifiers and the participant (any key) that holds each."""
    issue_date_skew: timedelta = timedelta(0)
    settlement_currencies: frozenset[str] | None = None
    supplier_registration_id: str | None = None

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


def utc_date(moment: datetime) -> date:
    """The calendar date of ``moment`` at UTC (a naive moment is read as UTC)."""
    return (moment if moment.tzinfo is None else moment.astimezone(UTC)).date()


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


Check = Callable[[Trade, VerificationContext], Iterable[Violation]]
"""A built-in rule: judges the trade of a well-shaped bundle."""

ContextT = TypeVar("ContextT", bound=VerificationContext)

Rule: TypeAlias = Callable[[Bundle, ContextT], Iterable[Violation]]
"""A rule plugged in through ``verify_bundle(extra_rules=...)``: judges the whole bundle, with the
context the caller supplies (``Rule[GatewayContext]`` for the gateway's own rules)."""


class Violations:
    """Makes the violations of one rule family; a code the family did not register is a ``KeyError``."""

    def __init__(self, codes: Mapping[str, str]) -> None:
        self.codes = codes

    def __call__(
        self,
        code: str,
        message: str,
        doc: Document | None,
        *,
        field: str | None = None,
        line: str | None = None,
    ) -> Violation:
        if code not in self.codes:
            raise KeyError(f"unregistered rule code {code}")
        return Violation(
            code=code,
            message=message,
            document="Bundle" if doc is None else doc.kind.value,
            document_id=None if doc is None else doc.id,
            field=field,
            line=line,
        )
