"""Signed commodity price observations, and their on-chain encoding.

A price source (a participant with :attr:`~domain.roles.Role.PRICE_SOURCE`, certificate role
``PriceSource``) signs each observation with its participant key, as a compact JWS:

- header exactly ``{"alg":"ES256","typ":"scf-price+jwt","x5c":["<base64 DER>"]}``: the source's
  participant certificate travels with the observation (as with document signatures), so the token
  whose digest goes on chain as ``sourceHash`` is evidence on its own, re-verifiable from the root
  alone; observations are few, the extra bytes do not matter;
- claims exactly:

  ================  ============================================================================
  ``commodity``     1-16 of ``A-Z 0-9 _``, starting with a letter (a ``bytes16`` on chain)
  ``unit``          UN/ECE Recommendation 20 code, exactly 3 of ``A-Z 0-9`` (a ``bytes4``)
  ``per_thousand``  the price in minor units of ``currency`` per 1,000 ``unit`` (per tonne for KGM),
                    an integer ``1 .. 2**128 - 1`` (``WarehouseReceipts.Price.perThousand``, uint128)
  ``currency``      ISO 4217 alphabetic code
  ``observed_at``   unix seconds, ``0 .. 2**40 - 1`` (``uint40`` on chain)
  ``source``        the source's chain address, ``0x`` + 40 lower-case hex: its certificate's
  ================  ============================================================================

:func:`verify_price_observation` checks, in order, raising
:class:`~domain.warehouse.errors.PriceError` with the first failure's code: ``PRICE_MALFORMED``
(structure, header, claims, types, a float); ``PRICE_SOURCE_UNTRUSTED`` (not issued by the platform CA,
not a participant certificate, role not ``PriceSource``); ``PRICE_SIG_INVALID``;
``PRICE_SOURCE_REVOKED``; ``PRICE_SOURCE_UNTRUSTED`` (``source`` is not the certificate's address);
``PRICE_FROM_FUTURE`` / ``PRICE_STALE``; ``PRICE_SOURCE_UNTRUSTED`` (certificate not valid at
``observed_at``); ``PRICE_CURRENCY_MISMATCH`` (not the settlement token's currency: the chain records no
currency); ``PRICE_IMPLAUSIBLE`` (zero, negative, above ``2**128 - 1``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NoReturn

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from domain.documents.money import is_currency_code
from domain.identity.ca import ParticipantIdentity
from domain.identity.signing import RevocationCheck
from domain.roles import Role
from domain.warehouse.errors import PriceError, WarehouseErrorCode
from domain.warehouse.readings import (
    CompactJws,
    SignerCodes,
    anchors_of,
    jws_header,
    jws_sign,
    jws_split,
    strict_json,
    trusted_signer,
    x5c_entry,
)

__all__ = [
    "COMMODITY_PATTERN",
    "DEFAULT_PRICE_MAX_AGE_S",
    "MAX_PER_THOUSAND",
    "PRICE_TYP",
    "UNIT_PATTERN",
    "VerifiedPrice",
    "commodity_bytes16",
    "encode_price_observation",
    "price_digest",
    "unit_bytes4",
    "verify_price_observation",
]

PRICE_TYP: Final = "scf-price+jwt"
COMMODITY_PATTERN: Final = r"\A[A-Z][A-Z0-9_]{0,15}\Z"
UNIT_PATTERN: Final = r"\A[A-Z0-9]{3}\Z"
#: ``WarehouseReceipts.Price.perThousand`` is a ``uint128``.
MAX_PER_THOUSAND: Final = 2**128 - 1
#: ``observedAt`` is a ``uint40`` on chain.
_MAX_OBSERVED_AT: Final = 2**40 - 1
#: How old an observation may be when the gateway records it.
DEFAULT_PRICE_MAX_AGE_S: Final = 86_400
_MAX_PRICE_CHARS: Final = 16 * 1024

_COMMODITY_RE = re.compile(COMMODITY_PATTERN)
_UNIT_RE = re.compile(UNIT_PATTERN)
_ADDRESS_RE = re.compile(r"\A0x[0-9a-f]{40}\Z")
_HEADER = frozenset({"alg", "typ", "x5c"})
_CLAIMS = frozenset({"commodity", "unit", "per_thousand", "currency", "observed_at", "source"})


def commodity_bytes16(commodity: str) -> bytes:
    """``commodity`` as Solidity's ``bytes16("SOYBEAN")``: its ASCII left-aligned, zero-padded to 16."""
    if not isinstance(commodity, str) or not _COMMODITY_RE.match(commodity):
        raise ValueError("a commodity is 1-16 of A-Z 0-9 _, starting with a letter")
    return commodity.encode("ascii").ljust(16, b"\0")


def unit_bytes4(unit: str) -> bytes:
    """``unit`` as Solidity's ``bytes4("KGM")``: its 3 ASCII characters and one zero byte."""
    if not isinstance(unit, str) or not _UNIT_RE.match(unit):
        raise ValueError("a unit is a UN/ECE Recommendation 20 code: 3 of A-Z 0-9")
    return unit.encode("ascii").ljust(4, b"\0")


def price_digest(token: str) -> bytes:
    """SHA-256 of the observation's exact bytes: ``recordPrice``'s ``sourceHash`` (32 bytes)."""
    return hashlib.sha256(token.encode("ascii")).digest()


@dataclass(frozen=True)
class VerifiedPrice:
    """An observation that verified; ``digest`` is the on-chain ``sourceHash``."""

    commodity: str
    unit: str
    per_thousand: int
    currency: str
    observed_at: int
    source: ParticipantIdentity
    serial: int
    digest: bytes = field(repr=False)

    @property
    def commodity_bytes16(self) -> bytes:
        """The ``bytes16 commodity`` argument of ``recordPrice``."""
        return commodity_bytes16(self.commodity)

    @property
    def unit_bytes4(self) -> bytes:
        """The ``bytes4 unit`` argument of ``recordPrice``."""
        return unit_bytes4(self.unit)


def encode_price_observation(
    key: ec.EllipticCurvePrivateKey,
    cert: x509.Certificate,
    *,
    commodity: str,
    unit: str,
    per_thousand: int,
    currency: str,
    observed_at: int,
    source: str,
) -> str:
    """The compact JWS a price source signs (no check of the values: the verifier judges them).

    Raises ``ValueError`` if ``key`` is not the P-256 key of ``cert``.
    """
    cert_key = cert.public_key()
    if not isinstance(cert_key, ec.EllipticCurvePublicKey) or cert_key.public_numbers() != (
        key.public_key().public_numbers()
    ):
        raise ValueError("private key does not belong to the certificate")
    header = {"alg": "ES256", "typ": PRICE_TYP, "x5c": [x5c_entry(cert)]}
    claims = {
        "commodity": commodity,
        "unit": unit,
        "per_thousand": per_thousand,
        "currency": currency,
        "observed_at": observed_at,
        "source": source,
    }
    return jws_sign(header, json.dumps(claims, separators=(",", ":"), allow_nan=False).encode(), key)


def _fail(code: WarehouseErrorCode, message: str) -> NoReturn:
    raise PriceError(code, message)


def _parse(token: str) -> tuple[CompactJws, dict[str, Any], str]:
    """(jws parts, claims, x5c entry), or ``PRICE_MALFORMED``."""
    try:
        jws = jws_split(token, _MAX_PRICE_CHARS)
        header = jws_header(jws.header_b64)
        claims = strict_json(jws.payload)
    except ValueError as exc:
        _fail(WarehouseErrorCode.PRICE_MALFORMED, str(exc))
    if set(header) != _HEADER:
        _fail(WarehouseErrorCode.PRICE_MALFORMED, f"header members must be exactly {sorted(_HEADER)}")
    if header["alg"] != "ES256" or header["typ"] != PRICE_TYP:
        _fail(WarehouseErrorCode.PRICE_MALFORMED, f'header must have "alg": "ES256" and "typ": "{PRICE_TYP}"')
    x5c = header["x5c"]
    if not isinstance(x5c, list) or len(x5c) != 1 or not isinstance(x5c[0], str):
        _fail(WarehouseErrorCode.PRICE_MALFORMED, "x5c must hold exactly the source's certificate")
    if not isinstance(claims, dict) or set(claims) != _CLAIMS:
        _fail(WarehouseErrorCode.PRICE_MALFORMED, f"claims must be an object of exactly {sorted(_CLAIMS)}")
    if not isinstance(claims["commodity"], str) or not _COMMODITY_RE.match(claims["commodity"]):
        _fail(
            WarehouseErrorCode.PRICE_MALFORMED, "commodity must be 1-16 of A-Z 0-9 _, starting with a letter"
        )
    if not isinstance(claims["unit"], str) or not _UNIT_RE.match(claims["unit"]):
        _fail(WarehouseErrorCode.PRICE_MALFORMED, "unit must be 3 of A-Z 0-9 (UN/ECE Recommendation 20)")
    if not isinstance(claims["currency"], str) or not is_currency_code(claims["currency"]):
        _fail(WarehouseErrorCode.PRICE_MALFORMED, "currency must be an ISO 4217 code")
    if type(claims["per_thousand"]) is not int:
        _fail(WarehouseErrorCode.PRICE_MALFORMED, "per_thousand must be an integer (minor units)")
    observed_at = claims["observed_at"]
    if type(observed_at) is not int or not 0 <= observed_at <= _MAX_OBSERVED_AT:
        _fail(WarehouseErrorCode.PRICE_MALFORMED, "observed_at must be unix seconds 0..2**40-1")
    if not isinstance(claims["source"], str) or not _ADDRESS_RE.match(claims["source"]):
        _fail(WarehouseErrorCode.PRICE_MALFORMED, "source must be a chain address, 0x + 40 lower-case hex")
    return jws, claims, x5c[0]


def verify_price_observation(
    token: str,
    *,
    ca_root: x509.Certificate | Sequence[x509.Certificate],
    revoked: RevocationCheck,
    now: int,
    max_age_s: int = DEFAULT_PRICE_MAX_AGE_S,
    max_skew_s: int = 0,
    currency: str | None = None,
) -> VerifiedPrice:
    """Verify a price source's signed observation; return it, or raise
    :class:`~domain.warehouse.errors.PriceError` (checks and codes in order: module docstring).

    @param token the compact JWS.
    @param ca_root the platform root (or roots during a rollover).
    @param revoked revoked serials, or a callable asked with a serial.
    @param now unix seconds: pass the chain's clock (``AppState.chain_now()``); ``recordPrice`` refuses
        an observation after its block's time, so ``max_skew_s`` defaults to 0 and a price from the
        future is refused here (``PRICE_FROM_FUTURE``, worth retrying later) rather than reverted there.
    @param max_age_s how old ``observed_at`` may be (``PRICE_STALE``).
    @param currency the settlement token's currency, if the caller wants it checked: the ledger records
        no currency, so a price in another one would be read as if it were in the token's.
    @return a :class:`VerifiedPrice`; its ``digest`` is ``recordPrice``'s ``sourceHash``.
    """
    anchors = anchors_of(ca_root)
    jws, claims, x5c = _parse(token)

    codes = SignerCodes(
        WarehouseErrorCode.PRICE_MALFORMED,
        WarehouseErrorCode.PRICE_SOURCE_UNTRUSTED,
        WarehouseErrorCode.PRICE_SIG_INVALID,
        WarehouseErrorCode.PRICE_SOURCE_REVOKED,
    )
    source, trust = trusted_signer(
        jws, x5c, anchors, revoked, Role.PRICE_SOURCE, "a price source", codes, _fail
    )
    assert trust.certificate is not None
    serial = trust.certificate.serial_number
    if claims["source"] != source.chain_address:
        _fail(WarehouseErrorCode.PRICE_SOURCE_UNTRUSTED, "source names another participant than the signer")

    observed_at: int = claims["observed_at"]
    if observed_at > now + max_skew_s:
        _fail(WarehouseErrorCode.PRICE_FROM_FUTURE, f"observed {observed_at - now} s in the future")
    if observed_at < now - max_age_s:
        _fail(WarehouseErrorCode.PRICE_STALE, f"observed {now - observed_at} s ago, more than {max_age_s} s")
    if not trust.not_before_s <= observed_at <= trust.not_after_s:
        _fail(
            WarehouseErrorCode.PRICE_SOURCE_UNTRUSTED,
            "the source's certificate was not valid when it observed",
        )

    if currency is not None and claims["currency"] != currency:
        _fail(
            WarehouseErrorCode.PRICE_CURRENCY_MISMATCH,
            f"price is in {claims['currency']}, the ledger settles in {currency}",
        )
    per_thousand: int = claims["per_thousand"]
    if not 1 <= per_thousand <= MAX_PER_THOUSAND:
        _fail(WarehouseErrorCode.PRICE_IMPLAUSIBLE, "per_thousand must be 1..2**128-1 minor units")

    return VerifiedPrice(
        commodity=claims["commodity"],
        unit=claims["unit"],
        per_thousand=per_thousand,
        currency=claims["currency"],
        observed_at=observed_at,
        source=source,
        serial=serial,
        digest=price_digest(token),
    )
