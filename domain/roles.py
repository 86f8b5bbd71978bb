"""Participant roles (API, certificate and chain faces); the one table of which role signs which kind."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

from domain.documents.model import DocumentKind


class Role(StrEnum):
    """A participant's role: the one enum, with its three faces.

    - the value (``"supplier"``) is the API's and the database's name of the role;
    - :attr:`certificate_name` (``"Supplier"``) is what the platform CA writes into a participant's
      certificate;
    - :attr:`chain_code` is ``IParticipantRegistry.Role`` on chain (``None`` for the operator, which
      is the platform's deploying account, not a registered participant).
    """

    OPERATOR = "operator"
    SUPPLIER = "supplier"
    CORE_ENTERPRISE = "core_enterprise"
    FINANCIER = "financier"
    VERIFIER = "verifier"
    REGULATOR = "regulator"
    SYSTEM = "system"
    LOGISTICS = "logistics"
    PRICE_SOURCE = "price_source"
    CERTIFIER = "certifier"  # a third-party green assessor: attests that a trade is green (docs/green.md)

    @property
    def chain_code(self) -> int:
        """``IParticipantRegistry.Role`` of this role; ``ValueError`` for the operator."""
        code = _CHAIN_CODE.get(self)
        if code is None:
            raise ValueError(f"{self.value} has no on-chain registry role")
        return code

    @property
    def certificate_name(self) -> str:
        """The role as the platform CA writes it into a certificate (``"CoreEnterprise"``)."""
        return "".join(part.capitalize() for part in self.value.split("_"))

    @property
    def onboardable(self) -> bool:
        """Whether the operator may onboard a participant with this role through the gateway."""
        return self in _ONBOARDABLE

    @property
    def certified(self) -> bool:
        """Whether the platform CA issues certificates to this role (participants and the verifier)."""
        return self not in (Role.OPERATOR, Role.SYSTEM)

    @classmethod
    def from_chain(cls, code: int) -> Role | None:
        """The role of an ``IParticipantRegistry.Role`` code (``None`` for 0, unregistered)."""
        for role, c in _CHAIN_CODE.items():
            if c == code:
                return role
        if code == 0:
            return None
        raise ValueError(f"unknown on-chain role {code}")

    @classmethod
    def from_certificate(cls, name: str) -> Role:
        """The role a certificate names (``"CoreEnterprise"``); ``ValueError`` for another name."""
        for role in cls:
            if role.certificate_name == name and role.certified:
                return role
        raise ValueError(f"{name!r} is not a certificate role")


#: The roles that see every participant, bundle, receivable and offer (read-only for the regulator).
OVERSEERS: frozenset[Role] = frozenset({Role.OPERATOR, Role.REGULATOR})

#: ``IParticipantRegistry.Role`` (0 is "none": not registered).
_CHAIN_CODE: Mapping[Role, int] = MappingProxyType(
    {
        Role.SUPPLIER: 1,
        Role.CORE_ENTERPRISE: 2,
        Role.FINANCIER: 3,
        Role.VERIFIER: 4,
        Role.REGULATOR: 5,
        Role.SYSTEM: 6,
        Role.LOGISTICS: 7,
        Role.PRICE_SOURCE: 8,
        Role.CERTIFIER: 9,
    }
)

#: The roles a participant onboarded through the gateway may have (the verifier and system
#: contracts are set up by the deployment, the operator is the deploying account).
_ONBOARDABLE = frozenset(
    {
        Role.SUPPLIER,
        Role.CORE_ENTERPRISE,
        Role.FINANCIER,
        Role.REGULATOR,
        Role.LOGISTICS,
        Role.PRICE_SOURCE,
        Role.CERTIFIER,
    }
)


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
        # The seller issues credit notes (never financed: the rules refuse them, INVOICE_NOT_FINANCEABLE).
        DocumentKind.CREDIT_NOTE: frozenset({Role.SUPPLIER}),
        # A certifier attests that a receivable's trade is green (not UBL: domain.green).
        DocumentKind.GREEN_ATTESTATION: frozenset({Role.CERTIFIER}),
    }
)
