"""The registry of every code a bundle can be refused with, and what it means (``GET /rules``)."""

from __future__ import annotations

from collections.abc import Mapping

from api.schemas.bundles import RuleCode
from api.services.bundles import GATEWAY_CODES
from domain.documents.errors import PARSE_ERROR_CODES
from domain.identity import ErrorCode
from domain.rules import RULE_CODES

#: ``domain.identity`` codes that bundle verification never reports: the gateway verifies signatures
#: without an expected signer and reports a signer that is not the document's issuer as
#: ``SIG_SIGNER_NOT_ISSUER`` (one defect, one code).
NOT_REPORTED: frozenset[ErrorCode] = frozenset({ErrorCode.SIG_SIGNER_MISMATCH})

#: Meanings of the other signature and certificate codes of ``domain.identity`` (see docs/identity.md).
SIGNATURE_CODES: dict[ErrorCode, str] = {
    ErrorCode.SIG_MALFORMED: "The detached JWS is not well-formed or its header breaks the profile.",
    ErrorCode.SIG_ALG_UNSUPPORTED: "The JWS algorithm is not ES256 (none, HS256 ... are refused).",
    ErrorCode.SIG_INVALID: "The signature does not verify over the document's exact bytes.",
    ErrorCode.SIG_KIND_MISMATCH: "The signed document kind differs from the document's own kind.",
    ErrorCode.SIG_TIME_IN_FUTURE: "The claimed signing time lies in the future.",
    ErrorCode.SIG_TIME_TOO_OLD: "The claimed signing time is older than the gateway accepts.",
    ErrorCode.SIG_ROLE_MISMATCH: "The signer's role may not sign this kind of document.",
    ErrorCode.CERT_NOT_FROM_PLATFORM_CA: "The signing certificate does not chain to the platform CA.",
    ErrorCode.CERT_PROFILE_INVALID: "The signing certificate is not a participant signing certificate.",
    ErrorCode.CERT_EXPIRED: "The signing certificate had expired at the signing time.",
    ErrorCode.CERT_NOT_YET_VALID: "The signing certificate was not yet valid at the signing time.",
    ErrorCode.CERT_REVOKED: "The signing certificate is revoked.",
    ErrorCode.ATTACHMENT_HASH_MISMATCH: "An attachment's SHA-256 differs from the one signed.",
    ErrorCode.DECRYPTION_FAILED: "Stored data could not be decrypted (tampered or wrong key).",
}


def all_rule_codes() -> list[RuleCode]:
    """Every code once, by source: parsing, signatures, the rules, the gateway's own checks."""
    sources: tuple[tuple[str, Mapping[str, str]], ...] = (
        ("document", PARSE_ERROR_CODES),
        ("signature", {c.value: SIGNATURE_CODES[c] for c in ErrorCode if c not in NOT_REPORTED}),
        ("rule", RULE_CODES),
        ("gateway", GATEWAY_CODES),
    )
    codes: dict[str, RuleCode] = {}
    for source, table in sources:
        for code, description in table.items():
            if code in codes:
                raise RuntimeError(f"{code} is registered by {codes[code].source} and by {source}")
            codes[code] = RuleCode(code=code, source=source, description=description)
    return list(codes.values())
