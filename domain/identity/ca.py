"""The platform certificate authority: root, participant certificates, revocation reasons.

Certificate profile (see ``docs/identity.md`` for the full table):

* Root: self-signed, ECDSA P-256 / SHA-256, ``basicConstraints`` CA with ``pathLen 0`` (critical),
  ``keyUsage`` keyCertSign + cRLSign (critical), subject/authority key identifiers.
* Participant (end entity), P-256 public key only (signatures are ES256):

  ==========================  =========================================================================
  legal name                  subject ``commonName`` (UTF8String, at most 64 characters)
  registration / tax id       subject ``serialNumber`` (2.5.4.5, PrintableString)
  role                        private extension ``PARTICIPANT_ROLE_OID`` (non-critical), DER UTF8String
                              holding a :attr:`~domain.roles.Role.certificate_name`
  chain address               ``subjectAltName`` ``otherName`` with type-id ``CHAIN_ADDRESS_OID``,
                              DER UTF8String ``0x`` + 40 lower-case hex digits
  purpose                     ``keyUsage`` digitalSignature + nonRepudiation (critical),
                              ``extendedKeyUsage`` ``DOCUMENT_SIGNING_EKU_OID``,
                              ``basicConstraints`` CA:FALSE (critical)
  ==========================  =========================================================================

* Device (end entity, a warehouse's scale, counter, camera, thermometer, seal or GPS tag; issue 13),
  P-256 public key only (readings are ES256), issued by the same root:

  ==========================  =========================================================================
  device id                   subject ``commonName`` only (``dev-`` + lower-case letters, digits and
                              hyphens, at most 64 characters: :data:`DEVICE_ID_PATTERN`)
  binding                     private extension ``DEVICE_BINDING_OID`` (non-critical), DER UTF8String
                              holding canonical JSON (warehouse, location, kind, receipt ids); its
                              content is :mod:`domain.warehouse.devices`'s to write and judge
  purpose                     ``keyUsage`` digitalSignature only (critical), ``extendedKeyUsage``
                              exactly ``DEVICE_READING_EKU_OID``, ``basicConstraints`` CA:FALSE
                              (critical); no other extension but the key identifiers
  ==========================  =========================================================================

  A device certificate has neither the document-signing EKU, nor nonRepudiation, nor a role: it never
  passes :func:`participant_from_certificate`, so it never signs a trade document; a participant
  certificate lacks the device-reading EKU and the binding, so it never signs a reading.

The private OIDs live under ``2.25.19514733896413030184621657819183942797`` (a UUID-derived OID,
ITU-T X.667, which needs no registration): ``.1`` role, ``.2`` chain address, ``.3`` EKU, ``.4``
device binding, ``.5`` device-reading EKU.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from domain.identity.errors import CertificateProfileError
from domain.identity.keystore import ScryptParams, decrypt_private_key, encrypt_private_key
from domain.roles import Role

__all__ = [
    "CHAIN_ADDRESS_OID",
    "DEVICE_BINDING_OID",
    "DEVICE_ID_PATTERN",
    "DEVICE_READING_EKU_OID",
    "DOCUMENT_SIGNING_EKU_OID",
    "PARTICIPANT_ROLE_OID",
    "PLATFORM_OID_ARC",
    "CertificateAuthority",
    "ParticipantIdentity",
    "RevocationReason",
    "create_ca",
    "device_certificate_fields",
    "identity_record_hash",
    "load_ca",
    "load_certificate",
    "participant_from_certificate",
    "verify_issued_by",
]

PLATFORM_OID_ARC = "2.25.19514733896413030184621657819183942797"
PARTICIPANT_ROLE_OID = x509.ObjectIdentifier(PLATFORM_OID_ARC + ".1")
CHAIN_ADDRESS_OID = x509.ObjectIdentifier(PLATFORM_OID_ARC + ".2")
DOCUMENT_SIGNING_EKU_OID = x509.ObjectIdentifier(PLATFORM_OID_ARC + ".3")
#: A device certificate's binding to a warehouse, a location, a kind and receipts (canonical JSON).
DEVICE_BINDING_OID = x509.ObjectIdentifier(PLATFORM_OID_ARC + ".4")
#: The purpose of a device certificate: signing readings (and nothing else).
DEVICE_READING_EKU_OID = x509.ObjectIdentifier(PLATFORM_OID_ARC + ".5")
#: A device id: ``dev-``, then lower-case letters, digits and inner hyphens; 64 characters at most.
DEVICE_ID_PATTERN = r"\Adev-[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?\Z"

DEFAULT_CA_VALIDITY = timedelta(days=3650)
DEFAULT_PARTICIPANT_VALIDITY = timedelta(days=365)
DEFAULT_DEVICE_VALIDITY = timedelta(days=365)
#: The largest binding text a device certificate carries (the DER helper's bound is 65,535 bytes).
MAX_DEVICE_BINDING_BYTES = 16 * 1024

_CHAIN_ADDRESS_RE = re.compile(r"\A0x[0-9a-fA-F]{40}\Z")
# X.520 PrintableString alphabet (serialNumber must be PrintableString).
_REGISTRATION_ID_RE = re.compile(r"\A[A-Za-z0-9 '()+,\-./:=?]{1,64}\Z")
_DEVICE_ID_RE = re.compile(DEVICE_ID_PATTERN)
#: The extensions a device certificate carries: these and no other.
_DEVICE_EXTENSIONS = frozenset(
    {
        x509.BasicConstraints.oid,
        x509.KeyUsage.oid,
        x509.ExtendedKeyUsage.oid,
        DEVICE_BINDING_OID,
        x509.SubjectKeyIdentifier.oid,
        x509.AuthorityKeyIdentifier.oid,
    }
)


# --------------------------------------------------------------------------------------------------
# Identity
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipantIdentity:
    """Who a participant certificate names. Values are validated and normalized on creation.

    ``chain_address`` is stored lower-case; compare addresses case-insensitively (EIP-55 checksum
    casing is a display concern of the chain layer).
    """

    legal_name: str
    registration_id: str
    role: Role
    chain_address: str

    def __post_init__(self) -> None:
        name = unicodedata.normalize("NFC", self.legal_name)
        if not name or name != name.strip() or len(name) > 64:
            raise ValueError("legal_name must be 1-64 characters without surrounding whitespace")
        if any(unicodedata.category(c).startswith("C") for c in name):
            raise ValueError("legal_name must not contain control characters")
        if (
            not _REGISTRATION_ID_RE.match(self.registration_id)
            or self.registration_id != self.registration_id.strip()
        ):
            raise ValueError("registration_id must be 1-64 PrintableString characters")
        if not _CHAIN_ADDRESS_RE.match(self.chain_address):
            raise ValueError("chain_address must be 0x followed by 40 hex digits")
        object.__setattr__(self, "legal_name", name)
        object.__setattr__(self, "role", _as_role(self.role))
        object.__setattr__(self, "chain_address", self.chain_address.lower())


def _as_role(role: Role | str) -> Role:
    """A role given as the enum, its API value (``"supplier"``) or its certificate name (``"Supplier"``)."""
    if not isinstance(role, Role):
        try:
            role = Role(role)
        except ValueError:
            role = Role.from_certificate(role)
    if not role.certified:
        raise ValueError(f"the platform CA issues no certificate to the {role.value} role")
    return role


def identity_record_hash(identity: ParticipantIdentity, certificate: x509.Certificate) -> bytes:
    """SHA-256 of the canonical identity record, for ``IParticipantRegistry.onboard(identityHash)``.

    Canonical form: UTF-8 JSON with sorted keys and no whitespace of ``chain_address``,
    ``certificate_sha256`` (hex SHA-256 of the certificate DER), ``legal_name``,
    ``registration_id``, ``role``.
    """
    record = {
        "chain_address": identity.chain_address,
        "certificate_sha256": certificate.fingerprint(hashes.SHA256()).hex(),
        "legal_name": identity.legal_name,
        "registration_id": identity.registration_id,
        "role": identity.role.certificate_name,
    }
    canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).digest()


# --------------------------------------------------------------------------------------------------
# Minimal DER for the two private fields (UTF8String only)
# --------------------------------------------------------------------------------------------------

_UTF8STRING_TAG = 0x0C


def _der_utf8string(value: str) -> bytes:
    body = value.encode("utf-8")
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    elif n <= 0xFF:
        length = bytes([0x81, n])
    elif n <= 0xFFFF:
        length = bytes([0x82]) + n.to_bytes(2, "big")
    else:
        raise ValueError("value too long")
    return bytes([_UTF8STRING_TAG]) + length + body


def _parse_der_utf8string(der: bytes) -> str:
    """Strict DER UTF8String decode: right tag, minimal length, nothing trailing."""
    if len(der) < 2 or der[0] != _UTF8STRING_TAG:
        raise ValueError("not a UTF8String")
    first = der[1]
    if first < 0x80:
        n, offset = first, 2
    elif first == 0x81 and len(der) >= 3 and der[2] >= 0x80:
        n, offset = der[2], 3
    elif first == 0x82 and len(der) >= 4 and int.from_bytes(der[2:4], "big") > 0xFF:
        n, offset = int.from_bytes(der[2:4], "big"), 4
    else:
        raise ValueError("bad DER length")
    if len(der) != offset + n:
        raise ValueError("DER length does not match")
    return der[offset:].decode("utf-8")


# --------------------------------------------------------------------------------------------------
# Reading a participant certificate
# --------------------------------------------------------------------------------------------------


def load_certificate(data: bytes) -> x509.Certificate:
    """Load one certificate from PEM or DER bytes."""
    if data.lstrip().startswith(b"-----BEGIN"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


@contextmanager
def _names_by_characters() -> Iterator[None]:
    """A legal name's length is bounded in characters: RFC 5280's ub-common-name is 64 characters, which
    ``ParticipantIdentity`` checks. The cryptography library counts UTF-8 bytes instead (and warns when it
    reads such a name), which would cap a Chinese legal name at 21 characters: its length check is left to
    ours while a participant's name is written or read."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Attribute's length must be", category=UserWarning)
        yield


def participant_from_certificate(certificate: x509.Certificate) -> ParticipantIdentity:
    """Read and check the participant profile of ``certificate``.

    Raises :class:`CertificateProfileError` (``CERT_PROFILE_INVALID``) if the certificate is a CA,
    lacks the signing key usages / EKU, has a key other than P-256, or its identity fields are
    missing, repeated or malformed. It does *not* check the issuer, validity or revocation.
    """
    try:
        return _participant_from_certificate(certificate)
    except CertificateProfileError:
        raise
    except (ValueError, TypeError, UnicodeDecodeError, UnsupportedAlgorithm, x509.DuplicateExtension) as exc:
        raise CertificateProfileError(
            f"certificate cannot be parsed as a participant certificate: {exc}"
        ) from None


def _single_attribute(name: x509.Name, oid: x509.ObjectIdentifier, label: str) -> str:
    attrs = name.get_attributes_for_oid(oid)
    if len(attrs) != 1 or not isinstance(attrs[0].value, str):
        raise CertificateProfileError(f"subject must contain exactly one {label}")
    return attrs[0].value


def _participant_from_certificate(cert: x509.Certificate) -> ParticipantIdentity:
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise CertificateProfileError("participant key must be ECDSA P-256")
    exts = cert.extensions
    try:
        bc = exts.get_extension_for_class(x509.BasicConstraints).value
        ku = exts.get_extension_for_class(x509.KeyUsage).value
        eku = exts.get_extension_for_class(x509.ExtendedKeyUsage).value
        role_ext = exts.get_extension_for_oid(PARTICIPANT_ROLE_OID).value
        san = exts.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound as exc:
        raise CertificateProfileError(f"missing extension: {exc.oid.dotted_string}") from None
    if bc.ca:
        raise CertificateProfileError("a CA certificate cannot sign documents")
    if not (ku.digital_signature and ku.content_commitment):
        raise CertificateProfileError("keyUsage must include digitalSignature and nonRepudiation")
    if DOCUMENT_SIGNING_EKU_OID not in list(eku):
        raise CertificateProfileError("extendedKeyUsage must include the platform document-signing purpose")
    if not isinstance(role_ext, x509.UnrecognizedExtension):
        raise CertificateProfileError("role extension has an unexpected type")
    try:
        role = Role.from_certificate(_parse_der_utf8string(role_ext.value))
    except ValueError:
        raise CertificateProfileError("role extension does not hold a known role") from None
    addresses = [
        gn.value for gn in san.get_values_for_type(x509.OtherName) if gn.type_id == CHAIN_ADDRESS_OID
    ]
    if len(addresses) != 1:
        raise CertificateProfileError("subjectAltName must hold exactly one chain-address otherName")
    with _names_by_characters():
        subject = cert.subject
    try:
        return ParticipantIdentity(
            legal_name=_single_attribute(subject, NameOID.COMMON_NAME, "commonName"),
            registration_id=_single_attribute(subject, NameOID.SERIAL_NUMBER, "serialNumber"),
            role=role,
            chain_address=_parse_der_utf8string(addresses[0]),
        )
    except ValueError as exc:
        raise CertificateProfileError(f"identity fields are malformed: {exc}") from None


# --------------------------------------------------------------------------------------------------
# Reading a device certificate
# --------------------------------------------------------------------------------------------------


def device_certificate_fields(certificate: x509.Certificate) -> tuple[str, str]:
    """The device id and the binding text of a device certificate, after checking its profile.

    Raises :class:`CertificateProfileError` (``CERT_PROFILE_INVALID``) unless ``certificate`` is an
    end entity with a P-256 key, ``keyUsage`` digitalSignature alone, ``extendedKeyUsage`` exactly the
    device-reading purpose, a subject of one ``commonName`` matching :data:`DEVICE_ID_PATTERN`, one
    binding extension holding a DER UTF8String, and no extension beyond the profile's. The binding's
    JSON is not read here (see :func:`domain.warehouse.devices.device_from_certificate`); nor are the
    issuer, the validity or revocation checked.
    """
    try:
        return _device_certificate_fields(certificate)
    except CertificateProfileError:
        raise
    except (ValueError, TypeError, UnicodeDecodeError, UnsupportedAlgorithm, x509.DuplicateExtension) as exc:
        raise CertificateProfileError(
            f"certificate cannot be parsed as a device certificate: {exc}"
        ) from None


def _device_certificate_fields(cert: x509.Certificate) -> tuple[str, str]:
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise CertificateProfileError("device key must be ECDSA P-256")
    exts = cert.extensions
    extra = {e.oid for e in exts} - _DEVICE_EXTENSIONS
    if extra:
        names = ", ".join(sorted(oid.dotted_string for oid in extra))
        raise CertificateProfileError(f"a device certificate carries no other extension (found {names})")
    try:
        bc = exts.get_extension_for_class(x509.BasicConstraints).value
        ku = exts.get_extension_for_class(x509.KeyUsage).value
        eku = exts.get_extension_for_class(x509.ExtendedKeyUsage).value
        binding_ext = exts.get_extension_for_oid(DEVICE_BINDING_OID).value
    except x509.ExtensionNotFound as exc:
        raise CertificateProfileError(f"missing extension: {exc.oid.dotted_string}") from None
    if bc.ca:
        raise CertificateProfileError("a CA certificate is not a device certificate")
    usages = (ku.content_commitment, ku.key_encipherment, ku.data_encipherment, ku.key_agreement)
    if not ku.digital_signature or any(usages) or ku.key_cert_sign or ku.crl_sign:
        raise CertificateProfileError("keyUsage of a device must be digitalSignature alone")
    if list(eku) != [DEVICE_READING_EKU_OID]:
        raise CertificateProfileError(
            "extendedKeyUsage of a device must be exactly the device-reading purpose"
        )
    if not isinstance(binding_ext, x509.UnrecognizedExtension):
        raise CertificateProfileError("binding extension has an unexpected type")
    attributes = list(cert.subject)
    if len(attributes) != 1 or attributes[0].oid != NameOID.COMMON_NAME:
        raise CertificateProfileError("a device's subject is one commonName: its device id")
    device_id = attributes[0].value
    if not isinstance(device_id, str) or not _DEVICE_ID_RE.match(device_id):
        raise CertificateProfileError("commonName is not a device id (dev-<lower-case letters, digits, ->)")
    try:
        binding = _parse_der_utf8string(binding_ext.value)
    except (ValueError, UnicodeDecodeError):
        raise CertificateProfileError("binding extension does not hold a DER UTF8String") from None
    return device_id, binding


# --------------------------------------------------------------------------------------------------
# Revocation
# --------------------------------------------------------------------------------------------------


class RevocationReason(StrEnum):
    """Why a certificate was revoked: the RFC 5280 reason codes the platform uses (all permanent; there
    is no certificateHold)."""

    UNSPECIFIED = "unspecified"
    KEY_COMPROMISE = "keyCompromise"
    AFFILIATION_CHANGED = "affiliationChanged"
    SUPERSEDED = "superseded"
    CESSATION_OF_OPERATION = "cessationOfOperation"
    PRIVILEGE_WITHDRAWN = "privilegeWithdrawn"


# --------------------------------------------------------------------------------------------------
# The CA
# --------------------------------------------------------------------------------------------------


def _require_aware(value: datetime, label: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{label} must be timezone-aware")
    return value


#: How far before its issuance an end-entity certificate's validity starts when no ``not_before`` is given.
CLOCK_SKEW = timedelta(minutes=5)


def _utc(value: datetime | None, label: str) -> datetime:
    if value is None:
        return datetime.now(UTC).replace(microsecond=0)
    return _require_aware(value, label).astimezone(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class CertificateAuthority:
    """The platform CA: its certificate and (in memory only) its private key."""

    certificate: x509.Certificate
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        pub = self.private_key.public_key()
        if not isinstance(pub.curve, ec.SECP256R1):
            raise ValueError("platform CA key must be ECDSA P-256")
        if pub.public_numbers() != _ec_public_key(self.certificate).public_numbers():
            raise ValueError("CA private key does not match the CA certificate")
        try:
            bc = self.certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
            ku = self.certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            raise ValueError("CA certificate lacks basicConstraints or keyUsage") from None
        if not bc.ca or not ku.key_cert_sign or not ku.crl_sign:
            raise ValueError("certificate is not a CA certificate with keyCertSign and cRLSign")

    @property
    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def export_private_key(
        self, secret: bytes | str, *, associated_data: bytes = b"", params: ScryptParams | None = None
    ) -> bytes:
        """The CA key, sealed with :func:`domain.identity.keystore.encrypt_private_key`."""
        return encrypt_private_key(self.private_key, secret, associated_data=associated_data, params=params)

    def issue_certificate(
        self,
        public_key: ec.EllipticCurvePublicKey,
        identity: ParticipantIdentity,
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> x509.Certificate:
        """Issue a participant document-signing certificate for ``public_key``.

        Authorization (operator only) and identity vetting are the caller's job: this signs what it
        is given. ``not_before`` defaults to now, ``not_after`` to one year later; the window must
        lie inside the CA's own validity.
        """
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
            public_key.curve, ec.SECP256R1
        ):
            raise ValueError("participant key must be ECDSA P-256 (documents are signed with ES256)")
        start = self._start(not_before)
        end = _utc(not_after, "not_after") if not_after is not None else start + DEFAULT_PARTICIPANT_VALIDITY
        if end <= start:
            raise ValueError("not_after must be after not_before")
        if start < self.certificate.not_valid_before_utc or end > self.certificate.not_valid_after_utc:
            raise ValueError("participant validity must lie within the CA certificate's validity")
        with _names_by_characters():
            subject = x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, identity.legal_name, _validate=False),
                    x509.NameAttribute(NameOID.SERIAL_NUMBER, identity.registration_id),
                ]
            )
        extras: list[x509.ExtensionType] = [
            x509.SubjectAlternativeName(
                [x509.OtherName(CHAIN_ADDRESS_OID, _der_utf8string(identity.chain_address))]
            ),
            x509.UnrecognizedExtension(PARTICIPANT_ROLE_OID, _der_utf8string(identity.role.certificate_name)),
        ]
        return self._end_entity(
            subject, public_key, start, end, DOCUMENT_SIGNING_EKU_OID, extras, non_repudiation=True
        )

    def issue_certificate_from_csr(
        self,
        csr_pem: bytes,
        identity: ParticipantIdentity,
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> x509.Certificate:
        """Issue for the key in a PKCS#10 request after checking its self-signature (proof of possession).

        Only the CSR's public key is used; its requested subject and extensions are ignored -- the
        certificate's identity comes from the operator's vetted ``identity``.
        """
        csr = x509.load_pem_x509_csr(csr_pem)
        if not csr.is_signature_valid:
            raise ValueError("CSR signature is not valid (no proof of possession)")
        key = csr.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise ValueError("participant key must be ECDSA P-256 (documents are signed with ES256)")
        return self.issue_certificate(key, identity, not_before=not_before, not_after=not_after)

    def issue_device_certificate(
        self,
        public_key: ec.EllipticCurvePublicKey,
        device_id: str,
        binding: str,
        *,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> x509.Certificate:
        """Issue a device's reading-signing certificate for ``public_key`` (profile: module docstring).

        ``device_id`` becomes the subject's only ``commonName`` (:data:`DEVICE_ID_PATTERN`);
        ``binding`` is written as given into the binding extension: the canonical JSON made by
        :func:`domain.warehouse.devices.binding_json` (use
        :func:`domain.warehouse.devices.issue_device_certificate`, which makes and checks it).
        Registration (by the device's warehouse) is the caller's to authorize. ``not_before`` defaults
        to now, ``not_after`` to one year later, inside the CA's validity. Raises ``ValueError``.
        """
        if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(
            public_key.curve, ec.SECP256R1
        ):
            raise ValueError("device key must be ECDSA P-256 (readings are signed with ES256)")
        if not isinstance(device_id, str) or not _DEVICE_ID_RE.match(device_id):
            raise ValueError("device_id must be dev- followed by lower-case letters, digits and hyphens")
        if not isinstance(binding, str) or not binding.isascii() or not binding.isprintable():
            raise ValueError("binding must be printable ASCII (canonical JSON)")
        if not 0 < len(binding) <= MAX_DEVICE_BINDING_BYTES:
            raise ValueError(f"binding must be 1-{MAX_DEVICE_BINDING_BYTES} bytes")
        start = self._start(not_before)
        end = _utc(not_after, "not_after") if not_after is not None else start + DEFAULT_DEVICE_VALIDITY
        if end <= start:
            raise ValueError("not_after must be after not_before")
        if start < self.certificate.not_valid_before_utc or end > self.certificate.not_valid_after_utc:
            raise ValueError("device validity must lie within the CA certificate's validity")
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, device_id)])
        binding_ext = x509.UnrecognizedExtension(DEVICE_BINDING_OID, _der_utf8string(binding))
        return self._end_entity(subject, public_key, start, end, DEVICE_READING_EKU_OID, [binding_ext])

    def _start(self, not_before: datetime | None) -> datetime:
        """An end-entity certificate's ``not_before``: as given, or now less ``CLOCK_SKEW`` (but not before
        the CA's own), so that a signature or an observation made at once is not judged before it by a
        clock a little behind the gateway's (a device's, the chain's latest block)."""
        if not_before is not None:
            return _utc(not_before, "not_before")
        return max(_utc(None, "not_before") - CLOCK_SKEW, self.certificate.not_valid_before_utc)

    def _end_entity(
        self,
        subject: x509.Name,
        public_key: ec.EllipticCurvePublicKey,
        start: datetime,
        end: datetime,
        eku: x509.ObjectIdentifier,
        extras: list[x509.ExtensionType],
        *,
        non_repudiation: bool = False,
    ) -> x509.Certificate:
        """An end-entity certificate signed by this CA: ``basicConstraints`` CA:FALSE and ``keyUsage``
        digitalSignature (and nonRepudiation) both critical, the one ``eku``, then ``extras`` (all
        non-critical), subject and authority key identifiers."""
        ca_ski = self.certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=non_repudiation,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
        )
        for extension in extras:
            builder = builder.add_extension(extension, critical=False)
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False
        )
        return builder.sign(self.private_key, hashes.SHA256())


def _ec_public_key(cert: x509.Certificate) -> ec.EllipticCurvePublicKey:
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("certificate key is not an EC key")
    return key


def create_ca(
    common_name: str,
    *,
    organization: str | None = None,
    not_before: datetime | None = None,
    validity: timedelta = DEFAULT_CA_VALIDITY,
) -> CertificateAuthority:
    """Create a new self-signed platform root (fresh P-256 key). Persist it with
    :attr:`CertificateAuthority.certificate_pem` and :meth:`CertificateAuthority.export_private_key`."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = _utc(not_before, "not_before")
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organization:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    name = x509.Name(attrs)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + validity)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False)
        .sign(key, hashes.SHA256())
    )
    return CertificateAuthority(certificate=cert, private_key=key)


def load_ca(
    certificate_pem: bytes, encrypted_key: bytes, secret: bytes | str, *, associated_data: bytes = b""
) -> CertificateAuthority:
    """Load the CA from its certificate and its *encrypted* key.

    ``encrypted_key`` is either a sealed key from :meth:`CertificateAuthority.export_private_key`
    or a standard encrypted PKCS#8 PEM (``openssl genpkey ... -aes-256-cbc``); a plain-text key is
    refused. Raises :class:`~domain.identity.errors.DecryptionError` for a wrong secret and
    ``ValueError`` if the key does not match the certificate or the certificate is not a CA.
    """
    key = decrypt_private_key(encrypted_key, secret, associated_data=associated_data)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError("platform CA key must be ECDSA P-256")
    return CertificateAuthority(certificate=load_certificate(certificate_pem), private_key=key)


def verify_issued_by(certificate: x509.Certificate, ca_certificate: x509.Certificate) -> bool:
    """Whether ``certificate`` names ``ca_certificate`` as issuer and carries a valid signature by it."""
    try:
        certificate.verify_directly_issued_by(ca_certificate)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
