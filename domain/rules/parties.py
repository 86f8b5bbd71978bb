"""Parties: a party is one participant; the invoice's seller and buyer are the trade's, and registered.

:func:`resolve_party` resolves a party's identifiers to registered participants, in identifier order
(never in set iteration order, so the outcome does not depend on ``PYTHONHASHSEED``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from domain.documents.model import Document, Party, PartyRef
from domain.rules.context import Trade, VerificationContext, Violation, Violations
from domain.text import forbidden_characters

__all__ = [
    "CHECKS",
    "CODES",
    "PartyResolution",
    "check_parties",
    "check_party_characters",
    "check_party_identity",
    "resolve_party",
    "same_party",
]

CODES: Mapping[str, str] = MappingProxyType(
    {
        "PARTY_ID_INVALID_CHARACTERS": (
            "A party identifier or its scheme (EndpointID, PartyIdentification, legal or tax company id)"
            " contains a control, bidirectional or invisible formatting character."
        ),
        "PARTY_IDENTIFIERS_CONFLICT": (
            "A party's identifiers (EndpointID, PartyIdentification, legal or tax company id) belong to"
            " more than one registered participant."
        ),
        "PARTY_SELLER_NOT_SUBMITTER": (
            "The invoice's seller shares no identifier with the supplier who submits the bundle."
        ),
        "PARTY_SELLER_NOT_REGISTERED": (
            "No identifier of the invoice's seller belongs to a registered supplier."
        ),
        "PARTY_SELLER_MISMATCH": (
            "The invoice's seller is not the seller (supplier) named in the purchase order."
        ),
        "PARTY_BUYER_MISMATCH": "The invoice's buyer is not the buyer named in the purchase order.",
        "PARTY_BUYER_NOT_CORE_ENTERPRISE": (
            "No identifier of the invoice's buyer belongs to an active registered core enterprise (the"
            " debtor must be one)."
        ),
        "PARTY_DELIVERY_SELLER_MISMATCH": (
            "A delivery document's supplier (SellerSupplierParty, else DespatchSupplierParty) is not the"
            " invoice's seller."
        ),
        "PARTY_DELIVERY_BUYER_MISMATCH": (
            "A delivery document names a buyer that is not the invoice's buyer."
        ),
    }
)

_v = Violations(CODES)


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


def same_party(a: Party, b: Party, ctx: VerificationContext) -> bool:
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


def check_party_characters(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    """An identifier that looks like another (a zero-width space, a right-to-left override inside it) is
    refused outright, whoever holds it: ``domain.text`` is the rule, the same as at onboarding."""
    for doc, role, path, party in _parties(t):
        for ref in sorted(party.refs):
            found = forbidden_characters(ref.scheme) + forbidden_characters(ref.id)
            if found:
                yield _v(
                    "PARTY_ID_INVALID_CHARACTERS",
                    f"The {role} of {doc.kind.value} {doc.id} has the identifier {ref.scheme!a}:"
                    f"{ref.id!a} with {', '.join(name for _, name in found)}: control, bidirectional"
                    " and invisible formatting characters are refused in identifiers.",
                    doc,
                    field=path,
                )


def check_party_identity(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
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


def check_parties(t: Trade, ctx: VerificationContext) -> Iterator[Violation]:
    inv = t.invoice
    seller, buyer = inv.seller, inv.buyer
    seller_path = "cac:AccountingSupplierParty/cac:Party"
    buyer_path = "cac:AccountingCustomerParty/cac:Party"
    if not same_party(seller, Party(identifiers=tuple(sorted(ctx.supplier_ids))), ctx):
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
            f"The invoice's buyer {buyer.display_name} ({_ids(buyer.refs)}) is not an active registered"
            " core enterprise.",
            inv,
            field=buyer_path,
        )
    if t.order is not None:
        if not same_party(seller, t.order.seller, ctx):
            yield _v(
                "PARTY_SELLER_MISMATCH",
                f"The invoice's seller {seller.display_name} is not the supplier of purchase order"
                f" {t.order.id} ({t.order.seller.display_name}); they are different parties.",
                inv,
                field=seller_path,
            )
        if not same_party(buyer, t.order.buyer, ctx):
            yield _v(
                "PARTY_BUYER_MISMATCH",
                f"The invoice's buyer {buyer.display_name} is not the buyer of purchase order"
                f" {t.order.id} ({t.order.buyer.display_name}); they are different parties.",
                inv,
                field=buyer_path,
            )
    for doc in t.deliveries:
        if not same_party(doc.supplier, seller, ctx):
            yield _v(
                "PARTY_DELIVERY_SELLER_MISMATCH",
                f"{doc.kind.value} {doc.id} comes from {doc.supplier.display_name}, not from the invoice's"
                f" seller {seller.display_name}.",
                doc,
                field="cac:SellerSupplierParty" if doc.seller is not None else "cac:DespatchSupplierParty",
            )
        if doc.buyer is not None and not same_party(doc.buyer, buyer, ctx):
            yield _v(
                "PARTY_DELIVERY_BUYER_MISMATCH",
                f"{doc.kind.value} {doc.id} names the buyer {doc.buyer.display_name}, not the invoice's"
                f" buyer {buyer.display_name}.",
                doc,
                field="cac:BuyerCustomerParty",
            )


CHECKS = (check_party_characters, check_party_identity, check_parties)
