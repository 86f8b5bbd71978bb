"""Participant roles, document kinds, and the one table saying which role may sign which kind."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType


class Role(StrEnum):
    """A participant's business role, as written into its certificate.

    The values mirror ``IParticipantRegistry.Role`` on chain where one exists. ``Logistics`` has
    no on-chain counterpart yet (the registry knows Supplier, CoreEnterprise, Financier, Verifier,
    Regulator, System); it is needed here because despatch and receipt advices may be signed by a
    logistics provider.
    """

    SUPPLIER = "Supplier"
    CORE_ENTERPRISE = "CoreEnterprise"
    LOGISTICS = "Logistics"
    FINANCIER = "Financier"
    VERIFIER = "Verifier"
    REGULATOR = "Regulator"


class DocumentKind(StrEnum):
    """Trade-background document kinds (UBL 2.x root element names)."""

    ORDER = "Order"
    INVOICE = "Invoice"
    DESPATCH_ADVICE = "DespatchAdvice"
    RECEIPT_ADVICE = "ReceiptAdvice"


#: Which roles may sign each document kind. This is the only place the mapping lives.
ALLOWED_SIGNER_ROLES: Mapping[DocumentKind, frozenset[Role]] = MappingProxyType(
    {
        # The buyer orders.
        DocumentKind.ORDER: frozenset({Role.CORE_ENTERPRISE}),
        # The seller invoices.
        DocumentKind.INVOICE: frozenset({Role.SUPPLIER}),
        # The seller, or the carrier on its behalf, announces the despatch.
        DocumentKind.DESPATCH_ADVICE: frozenset({Role.SUPPLIER, Role.LOGISTICS}),
        # The buyer, or the carrier / warehouse on its behalf, confirms receipt.
        DocumentKind.RECEIPT_ADVICE: frozenset({Role.CORE_ENTERPRISE, Role.LOGISTICS}),
    }
)


def role_may_sign(role: Role, kind: DocumentKind) -> bool:
    """Whether a participant with ``role`` may sign a document of ``kind``."""
    return role in ALLOWED_SIGNER_ROLES.get(kind, frozenset())
