"""One table from the gateway's roles to the certificate roles and the on-chain registry roles."""

from __future__ import annotations

from api.auth import GatewayRole
from chain.contracts import Role as ChainRole
from domain.identity import Role as CertRole

CERT_ROLE: dict[GatewayRole, CertRole] = {
    GatewayRole.SUPPLIER: CertRole.SUPPLIER,
    GatewayRole.CORE_ENTERPRISE: CertRole.CORE_ENTERPRISE,
    GatewayRole.FINANCIER: CertRole.FINANCIER,
    GatewayRole.REGULATOR: CertRole.REGULATOR,
    GatewayRole.LOGISTICS: CertRole.LOGISTICS,
}

CHAIN_ROLE: dict[GatewayRole, ChainRole] = {
    GatewayRole.SUPPLIER: ChainRole.SUPPLIER,
    GatewayRole.CORE_ENTERPRISE: ChainRole.CORE_ENTERPRISE,
    GatewayRole.FINANCIER: ChainRole.FINANCIER,
    GatewayRole.REGULATOR: ChainRole.REGULATOR,
    GatewayRole.LOGISTICS: ChainRole.LOGISTICS,
}
