"""A certifier's green attestation: that one receivable's trade falls in a catalogue's category.

The attestation is a small JSON document, signed like a trade document: a detached JWS (ES256) over its
exact bytes by a participant certificate of the platform CA whose role is ``certifier``
(``domain.identity.signing.verify_detached`` with kind ``GreenAttestation``; ``domain.roles`` lets only
certifiers sign it). Its fields (exactly these; ``benefit`` may be ``null``):

```json
{"type": "scf.green-attestation/1",
 "receivable_id": 12, "fingerprint": "0x<the invoice fingerprint the ledger holds for it>",
 "catalogue": "CN-GFSPC-2025", "category": "3.2.1",
 "evidence_sha256": "<64 hex>", "valid_from": "2026-11-30", "valid_until": "2027-11-29",
 "benefit": {"kg_co2e": 125000, "method": "GHG Protocol, grid-average avoided emissions"},
 "certifier": {"registration_id": "91310000MA1FL0GA4X"}}
```

:func:`verify_attestation` checks, in order, each with its code (:class:`GreenErrorCode`, or a
signature's ``SIG_*``/``CERT_*`` code):

1. strict JSON of exactly those fields and types (``ATTESTATION_MALFORMED``);
2. a known catalogue (``ATTESTATION_CATALOGUE_UNKNOWN``) and a category code of its form
   (``ATTESTATION_CATEGORY_INVALID``);
3. the signature, its certificate, revocation, the signer's role (a non-certifier:
   ``SIG_ROLE_MISMATCH``) and the certifier the document names (``SIG_SIGNER_MISMATCH``);
4. the receivable it names, by id and fingerprint, is the one being labelled
   (``ATTESTATION_RECEIVABLE_MISMATCH``: an attestation cannot be moved to another receivable);
5. its validity contains the chain's day (``ATTESTATION_NOT_YET_VALID``, ``ATTESTATION_EXPIRED``).

Catalogues (:data:`CATALOGUES`): China's Green Finance Supported Projects Catalogue, 2025 edition (which
absorbed the 2021 Green Bond catalogue; codes like ``3.2.1``), the EU taxonomy's activities (``4.1``,
``7.7``), and the LMA Green Loan Principles' eligible categories (``renewable_energy``, ...).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from cryptography import x509

from domain.documents.model import DocumentKind
from domain.identity.errors import SignatureVerificationError
from domain.identity.signing import (
    ExpectedSigner,
    RevocationCheck,
    reject_constant,
    reject_duplicates,
    sha256_hex,
    verify_detached,
)
from domain.text import check_text

TYPE = "scf.green-attestation/1"
MAX_BYTES = 16_384
UINT64_MAX = 2**64 - 1


class GreenErrorCode(StrEnum):
    ATTESTATION_MALFORMED = "ATTESTATION_MALFORMED"
    ATTESTATION_CATALOGUE_UNKNOWN = "ATTESTATION_CATALOGUE_UNKNOWN"
    ATTESTATION_CATEGORY_INVALID = "ATTESTATION_CATEGORY_INVALID"
    ATTESTATION_RECEIVABLE_MISMATCH = "ATTESTATION_RECEIVABLE_MISMATCH"
    ATTESTATION_NOT_YET_VALID = "ATTESTATION_NOT_YET_VALID"
    ATTESTATION_EXPIRED = "ATTESTATION_EXPIRED"


class AttestationError(ValueError):
    """An attestation refused: ``code`` (a :class:`GreenErrorCode` or a signature's code), ``message``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Catalogue:
    code: str
    title: str
    category_pattern: re.Pattern[str]
    category_form: str


_LMA_GLP = (
    "renewable_energy",
    "energy_efficiency",
    "pollution_prevention",
    "natural_resources",
    "biodiversity",
    "clean_transportation",
    "water_management",
    "climate_adaptation",
    "circular_economy",
    "green_buildings",
)

#: The catalogues a label may name, by code (the code is what the ledger records, as bytes32).
CATALOGUES: dict[str, Catalogue] = {
    c.code: c
    for c in (
        Catalogue(
            "CN-GFSPC-2025",
            "Green Finance Supported Projects Catalogue (PBoC, NDRC, CSRC; 2025 edition)",
            re.compile(r"^[1-9](\.[0-9]{1,2}){1,3}$"),
            "a dotted code such as 3.2.1",
        ),
        Catalogue(
            "EU-TAXONOMY",
            "EU taxonomy, climate delegated act (Regulation (EU) 2020/852): an activity",
            re.compile(r"^[1-9][0-9]?\.[1-9][0-9]?$"),
            "an activity number such as 7.7",
        ),
        Catalogue(
            "LMA-GLP",
            "LMA Green Loan Principles: an eligible green project category",
            re.compile("^(" + "|".join(_LMA_GLP) + ")$"),
            "one of " + ", ".join(_LMA_GLP),
        ),
    )
}

_FIELDS = {
    "type",
    "receivable_id",
    "fingerprint",
    "catalogue",
    "category",
    "evidence_sha256",
    "valid_from",
    "valid_until",
    "benefit",
    "certifier",
}
_HASH = re.compile(r"^0x[0-9a-f]{64}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Attestation:
    """The attestation's content, parsed and checked (not yet its signature)."""

    receivable_id: int
    fingerprint: str
    catalogue: str
    category: str
    evidence_sha256: str
    valid_from: date
    valid_until: date
    benefit_kg_co2e: int
    benefit_method: str | None
    certifier_registration_id: str

    @property
    def valid_until_time(self) -> int:
        """The last second of ``valid_until`` (UTC): the label's ``validUntil`` (inclusive)."""
        end = datetime.combine(self.valid_until, time(0), UTC) + timedelta(days=1, seconds=-1)
        return int(end.timestamp())


@dataclass(frozen=True)
class VerifiedAttestation:
    attestation: Attestation
    signer_chain_address: str
    digest: bytes  # SHA-256 of the document's exact bytes: the label's attestationHash


def bytes32_text(value: str) -> bytes:
    """``value`` as Solidity's ``bytes32("...")``: its ASCII left-aligned, zero-padded to 32 bytes."""
    raw = value.encode("ascii")
    if not raw or len(raw) > 32:
        raise ValueError(f"{value!r} does not fit bytes32")
    return raw.ljust(32, b"\0")


def _fail(code: GreenErrorCode, message: str) -> AttestationError:
    return AttestationError(code.value, message)


def _malformed(message: str) -> AttestationError:
    return _fail(GreenErrorCode.ATTESTATION_MALFORMED, message)


def _text(doc: dict[str, Any], key: str, max_len: int = 64) -> str:
    value = doc.get(key)
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise _malformed(f"{key} must be a string of 1 to {max_len} characters")
    try:
        check_text(value)
    except ValueError as exc:
        raise _malformed(str(exc)) from None
    return value


def _day(doc: dict[str, Any], key: str) -> date:
    value = _text(doc, key, 10)
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise _malformed(f"{key} must be a date YYYY-MM-DD") from None


def parse_attestation(payload: bytes) -> Attestation:
    """The attestation's fields, checked (codes 1 and 2 of the module docstring)."""
    if len(payload) > MAX_BYTES:
        raise _malformed(f"an attestation is at most {MAX_BYTES} bytes")
    try:
        doc = json.loads(
            payload.decode("utf-8"), object_pairs_hook=reject_duplicates, parse_constant=reject_constant
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise _malformed(f"not strict JSON: {exc}") from None
    if not isinstance(doc, dict) or set(doc) != _FIELDS:
        raise _malformed(f"an attestation has exactly the fields {sorted(_FIELDS)}")
    if doc["type"] != TYPE:
        raise _malformed(f"type must be {TYPE!r}")
    rid = doc["receivable_id"]
    if type(rid) is not int or not 0 < rid <= UINT64_MAX:
        raise _malformed("receivable_id must be a positive integer")
    fingerprint = _text(doc, "fingerprint", 66)
    if not _HASH.match(fingerprint):
        raise _malformed("fingerprint must be 0x and 64 lower-case hex digits")
    evidence = _text(doc, "evidence_sha256", 64)
    if not _HEX64.match(evidence):
        raise _malformed("evidence_sha256 must be 64 lower-case hex digits")
    valid_from, valid_until = _day(doc, "valid_from"), _day(doc, "valid_until")
    if valid_until < valid_from:
        raise _malformed("valid_until is before valid_from")
    benefit, kg, method = doc["benefit"], 0, None
    if benefit is not None:
        if not isinstance(benefit, dict) or set(benefit) != {"kg_co2e", "method"}:
            raise _malformed("benefit is null or {kg_co2e, method}")
        kg = benefit["kg_co2e"]
        if type(kg) is not int or not 0 <= kg <= UINT64_MAX:
            raise _malformed("benefit.kg_co2e must be a whole number of kilograms, 0 to 2^64-1")
        method = _text(benefit, "method", 200)
    certifier = doc["certifier"]
    if not isinstance(certifier, dict) or set(certifier) != {"registration_id"}:
        raise _malformed("certifier must be {registration_id}")
    catalogue = _text(doc, "catalogue", 32)
    found = CATALOGUES.get(catalogue)
    if found is None:
        raise _fail(
            GreenErrorCode.ATTESTATION_CATALOGUE_UNKNOWN,
            f"Unknown catalogue {catalogue!r}; known: {', '.join(sorted(CATALOGUES))}.",
        )
    category = _text(doc, "category", 32)
    if not found.category_pattern.match(category):
        raise _fail(
            GreenErrorCode.ATTESTATION_CATEGORY_INVALID,
            f"{category!r} is no category of {catalogue}: {found.category_form}.",
        )
    return Attestation(
        receivable_id=rid,
        fingerprint=fingerprint,
        catalogue=catalogue,
        category=category,
        evidence_sha256=evidence,
        valid_from=valid_from,
        valid_until=valid_until,
        benefit_kg_co2e=kg,
        benefit_method=method,
        certifier_registration_id=_text(certifier, "registration_id"),
    )


def verify_attestation(
    payload: bytes,
    jws: str,
    *,
    receivable_id: int,
    receivable_of: Callable[[str], int],
    ca_cert: x509.Certificate | tuple[x509.Certificate, ...],
    is_revoked: RevocationCheck,
    today: date,
    now: datetime | None = None,
) -> VerifiedAttestation:
    """Verify a signed attestation for receivable ``receivable_id`` on the chain's day ``today``; raise
    :class:`AttestationError` (the module docstring's order and codes). ``receivable_of`` is the ledger's
    index: the id of the receivable an invoice fingerprint (``0x`` hex) belongs to, 0 for none
    (``receivableIdByFingerprint``)."""
    attestation = parse_attestation(payload)
    try:
        signature = verify_detached(
            payload,
            jws,
            ca_cert=ca_cert,
            is_revoked=is_revoked,
            expected_kind=DocumentKind.GREEN_ATTESTATION,
            expected_signer=ExpectedSigner(registration_id=attestation.certifier_registration_id),
            now=now,
        )
    except SignatureVerificationError as exc:
        raise AttestationError(exc.code.value, exc.message) from None
    if attestation.receivable_id != receivable_id or receivable_of(attestation.fingerprint) != receivable_id:
        raise _fail(
            GreenErrorCode.ATTESTATION_RECEIVABLE_MISMATCH,
            f"The attestation is for receivable {attestation.receivable_id} "
            f"({attestation.fingerprint[:10]}…), not {receivable_id}.",
        )
    if today < attestation.valid_from:
        raise _fail(GreenErrorCode.ATTESTATION_NOT_YET_VALID, f"Valid from {attestation.valid_from} only.")
    if today > attestation.valid_until:
        raise _fail(
            GreenErrorCode.ATTESTATION_EXPIRED, f"The attestation expired on {attestation.valid_until}."
        )
    return VerifiedAttestation(
        attestation=attestation,
        signer_chain_address=signature.signer.chain_address,
        digest=bytes.fromhex(sha256_hex(payload)),
    )
