"""Signed readings: a device's compact JWS (ES256) over a small claim set, and its verification.

A reading is a compact JWS (RFC 7515) ``BASE64URL(header) "." BASE64URL(claims) "." BASE64URL(r||s)``.

**Header**, exactly ``{"alg":"ES256","typ":"scf-reading+jwt","x5t#S256":"<thumbprint>"}``:

- ``alg`` ES256 only; ``typ`` keeps a reading from being taken for any other token of the platform;
- ``x5t#S256`` (RFC 7515 §4.1.8) names the device certificate by its SHA-256 thumbprint. The certificate
  does *not* travel with each reading (no ``x5c``): it is some 570 bytes (760 characters in ``x5c``)
  against a whole reading of about 340 characters, and devices send many readings on thin links
  (LoRaWAN, NB-IoT); the gateway issued every device
  certificate and keeps it, so it looks the certificate up by thumbprint (``certificates``). Not ``kid``:
  a thumbprint names one exact certificate, so a re-issued certificate (new binding) and the old one are
  never confused, and the verifier recomputes it from the certificate it was given, so a wrong look-up
  cannot substitute another. Whatever the look-up returns is still checked against the platform root
  and the device profile (once per certificate: a cache).

**Claims**, exactly these, in the spirit of RFC 9711 (Entity Attestation Token) with short names:

==========  ===============================================================================================
``dev``     the device id (an EAT ``ueid``-like id): must be the certificate's ``commonName``
``seq``     the device's counter, an integer >= 1, strictly increasing per device (across re-issues)
``iat``     when it was measured, unix seconds
``loc``     the storage location (or, for a ``gps_tag``, the geofence id) it measured: the certificate's
``rid``     the receipt id it reports on: one of the certificate's ``lots``
``m``       measurements, ``{name: value}``, 1 to 6 of :class:`Measurement`, integers in stated units
==========  ===============================================================================================

Measurements (never a float; a number with a fraction or an exponent anywhere is ``READING_MALFORMED``):

==============  ===========================================  ==========================================
``weight_kg``   the lot's weight, whole kilograms              scale
``count``       pieces counted                                 counter, camera
``temp_dc``     temperature, tenths of a degree Celsius        thermometer
``rh_pm``       relative humidity, per mille (0-1000)          thermometer
``seal``        ``"closed"`` or ``"open"``                     seal
``geo``         ``"inside"`` or ``"outside"`` the geofence     gps_tag
                ``loc`` names (the tag judges it itself;
                no coordinates travel)
==============  ===========================================  ==========================================

Integers are I-JSON (RFC 7493): at most ``2**53 - 1`` in magnitude, else ``READING_MALFORMED``.

**Verification** (:func:`verify_reading`) checks, in this order, and raises
:class:`~domain.warehouse.errors.ReadingError` with the first failure's code:

1. ``READING_MALFORMED``: not a compact JWS of at most 4 KiB, strict base64url, header or claims not
   exactly as above, a duplicate JSON key, a float, a wrong type, an unknown measurement, a signature
   that is not 64 bytes;
2. ``DEVICE_CERT_UNTRUSTED``: no certificate for the thumbprint, or it is not issued by the platform
   root, or it does not follow the device profile;
3. ``READING_SIG_INVALID``: the signature does not verify (forged with another key, or tampered);
4. ``DEVICE_REVOKED``: the certificate's serial is revoked (asked now);
5. ``DEVICE_NOT_BOUND``: ``dev`` is not the certificate's device; ``rid`` is not bound; ``loc`` is not the
   certificate's location; the receipt is unknown, of another warehouse, or in another location or
   geofence than the certificate's;
6. ``READING_REPLAYED`` (``seq`` equal to the last accepted one: the same reading again) or
   ``READING_OUT_OF_ORDER`` (``seq`` below it: an older reading after a newer);
7. ``READING_CLOCK_SKEW``: ``iat`` after ``now + max_skew_s`` or before ``now - max_age_s``;
8. ``DEVICE_CERT_UNTRUSTED``: the certificate was not valid at ``iat`` (expired, not yet valid);
9. ``READING_IMPLAUSIBLE``: a measurement the device's kind does not take (:data:`KIND_MEASUREMENTS`: a
   thermometer weighing), or a physically impossible value: a negative weight or count, a weight above
   :data:`MAX_WEIGHT_KG` (10^9 kg) or above 10 times the receipt's quantity in kg, a count above
   :data:`MAX_COUNT` or 10 times an ``H87`` receipt's pieces, a temperature outside -60.0..+80.0 degrees
   Celsius, a relative humidity outside 0..1000 per mille.

The caller stores ``seq`` as the device's last accepted one only once a reading verified.

The compact-JWS, strict-JSON and participant-certificate helpers at the top of the module
(:func:`jws_sign`, :func:`jws_split`, :func:`jws_header`, :func:`strict_json`, :func:`es256_verify`,
:func:`participant_trust`) are shared with price observations and alert explanations.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, NoReturn

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from domain.identity.ca import DEVICE_ID_PATTERN, ParticipantIdentity, participant_from_certificate
from domain.identity.ca import verify_issued_by as _verify_issued_by
from domain.identity.errors import CertificateProfileError
from domain.identity.signing import (
    RevocationCheck,
    b64url_decode,
    b64url_encode,
    reject_constant,
    reject_duplicates,
)
from domain.roles import Role
from domain.warehouse.devices import (
    LOCATION_PATTERN,
    DeviceIdentity,
    DeviceKind,
    certificate_thumbprint,
    device_from_certificate,
    is_revoked,
)
from domain.warehouse.errors import DeviceCertificateError, ReadingError, WarehouseErrorCode

__all__ = [
    "CERTIFICATE_CACHE_SIZE",
    "DEFAULT_MAX_AGE_S",
    "DEFAULT_MAX_SKEW_S",
    "IMPLAUSIBLE_FACTOR",
    "KIND_MEASUREMENTS",
    "MAX_COUNT",
    "MAX_INT",
    "MAX_READING_CHARS",
    "MAX_WEIGHT_KG",
    "READING_TYP",
    "RH_RANGE_PM",
    "TEMP_RANGE_DC",
    "UNIT_KILOGRAM",
    "UNIT_PIECE",
    "UNIT_TONNE",
    "CertificateLookup",
    "CompactJws",
    "LastSeq",
    "Measurement",
    "ParticipantTrust",
    "ReceiptFacts",
    "ReceiptLookup",
    "VerifiedReading",
    "anchors_of",
    "b64url_decode",
    "b64url_encode",
    "certificate_cache_info",
    "clear_certificate_cache",
    "encode_reading",
    "es256_verify",
    "jws_header",
    "jws_sign",
    "jws_split",
    "participant_trust",
    "reading_digest",
    "strict_json",
    "verify_reading",
    "x5c_entry",
]

READING_TYP: Final = "scf-reading+jwt"
#: The longest reading accepted (a reading is about 400 characters).
MAX_READING_CHARS: Final = 4096
#: The largest integer of any claim (RFC 7493 I-JSON: what every JSON parser reads exactly).
MAX_INT: Final = 2**53 - 1
#: How far ahead of ``now`` a reading's ``iat`` may be (device clocks drift).
DEFAULT_MAX_SKEW_S: Final = 300
#: How old a reading may be when it reaches the gateway (a device buffers while its link is down).
DEFAULT_MAX_AGE_S: Final = 86_400
#: Device certificates whose parse, CA signature and profile are remembered: about 3.6 KB each (RSS,
#: with the header), so some 30 MB when full. Beyond it a reading costs what a cold one does.
CERTIFICATE_CACHE_SIZE: Final = 8_192

#: UN/ECE Recommendation 20 unit codes of receipts the rules understand.
UNIT_KILOGRAM: Final = "KGM"
UNIT_TONNE: Final = "TNE"
UNIT_PIECE: Final = "H87"

#: Physical plausibility: a scale's and a counter's maximum, the thermometer's and hygrometer's ranges.
MAX_WEIGHT_KG: Final = 1_000_000_000  # a million tonnes: more than any silo
MAX_COUNT: Final = 1_000_000_000
TEMP_RANGE_DC: Final = (-600, 800)  # -60.0 .. +80.0 degrees Celsius
RH_RANGE_PM: Final = (0, 1000)
#: A weight or count above this many times the receipt's quantity is no measurement of that lot.
IMPLAUSIBLE_FACTOR: Final = 10

_SIG_BYTES = 64
_THUMBPRINT_RE = re.compile(r"\A[A-Za-z0-9_-]{43}\Z")
_DEVICE_ID_RE = re.compile(DEVICE_ID_PATTERN)
_LOCATION_RE = re.compile(LOCATION_PATTERN)
_CLAIMS = frozenset({"dev", "seq", "iat", "loc", "rid", "m"})
_READING_HEADER = frozenset({"alg", "typ", "x5t#S256"})


class Measurement(StrEnum):
    """The named measurements a reading may carry (units in the name)."""

    WEIGHT_KG = "weight_kg"
    COUNT = "count"
    TEMP_DC = "temp_dc"
    RH_PM = "rh_pm"
    SEAL = "seal"
    GEO = "geo"


_INT_MEASUREMENTS = frozenset(
    {Measurement.WEIGHT_KG, Measurement.COUNT, Measurement.TEMP_DC, Measurement.RH_PM}
)
_STATES: Mapping[str, frozenset[str]] = MappingProxyType(
    {Measurement.SEAL: frozenset({"closed", "open"}), Measurement.GEO: frozenset({"inside", "outside"})}
)

#: Which measurements each kind of device may send: anything else is ``READING_IMPLAUSIBLE``.
KIND_MEASUREMENTS: Mapping[DeviceKind, frozenset[Measurement]] = MappingProxyType(
    {
        DeviceKind.SCALE: frozenset({Measurement.WEIGHT_KG}),
        DeviceKind.COUNTER: frozenset({Measurement.COUNT}),
        DeviceKind.CAMERA: frozenset({Measurement.COUNT}),
        DeviceKind.THERMOMETER: frozenset({Measurement.TEMP_DC, Measurement.RH_PM}),
        DeviceKind.SEAL: frozenset({Measurement.SEAL}),
        DeviceKind.GPS_TAG: frozenset({Measurement.GEO}),
    }
)


# --------------------------------------------------------------------------------------------------
# Compact JWS, ES256, strict JSON: shared by readings, price observations and explanations
# --------------------------------------------------------------------------------------------------


def _reject_float(text: str) -> NoReturn:
    raise ValueError(f"{text} has a fraction or an exponent: every number here is an integer")


def strict_json(data: bytes) -> Any:
    """Parse UTF-8 JSON strictly: no duplicate member, no number with a fraction or exponent, no
    ``NaN``/``Infinity``. Raises ``ValueError`` (with a message saying why)."""
    try:
        return json.loads(
            data.decode("utf-8"),
            object_pairs_hook=reject_duplicates,
            parse_float=_reject_float,
            parse_constant=reject_constant,
        )
    except UnicodeDecodeError:
        raise ValueError("not UTF-8") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None


@dataclass(frozen=True, slots=True)
class CompactJws:
    """The parts of a compact JWS, split and decoded, not yet verified."""

    header_b64: str
    payload: bytes
    signing_input: bytes
    signature: bytes


def jws_sign(header: Mapping[str, Any], payload: bytes, key: ec.EllipticCurvePrivateKey) -> str:
    """A compact JWS of ``payload`` with the protected ``header``, signed ES256 (raw ``r || s``)."""
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("ES256 needs an ECDSA P-256 private key")
    protected = b64url_encode(json.dumps(dict(header), separators=(",", ":")).encode("utf-8"))
    signing_input = f"{protected}.{b64url_encode(payload)}"
    r, s = decode_dss_signature(key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256())))
    return f"{signing_input}.{b64url_encode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def jws_split(token: str, max_chars: int) -> CompactJws:
    """Split and decode a compact JWS (three non-empty parts, strict base64url, a 64-byte signature).

    Raises ``ValueError`` saying what is wrong; the header is not parsed here.
    """
    if not isinstance(token, str) or len(token) > max_chars:
        raise ValueError(f"a token is a string of at most {max_chars} characters")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        raise ValueError("a compact JWS has three non-empty dot-separated parts")
    header_b64, payload_b64, signature_b64 = parts
    try:
        payload = b64url_decode(payload_b64)
        signature = b64url_decode(signature_b64)
    except (ValueError, binascii.Error):
        raise ValueError("payload or signature is not base64url") from None
    if len(signature) != _SIG_BYTES:
        raise ValueError(f"an ES256 signature is {_SIG_BYTES} bytes (raw r||s), not {len(signature)}")
    signing_input = token[: len(header_b64) + 1 + len(payload_b64)].encode("ascii")
    return CompactJws(header_b64, payload, signing_input, signature)


def jws_header(header_b64: str) -> dict[str, Any]:
    """The protected header of a compact JWS as a JSON object (strictly parsed); ``ValueError``."""
    try:
        header = strict_json(b64url_decode(header_b64))
    except (ValueError, binascii.Error) as exc:
        raise ValueError(f"protected header is not base64url JSON: {exc}") from None
    if not isinstance(header, dict):
        raise ValueError("protected header is not a JSON object")
    return header


def es256_verify(public_key: ec.EllipticCurvePublicKey, signing_input: bytes, signature: bytes) -> bool:
    """Whether ``signature`` (raw 64-byte ``r || s``) is ``public_key``'s ES256 signature of the input."""
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    try:
        public_key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True


def x5c_entry(certificate: x509.Certificate) -> str:
    """An ``x5c`` element (RFC 7515 §4.1.6): standard base64 (with padding) of the certificate's DER."""
    return base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode("ascii")


def anchors_of(ca_root: x509.Certificate | Sequence[x509.Certificate]) -> tuple[x509.Certificate, ...]:
    """The trust anchors as a tuple (one root, or several during a rollover); ``ValueError`` if none."""
    anchors = (ca_root,) if isinstance(ca_root, x509.Certificate) else tuple(ca_root)
    if not anchors:
        raise ValueError("at least one platform CA certificate is required")
    return anchors


@dataclass(frozen=True, slots=True)
class ParticipantTrust:
    """What a participant certificate carried in an ``x5c`` is worth, whatever it signs: issued by the
    platform root or not, its identity (or why its profile fails), its key. Revocation and validity are
    judged at each verification, never cached."""

    certificate: x509.Certificate | None
    from_platform_ca: bool
    identity: ParticipantIdentity | None
    public_key: ec.EllipticCurvePublicKey | None
    problem: str | None
    not_before_s: int = 0
    not_after_s: int = 0


@functools.lru_cache(maxsize=1024)
def participant_trust(x5c_entry: str, anchors: tuple[x509.Certificate, ...]) -> ParticipantTrust:
    """Trust in the certificate of one ``x5c`` entry (standard base64 of its DER), cached by the text.

    The participant profile is :func:`domain.identity.ca.participant_from_certificate`'s, as for
    document signatures.
    """
    try:
        der = base64.b64decode(x5c_entry, validate=True)
        if base64.b64encode(der).decode("ascii") != x5c_entry:
            raise ValueError("non-canonical base64")
        cert = x509.load_der_x509_certificate(der)
    except (ValueError, binascii.Error):
        return ParticipantTrust(None, False, None, None, "x5c does not hold a DER certificate")
    window = (int(cert.not_valid_before_utc.timestamp()), int(cert.not_valid_after_utc.timestamp()))
    if not any(_verify_issued_by(cert, anchor) for anchor in anchors):
        return ParticipantTrust(cert, False, None, None, "certificate was not issued by the platform CA")
    try:
        identity = participant_from_certificate(cert)
    except CertificateProfileError as exc:
        return ParticipantTrust(cert, True, None, None, exc.message)
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)  # the profile checked it
    return ParticipantTrust(cert, True, identity, key, None, *window)


@dataclass(frozen=True, slots=True)
class SignerCodes:
    """The codes a participant-signed token fails with: its certificate unreadable (``malformed``), not a
    trusted participant of the expected role (``untrusted``), a bad signature, a revoked certificate."""

    malformed: WarehouseErrorCode
    untrusted: WarehouseErrorCode
    sig_invalid: WarehouseErrorCode
    revoked: WarehouseErrorCode


def trusted_signer(
    jws: CompactJws,
    x5c: str,
    anchors: tuple[x509.Certificate, ...],
    revoked: RevocationCheck,
    role: Role,
    what: str,
    codes: SignerCodes,
    fail: Callable[[WarehouseErrorCode, str], NoReturn],
) -> tuple[ParticipantIdentity, ParticipantTrust]:
    """The participant who signed ``jws`` with the certificate in ``x5c``, checked in this order: the
    certificate readable, issued by the platform root with the participant profile, of ``role`` (``what``
    names it in the message: "a price source"); the signature; not revoked. ``fail`` raises with the
    code of the first failure. Validity at the token's own time is the caller's to check."""
    trust = participant_trust(x5c, anchors)
    if trust.certificate is None:
        fail(codes.malformed, trust.problem or "x5c does not hold a DER certificate")
    if trust.identity is None or trust.public_key is None:
        fail(codes.untrusted, trust.problem or "not a participant certificate")
    signer = trust.identity
    if signer.role is not role:
        fail(codes.untrusted, f"a {signer.role.certificate_name} is not {what}")
    if not es256_verify(trust.public_key, jws.signing_input, jws.signature):
        fail(codes.sig_invalid, "signature does not verify with the signer's key")
    if is_revoked(revoked, trust.certificate.serial_number):
        fail(codes.revoked, f"the certificate of {signer.legal_name} is revoked")
    return signer, trust


# --------------------------------------------------------------------------------------------------
# Receipts
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReceiptFacts:
    """What the ledger says of the receipt a reading reports on (``WarehouseReceipts.receipt`` and its
    ``ReceiptIssued`` event).

    ``quantity`` is in the unit's smallest step as the contract records it, and the step of ``KGM`` is
    the kilogram, of ``TNE`` the tonne, of ``H87`` the piece: the unit code names what the quantity
    counts, which is what the contract's valuation needs (``quantity * price / 1000``, a price per 1,000
    units of the receipt's unit). So, exactly, in integers: ``KGM`` -> ``quantity`` kg, ``TNE`` ->
    ``quantity * 1000`` kg, ``H87`` -> ``quantity`` pieces. ``geofence`` is the id of the geofence the
    goods must stay in (where a ``gps_tag`` watches them), if any.
    """

    receipt_id: int
    warehouse: str
    commodity: str
    quantity: int
    unit: str
    location: str
    geofence: str | None = None

    def __post_init__(self) -> None:
        if type(self.receipt_id) is not int or self.receipt_id < 1:
            raise ValueError("receipt_id must be a positive integer")
        if type(self.quantity) is not int or self.quantity < 0:
            raise ValueError("quantity must be a non-negative integer")
        if not isinstance(self.warehouse, str):
            raise ValueError("warehouse must be a chain address")
        object.__setattr__(self, "warehouse", self.warehouse.lower())

    @property
    def quantity_kg(self) -> int | None:
        """The receipt's quantity in kilograms (``KGM``, ``TNE``), or ``None`` for another unit."""
        if self.unit == UNIT_KILOGRAM:
            return self.quantity
        if self.unit == UNIT_TONNE:
            return self.quantity * 1000
        return None

    @property
    def quantity_pieces(self) -> int | None:
        """The receipt's quantity in pieces (``H87``), or ``None`` for another unit."""
        return self.quantity if self.unit == UNIT_PIECE else None


# --------------------------------------------------------------------------------------------------
# Results and inputs
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VerifiedReading:
    """A reading that verified: who measured what, when, on which receipt; and the token's digest.

    ``digest`` is the SHA-256 of the token's exact ASCII bytes (32 bytes): the evidence hash an alert
    raised by this reading records on chain (``recordAlert(receiptId, code, evidenceHash)``).
    """

    device: DeviceIdentity
    seq: int
    iat: int
    receipt_id: int
    location: str
    measurements: Mapping[str, int | str]
    digest: bytes = field(repr=False)


#: The certificate of a thumbprint (``x5t#S256``): a mapping or a callable; DER bytes or the certificate;
#: ``None`` (or absent) if no device certificate has it.
CertificateLookup = Callable[[str], x509.Certificate | bytes | None] | Mapping[str, x509.Certificate | bytes]
#: The device's last accepted ``seq`` (``None``: none yet), or a callable asked with the device id.
LastSeq = int | None | Callable[[str], int | None]
#: The receipt a reading reports on, or a callable asked with its ``rid`` (``None``: no such receipt).
ReceiptLookup = ReceiptFacts | Callable[[int], ReceiptFacts | None]


# --------------------------------------------------------------------------------------------------
# Device certificate trust (cached)
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _DeviceTrust:
    thumbprint: str
    device: DeviceIdentity | None
    public_key: ec.EllipticCurvePublicKey | None
    problem: str | None
    not_before_s: int = 0
    not_after_s: int = 0


@functools.lru_cache(maxsize=CERTIFICATE_CACHE_SIZE)
def _device_trust(
    certificate: x509.Certificate | bytes, anchors: tuple[x509.Certificate, ...]
) -> _DeviceTrust:
    """Parse, CA signature and profile of one device certificate, done once per certificate and anchors.

    Keyed by the certificate (or its DER bytes) itself: a certificate is immutable, so neither its
    issuer's signature nor its extensions can change. Revocation and validity are not in here.
    """
    if isinstance(certificate, bytes):
        try:
            cert = x509.load_der_x509_certificate(certificate)
        except ValueError:
            return _DeviceTrust("", None, None, "the registered certificate is not DER")
        der = certificate
    else:
        cert = certificate
        der = cert.public_bytes(serialization.Encoding.DER)
    thumbprint = certificate_thumbprint(der)
    if not any(_verify_issued_by(cert, anchor) for anchor in anchors):
        return _DeviceTrust(thumbprint, None, None, "device certificate was not issued by the platform CA")
    try:
        device = device_from_certificate(cert)
    except DeviceCertificateError as exc:
        return _DeviceTrust(thumbprint, None, None, f"not a device certificate: {exc.message}")
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey)  # the profile checked it
    return _DeviceTrust(
        thumbprint,
        device,
        key,
        None,
        int(device.not_before.timestamp()),
        int(device.not_after.timestamp()),
    )


def clear_certificate_cache() -> None:
    """Forget every cached device certificate and reading header (tests, the cold-cache benchmark)."""
    _device_trust.cache_clear()
    _reading_thumbprint.cache_clear()


def certificate_cache_info() -> Any:
    """Hits, misses and size of the device-certificate cache (``functools`` ``CacheInfo``)."""
    return _device_trust.cache_info()


# --------------------------------------------------------------------------------------------------
# Encoding (what a device or the simulator does)
# --------------------------------------------------------------------------------------------------


def reading_digest(token: str) -> bytes:
    """SHA-256 of the token's exact bytes: the reading's on-chain evidence hash (32 bytes)."""
    return hashlib.sha256(token.encode("ascii")).digest()


def encode_reading(key: ec.EllipticCurvePrivateKey, cert: x509.Certificate, claims: Mapping[str, Any]) -> str:
    """Sign ``claims`` as a reading of the device of ``cert``: the compact JWS a device sends.

    ``claims`` are written as given (compact JSON; ``NaN`` refused): they are *not* judged here, so a
    simulator can send faulty readings on purpose; :func:`verify_reading` is the judge. Raises
    ``ValueError`` if ``key`` is not the P-256 key of ``cert``.

    @param key the device's P-256 private key.
    @param cert the device's certificate (named in the header by its ``x5t#S256``).
    @param claims ``dev``, ``seq``, ``iat``, ``loc``, ``rid``, ``m`` (module docstring).
    @return the compact JWS.
    """
    cert_key = cert.public_key()
    if not isinstance(cert_key, ec.EllipticCurvePublicKey) or cert_key.public_numbers() != (
        key.public_key().public_numbers()
    ):
        raise ValueError("private key does not belong to the certificate")
    header = {"alg": "ES256", "typ": READING_TYP, "x5t#S256": certificate_thumbprint(cert)}
    payload = json.dumps(dict(claims), separators=(",", ":"), allow_nan=False).encode("utf-8")
    return jws_sign(header, payload, key)


# --------------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------------


def _fail(code: WarehouseErrorCode, message: str) -> NoReturn:
    raise ReadingError(code, message)


@functools.lru_cache(maxsize=CERTIFICATE_CACHE_SIZE)
def _reading_thumbprint(header_b64: str) -> str:
    """The ``x5t#S256`` of a reading's header, after checking the header exactly; cached by its text
    (a device sends the same header with every reading). ``ValueError`` if the header is wrong."""
    header = jws_header(header_b64)
    if set(header) != _READING_HEADER:
        raise ValueError(f"header members must be exactly {sorted(_READING_HEADER)}")
    if header["alg"] != "ES256":
        raise ValueError(f"alg {header['alg']!r} is not accepted; only ES256")
    if header["typ"] != READING_TYP:
        raise ValueError(f"typ must be {READING_TYP!r}")
    thumbprint = header["x5t#S256"]
    if not isinstance(thumbprint, str) or not _THUMBPRINT_RE.match(thumbprint):
        raise ValueError("x5t#S256 must be the base64url SHA-256 of the certificate (43 characters)")
    return thumbprint


@dataclass(frozen=True, slots=True)
class _Claims:
    dev: str
    seq: int
    iat: int
    loc: str
    rid: int
    m: Mapping[str, int | str]


def _int(value: object, name: str, low: int) -> int:
    if type(value) is not int or not low <= value <= MAX_INT:
        _fail(WarehouseErrorCode.READING_MALFORMED, f"{name} must be an integer {low}..2**53-1")
    return value


def _claims(payload: bytes) -> _Claims:
    try:
        raw = strict_json(payload)
    except ValueError as exc:
        _fail(WarehouseErrorCode.READING_MALFORMED, f"claims are not strict JSON: {exc}")
    if not isinstance(raw, dict) or set(raw) != _CLAIMS:
        _fail(WarehouseErrorCode.READING_MALFORMED, f"claims must be an object of exactly {sorted(_CLAIMS)}")
    dev, loc, m = raw["dev"], raw["loc"], raw["m"]
    if not isinstance(dev, str) or not _DEVICE_ID_RE.match(dev):
        _fail(WarehouseErrorCode.READING_MALFORMED, "dev must be a device id (dev-...)")
    if not isinstance(loc, str) or not _LOCATION_RE.match(loc):
        _fail(WarehouseErrorCode.READING_MALFORMED, "loc must be a storage location or geofence id")
    if not isinstance(m, dict) or not m:
        _fail(WarehouseErrorCode.READING_MALFORMED, "m must be a non-empty object of measurements")
    measurements: dict[str, int | str] = {}
    for name, value in m.items():
        if name in _INT_MEASUREMENTS:
            if type(value) is not int or abs(value) > MAX_INT:
                _fail(WarehouseErrorCode.READING_MALFORMED, f"{name} must be an integer within ±(2**53-1)")
        elif name in _STATES:
            if not isinstance(value, str) or value not in _STATES[name]:
                _fail(WarehouseErrorCode.READING_MALFORMED, f"{name} must be one of {sorted(_STATES[name])}")
        else:
            _fail(WarehouseErrorCode.READING_MALFORMED, f"unknown measurement {name!r}")
        measurements[name] = value
    return _Claims(
        dev=dev,
        seq=_int(raw["seq"], "seq", 1),
        iat=_int(raw["iat"], "iat", 0),
        loc=loc,
        rid=_int(raw["rid"], "rid", 1),
        m=MappingProxyType(measurements),
    )


def _lookup_certificate(certificates: CertificateLookup, thumbprint: str) -> x509.Certificate | bytes | None:
    if isinstance(certificates, Mapping):
        return certificates.get(thumbprint)
    return certificates(thumbprint)


def _implausible(device: DeviceIdentity, m: Mapping[str, int | str], receipt: ReceiptFacts) -> str | None:
    """Why the measurements cannot be true, or ``None``: a measurement the device's kind does not take;
    a negative weight or count; a weight above :data:`MAX_WEIGHT_KG` or above
    :data:`IMPLAUSIBLE_FACTOR` times the receipt's quantity in kilograms (``KGM``, ``TNE``); a count above
    :data:`MAX_COUNT` or that factor times the receipt's pieces (``H87``); a temperature outside
    -60.0..+80.0 degrees Celsius; a humidity outside 0..1000 per mille."""
    allowed = KIND_MEASUREMENTS[device.kind]
    for name in m:
        if name not in allowed:
            return f"a {device.kind.value} does not measure {name}"
    weight = m.get(Measurement.WEIGHT_KG)
    if isinstance(weight, int):
        kg = receipt.quantity_kg
        if weight < 0 or weight > MAX_WEIGHT_KG:
            return f"weight {weight} kg is outside 0..{MAX_WEIGHT_KG} kg"
        if kg is not None and weight > IMPLAUSIBLE_FACTOR * kg:
            return f"weight {weight} kg is more than {IMPLAUSIBLE_FACTOR} times the receipt's {kg} kg"
    count = m.get(Measurement.COUNT)
    if isinstance(count, int):
        pieces = receipt.quantity_pieces
        if count < 0 or count > MAX_COUNT:
            return f"count {count} is outside 0..{MAX_COUNT}"
        if pieces is not None and count > IMPLAUSIBLE_FACTOR * pieces:
            return f"count {count} is more than {IMPLAUSIBLE_FACTOR} times the receipt's {pieces} pieces"
    temp = m.get(Measurement.TEMP_DC)
    if isinstance(temp, int) and not TEMP_RANGE_DC[0] <= temp <= TEMP_RANGE_DC[1]:
        return f"temperature {temp} dC is outside -600..800 dC (-60..+80 degrees Celsius)"
    rh = m.get(Measurement.RH_PM)
    if isinstance(rh, int) and not RH_RANGE_PM[0] <= rh <= RH_RANGE_PM[1]:
        return f"relative humidity {rh} per mille is outside 0..1000"
    return None


def verify_reading(
    token: str,
    *,
    ca_root: x509.Certificate | Sequence[x509.Certificate],
    certificates: CertificateLookup,
    revoked: RevocationCheck,
    last_seq: LastSeq,
    now: int,
    receipt: ReceiptLookup,
    max_skew_s: int = DEFAULT_MAX_SKEW_S,
    max_age_s: int = DEFAULT_MAX_AGE_S,
) -> VerifiedReading:
    """Verify one signed reading; return what it proves, or raise
    :class:`~domain.warehouse.errors.ReadingError` (checks and codes in order: module docstring).

    @param token the compact JWS the device sent.
    @param ca_root the platform root (or roots, during a rollover) device certificates must chain to.
    @param certificates the device certificate of a thumbprint (the gateway's registry of the device
        certificates it issued, by :func:`~domain.warehouse.devices.certificate_thumbprint`).
    @param revoked revoked serials, or a callable asked with a serial (the gateway's revocations).
    @param last_seq the device's last accepted ``seq`` (``None`` if none), or a callable asked with the
        device id (asked only once the signature verified).
    @param now the gateway's time, unix seconds (the wall clock: readings are about the devices' time).
    @param receipt the receipt the reading reports on, or a callable asked with its ``rid``.
    @param max_skew_s how far in the future ``iat`` may be; @param max_age_s how far in the past.
    @return a :class:`VerifiedReading`; store its ``seq`` as the device's last accepted one.
    """
    anchors = anchors_of(ca_root)

    # 1. Structure, header and claims.
    try:
        jws = jws_split(token, MAX_READING_CHARS)
        thumbprint = _reading_thumbprint(jws.header_b64)
    except ValueError as exc:
        _fail(WarehouseErrorCode.READING_MALFORMED, str(exc))
    claims = _claims(jws.payload)

    # 2. The certificate: registered, from the platform root, a device's.
    found = _lookup_certificate(certificates, thumbprint)
    if found is None:
        _fail(WarehouseErrorCode.DEVICE_CERT_UNTRUSTED, "no device certificate has this thumbprint")
    trust = _device_trust(found, anchors)
    if trust.device is None or trust.public_key is None:
        _fail(WarehouseErrorCode.DEVICE_CERT_UNTRUSTED, trust.problem or "not a device certificate")
    if trust.thumbprint != thumbprint:
        _fail(
            WarehouseErrorCode.DEVICE_CERT_UNTRUSTED, "the certificate found is not the one the header names"
        )
    device = trust.device

    # 3. The signature over the exact bytes.
    if not es256_verify(trust.public_key, jws.signing_input, jws.signature):
        _fail(WarehouseErrorCode.READING_SIG_INVALID, "signature does not verify with the device's key")

    # 4. Revocation, as known now.
    if is_revoked(revoked, device.serial):
        _fail(WarehouseErrorCode.DEVICE_REVOKED, f"the certificate of {device.device_id} is revoked")

    # 5. Binding: this device, this receipt, this place.
    if claims.dev != device.device_id:
        _fail(
            WarehouseErrorCode.DEVICE_NOT_BOUND,
            f"the reading names {claims.dev} but is signed by {device.device_id}",
        )
    if claims.rid not in device.receipt_ids:
        _fail(WarehouseErrorCode.DEVICE_NOT_BOUND, f"{device.device_id} is not bound to receipt {claims.rid}")
    if claims.loc != device.location:
        _fail(
            WarehouseErrorCode.DEVICE_NOT_BOUND,
            f"{device.device_id} is bound to {device.location}, the reading is from {claims.loc}",
        )
    facts = receipt(claims.rid) if callable(receipt) else receipt
    if facts is None or facts.receipt_id != claims.rid:
        _fail(WarehouseErrorCode.DEVICE_NOT_BOUND, f"receipt {claims.rid} is not the receipt given")
    if facts.warehouse != device.warehouse:
        _fail(WarehouseErrorCode.DEVICE_NOT_BOUND, f"receipt {claims.rid} is held by another warehouse")
    place = facts.geofence if device.kind is DeviceKind.GPS_TAG else facts.location
    if place != device.location:
        what = "geofence" if device.kind is DeviceKind.GPS_TAG else "location"
        _fail(
            WarehouseErrorCode.DEVICE_NOT_BOUND,
            f"receipt {claims.rid}'s {what} is {place}, {device.device_id} watches {device.location}",
        )

    # 6. The counter.
    last = last_seq(device.device_id) if callable(last_seq) else last_seq
    if last is not None:
        if claims.seq == last:
            _fail(
                WarehouseErrorCode.READING_REPLAYED,
                f"reading {claims.seq} of {device.device_id} was already accepted",
            )
        if claims.seq < last:
            _fail(
                WarehouseErrorCode.READING_OUT_OF_ORDER,
                f"reading {claims.seq} of {device.device_id} comes after its reading {last}",
            )

    # 7. Time.
    if claims.iat > now + max_skew_s:
        _fail(WarehouseErrorCode.READING_CLOCK_SKEW, f"measured {claims.iat - now} s in the future")
    if claims.iat < now - max_age_s:
        _fail(
            WarehouseErrorCode.READING_CLOCK_SKEW,
            f"measured {now - claims.iat} s ago, more than {max_age_s} s",
        )

    # 8. The certificate was valid when the reading was made.
    if not trust.not_before_s <= claims.iat <= trust.not_after_s:
        _fail(
            WarehouseErrorCode.DEVICE_CERT_UNTRUSTED,
            "the device certificate was not valid at the reading's time",
        )

    # 9. Physics.
    problem = _implausible(device, claims.m, facts)
    if problem is not None:
        _fail(WarehouseErrorCode.READING_IMPLAUSIBLE, problem)

    return VerifiedReading(
        device=device,
        seq=claims.seq,
        iat=claims.iat,
        receipt_id=claims.rid,
        location=claims.loc,
        measurements=claims.m,
        digest=hashlib.sha256(token.encode("ascii")).digest(),
    )
