"""Detached document signatures: JWS (RFC 7515) with an unencoded, detached payload (RFC 7797).

Profile (strict; anything else is refused):

* compact serialization ``BASE64URL(protected) + ".." + BASE64URL(signature)`` -- the payload
  part is empty because the payload is the document's exact bytes, kept beside the signature;
* signing input ``ASCII(BASE64URL(protected)) || "." || payload`` (``"b64": false``);
* protected header, exactly these members:

  ``alg``     ``"ES256"`` only (``none``, ``HS256`` and everything else: ``SIG_ALG_UNSUPPORTED``)
  ``b64``     ``false``
  ``crit``    ``["b64"]``
  ``x5c``     one element: the signer's certificate, standard base64 of its DER
  ``sigT``    claimed signing time, ``YYYY-MM-DDTHH:MM:SSZ`` (UTC, whole seconds)
  ``kind``    the :class:`~domain.roles.DocumentKind`
  ``sha256``  lower-case hex SHA-256 of the payload
  ``att``     optional: ``{name: sha256 hex}`` of bound attachments (e.g. the PDF rendering)

* signature: ECDSA P-256 / SHA-256 as raw ``r || s``, 64 bytes (not DER).

``jku``, ``jwk``, ``x5u``, ``kid`` and other members are refused: the verifier never fetches or
trusts a key the signature points to; trust comes only from the platform CA.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, NoReturn

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from domain.documents.model import DocumentKind
from domain.identity.ca import ParticipantIdentity, participant_from_certificate, verify_issued_by
from domain.identity.errors import (
    AttachmentMismatchError,
    CertificateProfileError,
    ErrorCode,
    SignatureVerificationError,
)
from domain.roles import ALLOWED_SIGNER_ROLES

__all__ = [
    "DEFAULT_MAX_CLOCK_SKEW",
    "DEFAULT_MAX_SIGNATURE_AGE",
    "ExpectedSigner",
    "RevocationCheck",
    "VerifiedSignature",
    "b64url_decode",
    "b64url_encode",
    "reject_constant",
    "reject_duplicates",
    "sha256_hex",
    "sign_detached",
    "verify_attachment",
    "verify_detached",
]

#: How far in the future a claimed signing time may be (clock skew between signer and gateway).
DEFAULT_MAX_CLOCK_SKEW = timedelta(minutes=5)
#: How old a claimed signing time may be when the gateway first verifies the signature.
DEFAULT_MAX_SIGNATURE_AGE = timedelta(hours=24)

#: Either a set-like of revoked serial numbers, or a callable answering "is this serial revoked?".
#: Exceptions raised by the callable propagate: verification never succeeds without an answer.
RevocationCheck = Callable[[int], bool] | Container[int]

ES256 = "ES256"
_SIG_BYTES = 64
_MAX_JWS_CHARS = 64 * 1024
_SIGT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_SIGT_RE = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
_SHA256_HEX_RE = re.compile(r"\A[0-9a-f]{64}\Z")
_B64URL_RE = re.compile(r"\A[A-Za-z0-9_-]*\Z")
_REQUIRED_MEMBERS = frozenset({"alg", "b64", "crit", "x5c", "sigT", "kind", "sha256"})
_ALLOWED_MEMBERS = _REQUIRED_MEMBERS | {"att"}
_MAX_ATTACHMENTS = 64
#: certificates whose decoding, CA signature and profile are remembered (a few hundred bytes each)
_CERTIFICATE_CACHE_SIZE = 4096


# --------------------------------------------------------------------------------------------------
# Results and inputs
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpectedSigner:
    """The issuer the document itself names; every field given must match the certificate.

    Prefer ``registration_id`` (exact match). ``chain_address`` is compared case-insensitively,
    ``legal_name`` exactly (after Unicode NFC normalization, as in the certificate).
    """

    registration_id: str | None = None
    chain_address: str | None = None
    legal_name: str | None = None

    def __post_init__(self) -> None:
        if self.registration_id is None and self.chain_address is None and self.legal_name is None:
            raise ValueError("ExpectedSigner needs at least one field")

    def mismatches(self, signer: ParticipantIdentity) -> list[str]:
        """Names of the given fields that differ from ``signer`` (empty if all match)."""
        out = []
        if self.registration_id is not None and self.registration_id != signer.registration_id:
            out.append("registration_id")
        if self.chain_address is not None and self.chain_address.lower() != signer.chain_address:
            out.append("chain_address")
        if self.legal_name is not None and unicodedata.normalize("NFC", self.legal_name) != signer.legal_name:
            out.append("legal_name")
        return out


@dataclass(frozen=True)
class VerifiedSignature:
    """What a valid signature proves: who signed which kind of document, when (as claimed), and how."""

    signer: ParticipantIdentity
    certificate: x509.Certificate = field(repr=False)
    serial_number: int
    kind: DocumentKind
    signing_time: datetime
    payload_sha256: str
    attachments: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


# --------------------------------------------------------------------------------------------------
# Hash helpers and attachments
# --------------------------------------------------------------------------------------------------


def sha256_hex(data: bytes) -> str:
    """Lower-case hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def verify_attachment(data: bytes, expected_sha256: str) -> None:
    """Raise :class:`AttachmentMismatchError` (``ATTACHMENT_HASH_MISMATCH``) unless
    ``sha256(data) == expected_sha256`` (hex, case-insensitive)."""
    expected = expected_sha256.strip().lower() if isinstance(expected_sha256, str) else ""
    if not _SHA256_HEX_RE.match(expected):
        raise AttachmentMismatchError("expected hash is not a 64-digit hex SHA-256")
    if not hmac.compare_digest(sha256_hex(data), expected):
        raise AttachmentMismatchError("attachment bytes do not match the bound SHA-256")


# --------------------------------------------------------------------------------------------------
# Encoding helpers
# --------------------------------------------------------------------------------------------------


def b64url_encode(data: bytes) -> str:
    """base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding; non-canonical encodings are refused."""
    if not _B64URL_RE.match(text) or len(text) % 4 == 1:
        raise ValueError("not base64url")
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if b64url_encode(raw) != text:
        raise ValueError("non-canonical base64url")
    return raw


def _b64_decode_strict(text: str) -> bytes:
    raw = base64.b64decode(text, validate=True)
    if base64.b64encode(raw).decode("ascii") != text:
        raise ValueError("non-canonical base64")
    return raw


def _format_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime(_SIGT_FORMAT)


def reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``json.loads``' ``object_pairs_hook`` refusing a member named twice (``ValueError``)."""
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate member {k!r}")
        out[k] = v
    return out


def reject_constant(name: str) -> NoReturn:
    """``json.loads``' ``parse_constant`` refusing ``NaN`` and ``Infinity`` (``ValueError``)."""
    raise ValueError(f"non-standard JSON constant {name}")


# --------------------------------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------------------------------


def sign_detached(
    payload: bytes,
    key: ec.EllipticCurvePrivateKey,
    cert: x509.Certificate,
    kind: DocumentKind,
    signing_time: datetime | None = None,
    *,
    attachments: Mapping[str, str] | None = None,
) -> str:
    """Sign ``payload`` (the document's exact bytes); return the compact detached JWS ``header..sig``.

    ``signing_time`` (timezone-aware, default now) is truncated to whole seconds. ``attachments``
    maps a name to the lower-case hex SHA-256 of each attachment to bind (see :func:`sha256_hex`).
    Raises ``ValueError`` if ``key`` is not the P-256 key of ``cert``. The signer's role is *not*
    checked here; the verifier is the authority on that.
    """
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise ValueError("ES256 needs an ECDSA P-256 private key")
    cert_key = cert.public_key()
    if not isinstance(cert_key, ec.EllipticCurvePublicKey) or cert_key.public_numbers() != (
        key.public_key().public_numbers()
    ):
        raise ValueError("private key does not belong to the certificate")
    when = datetime.now(UTC) if signing_time is None else signing_time
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError("signing_time must be timezone-aware")
    header: dict[str, Any] = {
        "alg": ES256,
        "b64": False,
        "crit": ["b64"],
        "x5c": [base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")],
        "sigT": _format_time(when),
        "kind": DocumentKind(kind).value,
        "sha256": sha256_hex(payload),
    }
    if attachments:
        if len(attachments) > _MAX_ATTACHMENTS:
            raise ValueError(f"at most {_MAX_ATTACHMENTS} attachments")
        for name, digest in attachments.items():
            if not isinstance(name, str) or not name or not _SHA256_HEX_RE.match(digest):
                raise ValueError("attachments must map non-empty names to lower-case hex SHA-256")
        header["att"] = dict(attachments)
    protected = b64url_encode(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    der = key.sign(protected.encode("ascii") + b"." + payload, ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{protected}..{b64url_encode(raw)}"


# --------------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------------


def _fail(code: ErrorCode, message: str) -> NoReturn:
    raise SignatureVerificationError(code, message)


@dataclass(frozen=True)
class _Parsed:
    protected_b64: str
    signature: bytes
    certificate: x509.Certificate
    signing_time: datetime
    kind: DocumentKind
    payload_sha256: str
    attachments: Mapping[str, str]


def _parse(jws: str) -> _Parsed:
    if not isinstance(jws, str) or len(jws) > _MAX_JWS_CHARS:
        _fail(ErrorCode.SIG_MALFORMED, "JWS must be a string of reasonable size")
    parts = jws.split(".")
    if len(parts) != 3:
        _fail(ErrorCode.SIG_MALFORMED, "compact JWS must have three dot-separated parts")
    protected_b64, payload_part, signature_b64 = parts
    if payload_part:
        _fail(ErrorCode.SIG_MALFORMED, "payload part must be empty (detached payload)")
    try:
        header = json.loads(
            b64url_decode(protected_b64).decode("utf-8"),
            object_pairs_hook=reject_duplicates,
            parse_constant=reject_constant,
        )
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: absurdly nested JSON
        _fail(ErrorCode.SIG_MALFORMED, "protected header is not base64url JSON")
    if not isinstance(header, dict):
        _fail(ErrorCode.SIG_MALFORMED, "protected header must be a JSON object")

    alg = header.get("alg")
    if not isinstance(alg, str):
        _fail(ErrorCode.SIG_MALFORMED, "protected header lacks alg")
    if alg != ES256:
        _fail(ErrorCode.SIG_ALG_UNSUPPORTED, f"alg {alg!r} is not accepted; only ES256")

    members = set(header)
    if not _REQUIRED_MEMBERS <= members or not members <= _ALLOWED_MEMBERS:
        _fail(
            ErrorCode.SIG_MALFORMED,
            f"header members must be {sorted(_REQUIRED_MEMBERS)} (+ optional att); "
            f"missing {sorted(_REQUIRED_MEMBERS - members)}, unexpected {sorted(members - _ALLOWED_MEMBERS)}",
        )
    if header["b64"] is not False or header["crit"] != ["b64"]:
        _fail(ErrorCode.SIG_MALFORMED, 'header must have "b64": false and "crit": ["b64"]')

    x5c = header["x5c"]
    if not isinstance(x5c, list) or len(x5c) != 1 or not isinstance(x5c[0], str):
        _fail(ErrorCode.SIG_MALFORMED, "x5c must hold exactly the signer's certificate")
    certificate = _certificate(x5c[0])
    if certificate is None:
        _fail(ErrorCode.SIG_MALFORMED, "x5c does not hold a DER certificate")

    sig_t = header["sigT"]
    if not isinstance(sig_t, str) or not _SIGT_RE.match(sig_t):
        _fail(ErrorCode.SIG_MALFORMED, "sigT must be YYYY-MM-DDTHH:MM:SSZ")
    try:  # the pattern fixed every digit's place; datetime refuses what is no time (month 13, 24:00)
        signing_time = datetime(
            int(sig_t[0:4]),
            int(sig_t[5:7]),
            int(sig_t[8:10]),
            int(sig_t[11:13]),
            int(sig_t[14:16]),
            int(sig_t[17:19]),
            tzinfo=UTC,
        )
    except ValueError:
        _fail(ErrorCode.SIG_MALFORMED, "sigT is not a valid time")

    try:
        kind = DocumentKind(header["kind"])
    except (ValueError, TypeError):
        _fail(ErrorCode.SIG_MALFORMED, "kind is not a known document kind")

    digest = header["sha256"]
    if not isinstance(digest, str) or not _SHA256_HEX_RE.match(digest):
        _fail(ErrorCode.SIG_MALFORMED, "sha256 must be 64 lower-case hex digits")

    att = header.get("att", {})
    if (
        not isinstance(att, dict)
        or len(att) > _MAX_ATTACHMENTS
        or not all(
            isinstance(k, str) and k and isinstance(v, str) and _SHA256_HEX_RE.match(v)
            for k, v in att.items()
        )
    ):
        _fail(ErrorCode.SIG_MALFORMED, "att must map names to lower-case hex SHA-256")

    try:
        signature = b64url_decode(signature_b64)
    except ValueError:
        _fail(ErrorCode.SIG_MALFORMED, "signature is not base64url")
    if len(signature) != _SIG_BYTES:
        _fail(
            ErrorCode.SIG_MALFORMED,
            f"ES256 signature must be {_SIG_BYTES} bytes (raw r||s), got {len(signature)}",
        )

    return _Parsed(
        protected_b64=protected_b64,
        signature=signature,
        certificate=certificate,
        signing_time=signing_time,
        kind=kind,
        payload_sha256=digest,
        attachments=MappingProxyType(dict(att)),
    )


@functools.lru_cache(maxsize=_CERTIFICATE_CACHE_SIZE)
def _certificate(x5c: str) -> x509.Certificate | None:
    """The certificate of an ``x5c`` entry (strict base64 of its DER), or None; cached by the exact text."""
    try:
        return x509.load_der_x509_certificate(_b64_decode_strict(x5c))
    except (ValueError, binascii.Error):
        return None


@dataclass(frozen=True)
class _Trust:
    """What a certificate is worth, whatever it signs and whenever: issued by which anchor (its index
    in the anchors, or None), and its participant profile (or why it fails it). Revocation and the
    validity period are not in here: they are judged at every verification."""

    anchor: int | None
    signer: ParticipantIdentity | None
    profile_error: str | None
    public_key: ec.EllipticCurvePublicKey | None


@functools.lru_cache(maxsize=_CERTIFICATE_CACHE_SIZE)
def _trust(cert: x509.Certificate, anchors: tuple[x509.Certificate, ...]) -> _Trust:
    """The chain and profile checks of ``cert``, done once per certificate and trust anchors.

    Cached by the certificate itself (its DER: a certificate is immutable, and another one with the
    same serial number is another key) and the anchors: the CA's signature on it and its extensions
    cannot change. A revoked certificate stays trusted here, and is refused by every verification
    (``is_revoked`` is asked each time, with the revocation list as it is then).
    """
    anchor = next((i for i, ca in enumerate(anchors) if verify_issued_by(cert, ca)), None)
    if anchor is None:
        return _Trust(None, None, None, None)
    try:
        signer = participant_from_certificate(cert)
    except CertificateProfileError as exc:
        return _Trust(anchor, None, exc.message, None)
    public_key = cert.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey):  # already excluded by the profile check
        return _Trust(anchor, None, "participant key must be ECDSA P-256", None)
    return _Trust(anchor, signer, None, public_key)


def _is_revoked(check: RevocationCheck, serial_number: int) -> bool:
    if callable(check):
        return bool(check(serial_number))
    return serial_number in check


def verify_detached(
    payload: bytes,
    jws: str,
    *,
    ca_cert: x509.Certificate | Sequence[x509.Certificate],
    is_revoked: RevocationCheck,
    expected_kind: DocumentKind,
    expected_signer: ExpectedSigner | None,
    now: datetime | None = None,
    max_signature_age: timedelta = DEFAULT_MAX_SIGNATURE_AGE,
    max_clock_skew: timedelta = DEFAULT_MAX_CLOCK_SKEW,
) -> VerifiedSignature:
    """Verify a detached JWS over ``payload``; return what it proves, or raise
    :class:`SignatureVerificationError`.

    Checks, in this order (the first failure is raised with its code):

    1. structure and header (``SIG_MALFORMED``; a wrong ``alg`` is ``SIG_ALG_UNSUPPORTED``);
    2. the ``x5c`` certificate was issued by (one of) ``ca_cert`` (``CERT_NOT_FROM_PLATFORM_CA``)
       and follows the participant profile (``CERT_PROFILE_INVALID``);
    3. the ES256 signature over header and payload, and the header's ``sha256`` (``SIG_INVALID``);
    4. the header ``kind`` is ``expected_kind``, the kind the gateway parsed from the document
       (``SIG_KIND_MISMATCH``);
    5. the claimed ``sigT`` is at most ``max_clock_skew`` after ``now`` (``SIG_TIME_IN_FUTURE``)
       and at most ``max_signature_age`` before it (``SIG_TIME_TOO_OLD``);
    6. the certificate was valid at ``sigT`` (``CERT_NOT_YET_VALID`` / ``CERT_EXPIRED``);
    7. ``is_revoked(serial)`` is false *now* (``CERT_REVOKED``) -- whatever time was claimed;
    8. the certificate's role may sign ``expected_kind`` (``SIG_ROLE_MISMATCH``, table
       :data:`~domain.roles.ALLOWED_SIGNER_ROLES`);
    9. ``expected_signer``, the issuer named by the document, matches the certificate
       (``SIG_SIGNER_MISMATCH``). Pass ``None`` only where the document names no issuer.

    ``now`` is the verifier's trusted time (default: the system clock). To re-verify an archived
    document, pass the trusted time the gateway first received it, and an ``is_revoked`` that
    answers as of that time (e.g. ``lambda s: revocations.is_revoked(s, at=received_at)``).
    """
    at = datetime.now(UTC) if now is None else now
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    anchors = (ca_cert,) if isinstance(ca_cert, x509.Certificate) else tuple(ca_cert)
    if not anchors:
        raise ValueError("at least one platform CA certificate is required")

    parsed = _parse(jws)
    cert = parsed.certificate

    # 2. Trust comes from the platform CA only (checked once per certificate: ``_trust``).
    trust = _trust(cert, anchors)
    if trust.anchor is None:
        _fail(ErrorCode.CERT_NOT_FROM_PLATFORM_CA, "signer certificate was not issued by the platform CA")
    if trust.signer is None or trust.public_key is None:
        _fail(ErrorCode.CERT_PROFILE_INVALID, trust.profile_error or "participant key must be ECDSA P-256")
    signer, public_key = trust.signer, trust.public_key

    # 3. Signature over the exact bytes.
    r = int.from_bytes(parsed.signature[:32], "big")
    s = int.from_bytes(parsed.signature[32:], "big")
    signing_input = parsed.protected_b64.encode("ascii") + b"." + payload
    try:
        public_key.verify(encode_dss_signature(r, s), signing_input, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        _fail(ErrorCode.SIG_INVALID, "signature does not verify over these bytes with the signer's key")
    payload_sha256 = sha256_hex(payload)
    if not hmac.compare_digest(payload_sha256, parsed.payload_sha256):
        _fail(ErrorCode.SIG_INVALID, "header sha256 does not match the payload")

    # 4. The signer's declared kind must be the document's kind.
    if parsed.kind != expected_kind:
        _fail(
            ErrorCode.SIG_KIND_MISMATCH, f"signed as {parsed.kind.value}, document is {expected_kind.value}"
        )

    # 5. Bound the claimed signing time.
    if parsed.signing_time > at + max_clock_skew:
        _fail(ErrorCode.SIG_TIME_IN_FUTURE, "claimed signing time is in the future")
    if parsed.signing_time < at - max_signature_age:
        _fail(ErrorCode.SIG_TIME_TOO_OLD, "claimed signing time is older than the accepted window")

    # 6. Certificate validity at the signing time.
    if parsed.signing_time < cert.not_valid_before_utc:
        _fail(ErrorCode.CERT_NOT_YET_VALID, "certificate was not yet valid at the signing time")
    if parsed.signing_time > cert.not_valid_after_utc:
        _fail(ErrorCode.CERT_EXPIRED, "certificate had expired at the signing time")

    # 7. Revocation, as known now.
    if _is_revoked(is_revoked, cert.serial_number):
        _fail(ErrorCode.CERT_REVOKED, "signer certificate is revoked")

    # 8. Role fits the kind.
    if signer.role not in ALLOWED_SIGNER_ROLES[expected_kind]:
        _fail(
            ErrorCode.SIG_ROLE_MISMATCH,
            f"role {signer.role.certificate_name} may not sign {expected_kind.value}",
        )

    # 9. The document's named issuer is the signer.
    if expected_signer is not None:
        mismatched = expected_signer.mismatches(signer)
        if mismatched:
            _fail(
                ErrorCode.SIG_SIGNER_MISMATCH,
                f"document issuer differs from signer in {', '.join(mismatched)}",
            )

    return VerifiedSignature(
        signer=signer,
        certificate=cert,
        serial_number=cert.serial_number,
        kind=parsed.kind,
        signing_time=parsed.signing_time,
        payload_sha256=payload_sha256,
        attachments=parsed.attachments,
    )
